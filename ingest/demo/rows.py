"""Demo rows: the plan turned into log rows, vectorised with numpy, in chunks of local days sorted by time.

Over 300 lines: one vectorised pipeline (interactions, their companion rows, tokens, costs,
latencies) whose steps share the same arrays; split, each part would pass them all around.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from .catalog import (
    BULK_HOURS,
    CACHE_WRITES,
    CACHING,
    MODELS,
    NIGHT_HOURS,
    ROWS_PER_EVENT,
    WEEKDAY_HOURS,
    WEEKEND_HOURS,
    cdf_at,
    model_prices,
)
from .plan import OrgPlan, split_total

CHUNK_ROWS = 250_000

# ---------------------------------------------------------------- time of day


def _time_of_day(rng, profile: np.ndarray, n: int, limit: np.ndarray) -> np.ndarray:
    """Seconds since local midnight following an hourly profile, below limit (≤ 1 = whole day)."""
    p = profile / profile.sum()
    cum = np.concatenate([[0.0], np.cumsum(p)])
    cum[-1] = 1.0
    u = rng.random(n) * limit
    h = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, 23)
    return h * 3600 + (u - cum[h]) / np.maximum(p[h], 1e-12) * 3600


def _local_seconds(rng, org: OrgPlan, day: np.ndarray, profiles: tuple) -> np.ndarray:
    """Seconds since local midnight for events on these days (weekday/weekend profile)."""
    weekend = org.dow[day] >= 5
    out = np.empty(day.size)
    last = len(org.day_epoch) - 1
    for mask, prof in ((~weekend, profiles[0]), (weekend, profiles[1])):
        k = int(mask.sum())
        if not k:
            continue
        limit = np.where(day[mask] == last, cdf_at(prof, org.today_limit), 1.0)
        out[mask] = _time_of_day(rng, prof, k, limit)
    return np.minimum(out, 86_399.999)


def _to_utc_us(org: OrgPlan, day: np.ndarray, secs: np.ndarray) -> np.ndarray:
    hour = (secs // 3600).astype(np.int64)
    base = org.day_epoch[day] + org.delta[day, hour]
    return base * 1_000_000 + np.floor(secs * 1_000_000).astype(np.int64)


# ---------------------------------------------------------------- rows


def _ln(rng, median, sigma, n):
    return median * np.exp(rng.normal(0.0, sigma, n))


def _rows(org, action, ts, agent, user, model, byok, cost_null, inp, out, cr, cw):
    n = ts.size
    return {
        "org": np.full(n, org.index, dtype=np.int64),
        "ts": ts,
        "agent": np.asarray(agent, dtype=np.int64) * np.ones(n, dtype=np.int64),
        "user": np.asarray(user, dtype=np.int64) * np.ones(n, dtype=np.int64),
        "action": np.full(n, action, dtype=np.int64),
        "model": np.asarray(model, dtype=np.int64) * np.ones(n, dtype=np.int64),
        "byok": np.asarray(byok, dtype=bool) & np.ones(n, dtype=bool),
        "cost_null": np.asarray(cost_null, dtype=bool) & np.ones(n, dtype=bool),
        "inp": inp,
        "out": out,
        "cr": cr,
        "cw": cw,
    }


def _caching(rng, model: np.ndarray, prompt: np.ndarray, hit_p: float, lo: float, hi: float):
    """Split prompt tokens into (input not from cache, cache read, cache write ⊆ input)."""
    n = prompt.size
    prov = np.array([m[0] for m in MODELS])[model]
    can = np.isin(prov, list(CACHING))
    hit = can & (rng.random(n) < hit_p)
    cr = np.where(hit, np.floor(prompt * rng.uniform(lo, hi, n)), 0).astype(np.int64)
    inp = prompt - cr
    write = np.isin(prov, list(CACHE_WRITES)) & ~hit & (rng.random(n) < 0.5)
    cw = np.where(write, np.floor(inp * rng.uniform(0.5, 0.9, n)), 0).astype(np.int64)
    return inp, cr, cw


def _interactions(rng, org: OrgPlan, agent_base: int, d0: int, d1: int, target: int) -> list[dict]:
    """Exactly `target` rows of user interactions with their companions on days [d0, d1)."""
    if target <= 0:
        return []
    per_day = org.events_per_day[d0:d1]
    scale = 1.0
    while True:
        counts = per_day if scale == 1.0 else rng.poisson(per_day * scale)
        day = np.repeat(np.arange(d0, d1), counts)
        if day.size == 0:
            day = rng.choice(np.arange(d0, d1), size=max(1, target))
        n = day.size
        ag = org.agents
        weights = np.array([a.weight for a in ag])
        launch = np.array([a.launch_day for a in ag])
        agent = rng.choice(len(ag), size=n, p=weights / weights.sum())
        for _ in range(4):  # agents launched later than the day: pick again
            bad = day < launch[agent]
            if not bad.any():
                break
            agent[bad] = rng.choice(len(ag), size=int(bad.sum()), p=weights / weights.sum())
        agent[day < launch[agent]] = 0
        has_guard = np.array([a.guard for a in ag])[agent] & (rng.random(n) < 0.95)
        has_rag = np.array([a.rag for a in ag])[agent] & (rng.random(n) < 0.9)
        has_title = rng.random(n) < 0.25
        size = 1 + has_guard + has_rag + has_title
        if size.sum() >= target:
            break
        scale *= 1.3
    # Keep a random subset of whole events (plus the head of one) with exactly `target` rows.
    perm = rng.permutation(n)
    rank = np.empty(n, dtype=np.int64)
    rank[perm] = np.arange(n)
    cs = np.cumsum(size[perm])
    k = int(np.searchsorted(cs, target, side="right"))
    rem = target - (int(cs[k - 1]) if k else 0)
    full, part = rank < k, rank == k
    keep_ui = full | (part & (rem >= 1))
    keep_guard = has_guard & (full | (part & (rem >= 2)))
    keep_rag = has_rag & (full | (part & (rem >= 2 + has_guard)))
    keep_title = has_title & (full | (part & (rem >= 2 + has_guard + has_rag)))

    sel = keep_ui
    day, agent = day[sel], agent[sel]
    keep_guard, keep_rag, keep_title = keep_guard[sel], keep_rag[sel], keep_title[sel]
    n = day.size
    secs = _local_seconds(rng, org, day, (WEEKDAY_HOURS, WEEKEND_HOURS))
    ts = _to_utc_us(org, day, secs)
    growth = org.growth[day]
    pool = np.maximum(1, np.ceil(len(org.user_ids) * (0.35 + 0.65 * growth))).astype(np.int64)
    user = np.minimum((pool * rng.random(n) ** 1.7).astype(np.int64), len(org.user_ids) - 1)
    byok = rng.random(n) < np.array([a.byok_p for a in ag])[agent]
    cost_null = byok & ~np.array([a.byok_cost for a in ag])[agent]
    model = np.array([a.model for a in ag])[agent]
    old = np.array([a.old_model for a in ag])[agent]
    model = np.where((old >= 0) & (day < np.array([a.switch_day for a in ag])[agent]), old, model)

    prompt = (
        np.array([a.prompt_median for a in ag])[agent] * np.exp(rng.normal(0, 0.55, n))
        + np.where(keep_rag, _ln(rng, 1400, 0.4, n), 0)
    ).astype(np.int64) + 20
    out = (np.array([a.output_median for a in ag])[agent] * np.exp(rng.normal(0, 0.7, n))).astype(np.int64) + 1
    inp, cr, cw = _caching(rng, model, prompt, 0.62, 0.45, 0.92)
    gagent = agent + agent_base
    res = [_rows(org, 0, ts, gagent, user, model, byok, cost_null, inp, out, cr, cw)]

    g = keep_guard
    if g.any():
        k = int(g.sum())
        gm = np.full(k, org.guard_model)
        gin, gcr, gcw = _caching(rng, gm, _ln(rng, 520, 0.3, k).astype(np.int64) + 30, 0.85, 0.6, 0.85)
        res.append(
            _rows(
                org,
                1,
                ts[g] - rng.integers(150_000, 900_000, k),
                gagent[g],
                user[g],
                gm,
                False,
                False,
                gin,
                _ln(rng, 6, 0.4, k).astype(np.int64) + 1,
                gcr,
                gcw,
            )
        )
    t = keep_title
    if t.any():
        k = int(t.sum())
        res.append(
            _rows(
                org,
                2,
                ts[t] + rng.integers(500_000, 3_000_000, k),
                gagent[t],
                user[t],
                org.title_model,
                False,
                False,
                _ln(rng, 180, 0.5, k).astype(np.int64) + 10,
                _ln(rng, 11, 0.3, k).astype(np.int64) + 2,
                np.zeros(k, np.int64),
                np.zeros(k, np.int64),
            )
        )
    r = keep_rag
    if r.any():
        k = int(r.sum())
        res.append(
            _rows(
                org,
                3,
                ts[r] - rng.integers(50_000, 400_000, k),
                gagent[r],
                user[r],
                org.embed_model,
                byok[r],
                cost_null[r],
                _ln(rng, 28, 0.6, k).astype(np.int64) + 3,
                np.zeros(k, np.int64),
                np.zeros(k, np.int64),
                np.zeros(k, np.int64),
            )
        )
    return res


def _indexing(rng, org: OrgPlan, user_base: int, d0: int, d1: int) -> list[dict]:
    """Document-indexing rows of the batches planned on days [d0, d1): no agent."""
    b = org.batches[(org.batches["day"] >= d0) & (org.batches["day"] < d1)]
    if not len(b):
        return []
    day = b["day"].to_numpy()
    kind = b["kind"].to_numpy()
    start = np.empty(len(b))
    for k, profiles in (
        (0, (NIGHT_HOURS, NIGHT_HOURS)),
        (1, (WEEKDAY_HOURS, WEEKEND_HOURS)),
        (2, (BULK_HOURS, BULK_HOURS)),
    ):
        m = kind == k
        if m.any():
            start[m] = _local_seconds(rng, org, day[m], profiles)
    start_us = _to_utc_us(org, day, start)
    size = b["size"].to_numpy()
    n = int(size.sum())
    gap = rng.exponential(np.repeat(np.where(kind == 2, 80_000, 300_000), size)).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    gap[first] = 0
    cs = np.cumsum(gap)
    ts = np.repeat(start_us, size) + cs - np.repeat(cs[first], size)
    user = np.repeat(b["user"].to_numpy(), size)
    user = np.where(user >= 0, user + user_base, -1)
    return [
        _rows(
            org,
            4,
            ts,
            -1,
            user,
            org.embed_model,
            np.repeat(b["byok"].to_numpy(), size),
            np.repeat(b["cost_null"].to_numpy(), size),
            np.minimum(_ln(rng, 650, 0.35, n).astype(np.int64) + 20, 8191),
            np.zeros(n, np.int64),
            np.zeros(n, np.int64),
            np.zeros(n, np.int64),
        )
    ]


def _finish(rng, parts: list[dict], prices: np.ndarray, now_us: int) -> dict:
    """Concatenate row parts; add cost, latency and the now clamp."""
    rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = rows["ts"].size
    late = rows["ts"] >= now_us  # a title or a batch running past now: pull it back
    if late.any():
        rows["ts"][late] = now_us - 1 - rng.integers(0, 60_000_000, int(late.sum()))
    m = rows["model"]
    pr = prices[m]
    cost = (
        (rows["inp"] - rows["cw"]) * pr[:, 0] + rows["out"] * pr[:, 1] + rows["cr"] * pr[:, 2] + rows["cw"] * pr[:, 3]
    ) / 1e6
    rows["cost"] = np.where(rows["cost_null"], np.nan, np.round(cost, 8))
    ttft = np.array([x[3] for x in MODELS], dtype=float)[m]
    tps = np.array([x[4] for x in MODELS], dtype=float)[m]
    work = np.where(tps > 0, rows["out"] / np.maximum(tps, 1) * 1000, rows["inp"] / 40)
    lat = np.round((ttft + work) * np.exp(rng.normal(0, 0.3, n))).astype(np.int64)
    rows["lat"] = np.where(rng.random(n) < 0.015, -1, lat)
    return rows


def _sorted(rows: dict, order: np.ndarray) -> dict:
    return {k: v[order] for k, v in rows.items()}


def _chunks(plans: list[OrgPlan], days: int, chunk_rows: int) -> list[tuple[int, int]]:
    est = np.zeros(days)
    for p in plans:
        est += p.events_per_day * ROWS_PER_EVENT
        est += np.bincount(p.batches["day"], weights=p.batches["size"], minlength=days)[:days]
    out, start, acc = [], 0, 0.0
    for d in range(days):
        acc += est[d]
        if acc >= chunk_rows and d + 1 < days:
            out.append((start, d + 1))
            start, acc = d + 1, 0.0
    out.append((start, days))
    return out


def generate_rows(plans: list[OrgPlan], days: int, seed: int, now: datetime, chunk_rows: int = CHUNK_ROWS):
    """Yield dicts of row arrays, each sorted by created_at and all of them in order."""
    prices = model_prices()
    now_us = int(now.timestamp() * 1_000_000)
    chunks = _chunks(plans, days, chunk_rows)
    # Interaction rows of each org split exactly over the chunks.
    shares = [
        split_total(p.interaction_rows, np.array([p.events_per_day[a:b].sum() for a, b in chunks])) for p in plans
    ]
    agent_base = np.cumsum([0] + [len(p.agents) for p in plans])
    user_base = np.cumsum([0] + [len(p.user_ids) for p in plans])
    carry = None
    for ci, (d0, d1) in enumerate(chunks):
        rng = np.random.default_rng([seed, 1, ci])
        parts = []
        for p in plans:
            prng = np.random.default_rng([seed, p.index, 1, ci])
            for part in _interactions(prng, p, int(agent_base[p.index]), d0, d1, int(shares[p.index][ci])):
                part["user"] = np.where(part["user"] >= 0, part["user"] + user_base[p.index], -1)
                parts.append(part)
            parts += _indexing(prng, p, int(user_base[p.index]), d0, d1)
        if parts:
            rows = _finish(rng, parts, prices, now_us)
            if carry is not None:
                rows = {k: np.concatenate([carry[k], rows[k]]) for k in rows}
        elif carry is not None:
            rows = carry
        else:
            continue
        rows = _sorted(rows, np.argsort(rows["ts"], kind="stable"))
        if d1 < days:
            # Later chunks start at the earliest local midnight of day d1 (less a second
            # for a guardrail before its interaction): rows after that wait for them.
            cut = min(int(p.day_epoch[d1] + p.delta[d1, 0]) for p in plans) * 1_000_000 - 2_000_000
            k = int(np.searchsorted(rows["ts"], cut))
            carry = {key: v[k:] for key, v in rows.items()}
            rows = {key: v[:k] for key, v in rows.items()}
        else:
            carry = None
        if rows["ts"].size:
            yield rows
