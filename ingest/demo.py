"""Demo data: months of realistic usage for a few organizations, generated vectorised.

The story every chart should tell:
- a daily cycle in each org's local time (office hours, a lunch dip, quiet nights) and
  a weekly one (weekends low), growth over the months, August and Christmas dips;
- two bulk document-indexing days (token spikes) and nightly re-indexing jobs;
- 20+ agents per org, launched at different times, one group migrating from gpt-4o to
  claude-sonnet-4-5 mid-period, on real models the genai-prices catalogue knows plus
  one self-hosted model without a public price;
- a user_interaction brings its guardrail_check, rag_query_embedding and (first message
  of a conversation) title_generation rows within seconds; ~20% BYOK rows, many of
  them without a reported cost; cache reads where the provider caches prompts.

Rows are generated in chunks of local days with numpy, sorted by created_at across
orgs, and loaded with COPY (PostgreSQL) or executemany (SQLite) in one transaction, so
the database assigns ids in created_at order and a failed run leaves nothing behind.
"""
from __future__ import annotations

import io
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.schema import ACTION_TYPES, SOURCES, agents as agents_table, token_usage_logs

CHUNK_ROWS = 250_000
TIMEZONES = ["Europe/Madrid", "America/Mexico_City", "America/Bogota",
             "America/Argentina/Buenos_Aires", "America/Santiago", "America/Lima"]

# provider, model, kind, time to first token (ms), output tokens per second
MODELS = [
    ("anthropic", "claude-sonnet-4-5", "chat", 1400, 70),
    ("anthropic", "claude-haiku-4-5", "chat", 600, 140),
    ("anthropic", "claude-opus-4-1", "chat", 2500, 40),
    ("openai", "gpt-4o", "chat", 900, 90),
    ("openai", "gpt-4o-mini", "chat", 550, 120),
    ("openai", "gpt-4.1-mini", "chat", 600, 110),
    ("openai", "text-embedding-3-small", "embed", 140, 0),
    ("google", "gemini-2.5-flash", "chat", 700, 180),
    ("google", "gemini-2.5-pro", "chat", 3500, 90),
    ("google", "gemini-embedding-001", "embed", 190, 0),
    ("mistral", "mistral-large-latest", "chat", 800, 60),
    ("mistral", "mistral-small-latest", "chat", 400, 130),
    ("mistral", "mistral-embed", "embed", 170, 0),
    # Self-hosted: no public price (the savings card counts it as skipped); the
    # platform charges an internal GPU rate for it.
    ("selfhosted", "salamandra-7b-instruct", "chat", 300, 45),
]
M = {m[1]: i for i, m in enumerate(MODELS)}
CUSTOM_PRICE = (0.20, 0.20, 0.20, 0.20)  # USD per MTok: in, out, cache read, cache write
CACHING = {"anthropic", "openai", "google"}  # providers with prompt caching
CACHE_WRITES = {"anthropic"}  # explicit cache writes, billed apart

# Three org profiles (later orgs cycle through them): chat models with weights, and the
# models behind guardrails, titles and embeddings.
PROFILES = [
    dict(chat={"claude-sonnet-4-5": 5, "gpt-4o-mini": 3, "gemini-2.5-flash": 3, "gpt-4o": 2,
               "claude-haiku-4-5": 2, "mistral-large-latest": 2, "gemini-2.5-pro": 1,
               "claude-opus-4-1": 1, "salamandra-7b-instruct": 1},
         must=["mistral-large-latest", "salamandra-7b-instruct", "gemini-2.5-flash", "claude-opus-4-1"],
         migrate=("gpt-4o", "claude-sonnet-4-5"),
         guard="claude-haiku-4-5", title="gpt-4o-mini", embed="text-embedding-3-small"),
    dict(chat={"gpt-4o": 4, "gpt-4o-mini": 4, "gpt-4.1-mini": 3, "gemini-2.5-flash": 3,
               "claude-sonnet-4-5": 2},
         must=["claude-sonnet-4-5"], migrate=("gpt-4o-mini", "gpt-4.1-mini"),
         guard="gpt-4o-mini", title="gpt-4o-mini", embed="gemini-embedding-001"),
    dict(chat={"mistral-large-latest": 4, "mistral-small-latest": 4, "claude-haiku-4-5": 2,
               "gemini-2.5-flash": 2, "salamandra-7b-instruct": 2},
         must=["salamandra-7b-instruct"], migrate=None,
         guard="mistral-small-latest", title="mistral-small-latest", embed="mistral-embed"),
]

AGENT_NAMES = [
    "Brújula · Soporte al cliente", "Cervantes · Redacción", "Faro · Base de conocimiento",
    "Lince · Detección de fraude", "Colibrí · Atención por WhatsApp", "Quijote · Contratos",
    "Sancho · Asistente de ventas", "Alhambra · Reservas", "Giralda · Turismo",
    "Tizona · Ciberseguridad", "Azahar · Marketing", "Mirlo · Transcripción de llamadas",
    "Veleta · Previsión de demanda", "Atalaya · Cumplimiento normativo",
    "Candela · Recursos humanos", "Duende · Onboarding", "Albero · Logística",
    "Pícaro · Cobros", "Retablo · Catálogo de productos", "Zarzuela · Redes sociales",
    "Olivo · Finanzas", "Marea · Incidencias TI", "Jara · Compras", "Estela · Formación",
    "Cigarra · Encuestas", "Tertulia · Chat interno", "Mudéjar · Traducción",
    "Alborada · Informes", "Romero · Prevención de riesgos", "Sobremesa · Recetas",
]
AVATAR_COLORS = ["#e76f51", "#2a9d8f", "#264653", "#f4a261", "#8e44ad", "#3a86ff", "#d62828", "#588157"]

# Local-hour activity: office hours with the Spanish lunch dip; weekends flat and low.
WEEKDAY_HOURS = np.array([0.6, 0.35, 0.25, 0.2, 0.2, 0.3, 0.8, 2.0, 5.0, 8.5, 10, 10.5,
                          10, 9, 6, 5.5, 8, 8.5, 7.5, 5, 3.5, 2.6, 1.8, 1.1])
WEEKEND_HOURS = np.array([1.0, 0.7, 0.5, 0.4, 0.3, 0.3, 0.4, 0.6, 1.0, 1.6, 2.2, 2.6,
                          2.8, 2.6, 2.2, 2.0, 2.1, 2.2, 2.1, 1.9, 1.7, 1.5, 1.3, 1.1])
NIGHT_HOURS = np.array([0, 1, 1, 1, 0.5] + [0] * 19, dtype=float)  # scheduled re-indexing
BULK_HOURS = np.array([0] * 8 + [1] * 12 + [0] * 4, dtype=float)
DOW_FACTOR = np.array([1.0, 1.05, 1.05, 1.0, 0.85, 0.22, 0.16])  # Monday = 0
GROWTH_PER_YEAR = 4.5
ROWS_PER_EVENT = 2.6  # a user_interaction with its companions, on average
INDEXING_SHARE = 0.15
BULK_SHARES = ((0.62, 0.25), (0.86, 0.10))  # (position in the period, share of indexing rows)


# ---------------------------------------------------------------- prices


def _base(price) -> float | None:
    if price is None:
        return None
    if isinstance(price, (int, float, Decimal)):
        return float(price)
    base = getattr(price, "base", None)
    return float(base) if base is not None else None


def model_prices() -> np.ndarray:
    """USD per MTok (input, output, cache read, cache write) of every demo model."""
    from genai_prices import Usage, calc_price

    out = np.zeros((len(MODELS), 4))
    for i, (provider, model, *_rest) in enumerate(MODELS):
        try:
            mp = calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model,
                            provider_id=provider).model_price
        except Exception:  # not in the catalogue: the self-hosted model
            out[i] = CUSTOM_PRICE
            continue
        inp = _base(mp.input_mtok) or 0.0
        outp = _base(getattr(mp, "output_mtok", None))
        cr = _base(getattr(mp, "cache_read_mtok", None))
        cw = _base(getattr(mp, "cache_write_mtok", None))
        out[i] = (inp, inp if outp is None else outp, inp if cr is None else cr, inp if cw is None else cw)
    return out


# ---------------------------------------------------------------- the plan


@dataclass
class Agent:
    id: str
    name: str
    avatar_url: str | None
    weight: float
    model: int
    old_model: int
    switch_day: int
    launch_day: int
    rag: bool
    guard: bool
    byok_p: float
    byok_cost: bool
    prompt_median: float
    output_median: float


@dataclass
class OrgPlan:
    index: int
    org_id: str
    tz: str
    rows: int
    agents: list
    user_ids: np.ndarray
    guard_model: int
    title_model: int
    embed_model: int
    day_epoch: np.ndarray  # naive local midnight of each day, epoch seconds
    delta: np.ndarray  # (days, 24): UTC minus naive local seconds, per local hour
    dow: np.ndarray
    growth: np.ndarray  # 0..1 over the period (user pool size)
    events_per_day: np.ndarray
    interaction_rows: int
    batches: pd.DataFrame  # indexing batches: day, kind, size, byok, cost_null, user
    today_limit: float  # seconds since local midnight of now, on the last day


def _avatar(name: str, color: str) -> str:
    """A small robot portrait on the agent's colour (an image, unlike the UI's initials)."""
    del name  # every agent gets the same face; the colour tells them apart
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64' viewBox='0 0 64 64'>"
        f"<rect width='64' height='64' rx='32' fill='{color}'/>"
        "<rect x='30' y='10' width='4' height='8' rx='2' fill='white'/>"
        "<circle cx='32' cy='10' r='4' fill='white'/>"
        "<rect x='14' y='18' width='36' height='30' rx='9' fill='white'/>"
        f"<circle cx='25' cy='32' r='5' fill='{color}'/><circle cx='39' cy='32' r='5' fill='{color}'/>"
        f"<rect x='24' y='41' width='16' height='3' rx='1.5' fill='{color}'/>"
        "</svg>"
    )
    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def _slug(name: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", name.split(" · ")[0]).encode("ascii", "ignore").decode()
    return s.lower().replace(" ", "-")


def _org_weights(n: int) -> np.ndarray:
    if n == 1:
        return np.array([1.0])
    rest = 1.0 / np.arange(2, n + 1)
    return np.concatenate([[0.6], 0.4 * rest / rest.sum()])


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers summing to total, proportional to weights (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    short = total - out.sum()
    if short:
        out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def _plan_agents(rng, org_id: str, profile: dict, days: int) -> list[Agent]:
    n = 20 + int(rng.integers(0, 6))
    names = rng.permutation(AGENT_NAMES)[:n]
    weights = 1.0 / np.arange(1, n + 1) ** 0.9
    weights /= weights.sum()
    chat = list(profile["chat"])
    p = np.array([profile["chat"][m] for m in chat], dtype=float)
    models = list(rng.choice(chat, size=n, p=p / p.sum()))
    for k, m in enumerate(profile["must"]):  # every profile model shows up somewhere
        if m not in models:
            models[n - 1 - k] = m
    migrate = profile["migrate"]  # some agents on the new model came from the old one
    byok_order = [k for k in rng.permutation(np.arange(1, n))]
    byok, share = set(), 0.0
    for k in byok_order:
        if share >= 0.3:
            break
        byok.add(k)
        share += weights[k]
    p_hi = min(0.97, max(0.35, (0.34 - 0.04 * (1 - share)) / max(share, 1e-9)))
    out = []
    for k, name in enumerate(names):
        model = M[models[k]]
        old = -1
        switch = -1
        if migrate and models[k] == migrate[1] and k < n // 2 and rng.random() < 0.7:
            old, switch = M[migrate[0]], int(days * rng.uniform(0.45, 0.6))
        launched_late = k > 2 and rng.random() < 0.3
        out.append(Agent(
            id=f"{org_id}-{_slug(name)}",
            name=str(name),
            avatar_url=_avatar(str(name), AVATAR_COLORS[k % len(AVATAR_COLORS)]) if rng.random() < 0.55 else None,
            weight=float(weights[k]),
            model=model,
            old_model=old,
            switch_day=switch,
            launch_day=int(days * rng.uniform(0.1, 0.8)) if launched_late else -1,
            rag=bool(rng.random() < 0.7),
            guard=bool(rng.random() < 0.85),
            byok_p=p_hi if k in byok else 0.04,
            byok_cost=bool(rng.random() < 0.45),
            prompt_median=float(1800 * np.exp(rng.normal(0, 0.5))),
            output_median=float(300 * np.exp(rng.normal(0, 0.4))),
        ))
    return out


def _calendar(tz: str, days: int, now: datetime):
    """Local days ending today: naive midnights, UTC offsets per hour, weekday, month/day."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    today = np.datetime64(local_now.date(), "D")
    dates = today - np.arange(days - 1, -1, -1)
    day_epoch = dates.astype("datetime64[s]").astype(np.int64)
    naive = (day_epoch[:, None] + np.arange(24) * 3600).ravel()
    aware = pd.DatetimeIndex(naive.astype("datetime64[s]")).tz_localize(
        zone, ambiguous=np.ones(naive.size, dtype=bool), nonexistent="shift_forward")
    delta = (aware.as_unit("s").asi8 - naive).reshape(days, 24)
    dow = (dates.astype(np.int64) + 3) % 7
    di = pd.DatetimeIndex(dates)
    limit = (local_now.replace(tzinfo=None) - datetime.combine(local_now.date(), datetime.min.time())).total_seconds()
    return day_epoch, delta, dow, np.asarray(di.month), np.asarray(di.day), limit


def plan(orgs: int, days: int, rows: int, seed: int, org_prefix: str, now: datetime) -> list[OrgPlan]:
    """Decide everything but the rows themselves: orgs, agents, users, per-day volumes."""
    org_rows = _split(rows, _org_weights(orgs))
    plans = []
    for i in range(orgs):
        rng = np.random.default_rng([seed, i, 0])
        org_id = org_prefix if i == 0 else f"{org_prefix}-{i + 1}"
        tz = TIMEZONES[i % len(TIMEZONES)]
        profile = PROFILES[i % len(PROFILES)]
        agents = _plan_agents(rng, org_id, profile, days)
        day_epoch, delta, dow, month, mday, limit = _calendar(tz, days, now)

        age = np.arange(days - 1, -1, -1)  # days before today
        growth = np.exp(-np.log(GROWTH_PER_YEAR) * age / 365)
        w = growth * DOW_FACTOR[dow] * np.exp(rng.normal(0, 0.12, days))
        w[((month == 12) & (mday >= 24)) | ((month == 1) & (mday <= 6))] *= 0.5
        if tz == "Europe/Madrid":
            w[month == 8] *= 0.65
        w[-1] *= _cdf_at(WEEKEND_HOURS if dow[-1] >= 5 else WEEKDAY_HOURS, limit)  # today so far

        n = int(org_rows[i])
        idx_rows = int(round(n * INDEXING_SHARE)) if n >= 20 else 0
        inter = n - idx_rows
        events = int(np.ceil(inter / ROWS_PER_EVENT * 1.12)) + 3 if inter else 0
        per_day = rng.multinomial(events, w / w.sum()) if events else np.zeros(days, np.int64)

        users = max(8, min(5000, n // 600))
        user_ids = np.array([f"usr_{x:08x}" for x in rng.choice(2**32, size=users, replace=False)], dtype=object)
        plans.append(OrgPlan(
            index=i, org_id=org_id, tz=tz, rows=n, agents=agents, user_ids=user_ids,
            guard_model=M[profile["guard"]], title_model=M[profile["title"]], embed_model=M[profile["embed"]],
            day_epoch=day_epoch, delta=delta, dow=dow, growth=growth / growth[-1],
            events_per_day=per_day, interaction_rows=inter,
            batches=_plan_batches(rng, idx_rows, w, dow, days, users), today_limit=limit,
        ))
    return plans


def _plan_batches(rng, total: int, w: np.ndarray, dow: np.ndarray, days: int, users: int) -> pd.DataFrame:
    """Indexing batches: two bulk days, nightly re-indexing and daytime uploads."""
    parts = []
    remaining = total
    for pos, share in BULK_SHARES:
        n = int(round(total * share))
        if n <= 0:
            continue
        day = int((days - 1) * pos)
        while day > 0 and dow[day] >= 5:  # bulk jobs run on working days
            day -= 1
        sizes = _sizes(rng, n, lambda k: rng.integers(200, 600, k))
        parts.append(pd.DataFrame({"day": day, "kind": 2, "size": sizes, "byok": False,
                                   "cost_null": False, "user": int(rng.integers(0, users))}))
        remaining -= n
    if remaining > 0:
        sizes = _sizes(rng, remaining, lambda k: np.maximum(1, np.round(30 * np.exp(rng.normal(0, 1.0, k)))))
        k = len(sizes)
        kind = (rng.random(k) >= 0.45).astype(np.int64)  # 0 nightly, 1 daytime
        byok = rng.random(k) < 0.2
        user = np.where((kind == 1) & (rng.random(k) < 0.65), rng.integers(0, users, k), -1)
        parts.append(pd.DataFrame({"day": rng.choice(days, size=k, p=w / w.sum()), "kind": kind,
                                   "size": sizes, "byok": byok, "cost_null": byok & (rng.random(k) < 0.5),
                                   "user": user}))
    if not parts:
        return pd.DataFrame({"day": [], "kind": [], "size": [], "byok": [], "cost_null": [], "user": []}).astype(
            {"day": np.int64, "kind": np.int64, "size": np.int64, "byok": bool, "cost_null": bool, "user": np.int64})
    return pd.concat(parts, ignore_index=True).astype({"day": np.int64, "size": np.int64, "user": np.int64})


def _sizes(rng, total: int, draw) -> np.ndarray:
    """Batch sizes drawn until they add up to total exactly."""
    out, have = [], 0
    while have < total:
        s = np.asarray(draw(max(8, (total - have) // 100 + 8)), dtype=np.int64)
        out.append(s)
        have += int(s.sum())
    sizes = np.concatenate(out)
    cs = np.cumsum(sizes)
    k = int(np.searchsorted(cs, total))
    sizes = sizes[: k + 1].copy()
    sizes[-1] -= cs[k] - total
    return sizes[sizes > 0]


# ---------------------------------------------------------------- time of day


def _cdf_at(profile: np.ndarray, seconds: float) -> float:
    p = profile / profile.sum()
    h = min(int(seconds // 3600), 23)
    return float(p[:h].sum() + p[h] * (seconds - h * 3600) / 3600)


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
        limit = np.where(day[mask] == last, _cdf_at(prof, org.today_limit), 1.0)
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
        "org": np.full(n, org.index, dtype=np.int64), "ts": ts,
        "agent": np.asarray(agent, dtype=np.int64) * np.ones(n, dtype=np.int64),
        "user": np.asarray(user, dtype=np.int64) * np.ones(n, dtype=np.int64),
        "action": np.full(n, action, dtype=np.int64), "model": np.asarray(model, dtype=np.int64) * np.ones(n, dtype=np.int64),
        "byok": np.asarray(byok, dtype=bool) & np.ones(n, dtype=bool),
        "cost_null": np.asarray(cost_null, dtype=bool) & np.ones(n, dtype=bool),
        "inp": inp, "out": out, "cr": cr, "cw": cw,
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

    prompt = (np.array([a.prompt_median for a in ag])[agent] * np.exp(rng.normal(0, 0.55, n))
              + np.where(keep_rag, _ln(rng, 1400, 0.4, n), 0)).astype(np.int64) + 20
    out = (np.array([a.output_median for a in ag])[agent] * np.exp(rng.normal(0, 0.7, n))).astype(np.int64) + 1
    inp, cr, cw = _caching(rng, model, prompt, 0.62, 0.45, 0.92)
    gagent = agent + agent_base
    res = [_rows(org, 0, ts, gagent, user, model, byok, cost_null, inp, out, cr, cw)]

    g = keep_guard
    if g.any():
        k = int(g.sum())
        gm = np.full(k, org.guard_model)
        gin, gcr, gcw = _caching(rng, gm, _ln(rng, 520, 0.3, k).astype(np.int64) + 30, 0.85, 0.6, 0.85)
        res.append(_rows(org, 1, ts[g] - rng.integers(150_000, 900_000, k), gagent[g], user[g], gm,
                         False, False, gin, _ln(rng, 6, 0.4, k).astype(np.int64) + 1, gcr, gcw))
    t = keep_title
    if t.any():
        k = int(t.sum())
        res.append(_rows(org, 2, ts[t] + rng.integers(500_000, 3_000_000, k), gagent[t], user[t],
                         org.title_model, False, False, _ln(rng, 180, 0.5, k).astype(np.int64) + 10,
                         _ln(rng, 11, 0.3, k).astype(np.int64) + 2, np.zeros(k, np.int64), np.zeros(k, np.int64)))
    r = keep_rag
    if r.any():
        k = int(r.sum())
        res.append(_rows(org, 3, ts[r] - rng.integers(50_000, 400_000, k), gagent[r], user[r],
                         org.embed_model, byok[r], cost_null[r], _ln(rng, 28, 0.6, k).astype(np.int64) + 3,
                         np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64)))
    return res


def _indexing(rng, org: OrgPlan, user_base: int, d0: int, d1: int) -> list[dict]:
    """Document-indexing rows of the batches planned on days [d0, d1): no agent."""
    b = org.batches[(org.batches["day"] >= d0) & (org.batches["day"] < d1)]
    if not len(b):
        return []
    day = b["day"].to_numpy()
    kind = b["kind"].to_numpy()
    start = np.empty(len(b))
    for k, profiles in ((0, (NIGHT_HOURS, NIGHT_HOURS)), (1, (WEEKDAY_HOURS, WEEKEND_HOURS)),
                        (2, (BULK_HOURS, BULK_HOURS))):
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
    return [_rows(org, 4, ts, -1, user, org.embed_model, np.repeat(b["byok"].to_numpy(), size),
                  np.repeat(b["cost_null"].to_numpy(), size),
                  np.minimum(_ln(rng, 650, 0.35, n).astype(np.int64) + 20, 8191),
                  np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64))]


def _finish(rng, parts: list[dict], prices: np.ndarray, now_us: int) -> dict:
    """Concatenate row parts; add cost, latency and the now clamp."""
    rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = rows["ts"].size
    late = rows["ts"] >= now_us  # a title or a batch running past now: pull it back
    if late.any():
        rows["ts"][late] = now_us - 1 - rng.integers(0, 60_000_000, int(late.sum()))
    m = rows["model"]
    pr = prices[m]
    cost = ((rows["inp"] - rows["cw"]) * pr[:, 0] + rows["out"] * pr[:, 1]
            + rows["cr"] * pr[:, 2] + rows["cw"] * pr[:, 3]) / 1e6
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
    shares = [_split(p.interaction_rows, [p.events_per_day[a:b].sum() for a, b in chunks]) for p in plans]
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


# ---------------------------------------------------------------- writing

COPY_COLUMNS = [c for c in token_usage_logs.columns.keys() if c != "id"]  # noqa: SIM118 (iterating gives Column objects)


def _lookups(plans: list[OrgPlan]):
    agent_ids = np.array([a.id for p in plans for a in p.agents] + [None], dtype=object)  # -1 -> None
    user_ids = np.concatenate([p.user_ids for p in plans] + [np.array([None], dtype=object)])
    return dict(
        org=np.array([p.org_id for p in plans], dtype=object), agent=agent_ids, user=user_ids,
        action=np.array(ACTION_TYPES, dtype=object), source=np.array(SOURCES, dtype=object),
        provider=np.array([m[0] for m in MODELS], dtype=object), model=np.array([m[1] for m in MODELS], dtype=object),
    )


def _text_columns(rows: dict, lk: dict) -> dict:
    return {
        "org_id": lk["org"][rows["org"]], "agent_id": lk["agent"][rows["agent"]],
        "user_id": lk["user"][rows["user"]], "action_type": lk["action"][rows["action"]],
        "source": lk["source"][rows["byok"].astype(np.int64)],
        "provider": lk["provider"][rows["model"]], "model": lk["model"][rows["model"]],
    }


def _csv_text(rows: dict, lk: dict) -> str:
    """Rows as COPY CSV (unquoted empty = NULL). Built by hand: 3x faster than to_csv.

    Safe unquoted: demo ids, names of actions and models hold no comma, quote or newline.
    """
    t = _text_columns(rows, lk)

    def text(a):
        a = a.copy()
        a[a == None] = ""  # noqa: E711 (elementwise)
        return a.tolist()

    cost = rows["cost"]
    e8 = np.round(np.nan_to_num(cost) * 1e8).astype(np.int64)
    cost_s = np.char.add(np.char.add((e8 // 100_000_000).astype(str), "."),
                         np.char.zfill((e8 % 100_000_000).astype(str), 8)).astype(object)
    cost_s[np.isnan(cost)] = ""
    lat = rows["lat"].astype(str).astype(object)
    lat[rows["lat"] < 0] = ""
    cols = [t["org_id"].tolist(),
            np.datetime_as_string(rows["ts"].astype("datetime64[us]"), unit="us", timezone="UTC").tolist(),
            text(t["agent_id"]), text(t["user_id"]), t["action_type"].tolist(), t["source"].tolist(),
            t["provider"].tolist(), t["model"].tolist()]
    cols += [rows[k].astype(str).tolist() for k in ("inp", "out", "cr", "cw")]
    cols += [cost_s.tolist(), lat.tolist()]
    return "\n".join(map(",".join, zip(*cols))) + "\n"


class _CopyWriter:
    """COPY chunks on a background thread, so the next chunk is built meanwhile."""

    SQL = f"COPY token_usage_logs ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"

    def __init__(self, cursor):
        import queue
        import threading

        self.cursor, self.error = cursor, None
        self.q = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while (text := self.q.get()) is not None:
            if self.error is None:
                try:
                    self.cursor.copy_expert(self.SQL, io.StringIO(text), size=1 << 20)
                except BaseException as exc:  # re-raised on the main thread
                    self.error = exc

    def put(self, text: str) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(text)

    def close(self) -> None:
        self.q.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _insert_sqlite(cursor, rows: dict, lk: dict) -> None:
    t = _text_columns(rows, lk)
    stamps = np.datetime_as_string(rows["ts"].astype("datetime64[us]"), unit="us").astype("S26")
    stamps.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")  # storage.engine.sqlite_ts format
    cost = rows["cost"].astype(object)
    cost[np.isnan(rows["cost"])] = None
    lat = rows["lat"].astype(object)
    lat[rows["lat"] < 0] = None
    data = zip(t["org_id"].tolist(), stamps.astype("U26").tolist(), t["agent_id"].tolist(),
               t["user_id"].tolist(), t["action_type"].tolist(), t["source"].tolist(),
               t["provider"].tolist(), t["model"].tolist(), rows["inp"].tolist(), rows["out"].tolist(),
               rows["cr"].tolist(), rows["cw"].tolist(), cost.tolist(), lat.tolist())
    cursor.executemany(
        f"INSERT INTO token_usage_logs ({', '.join(COPY_COLUMNS)}) VALUES ({', '.join('?' * len(COPY_COLUMNS))})",
        data)


def _upsert_agents(conn, plans: list[OrgPlan]) -> int:
    rows = [dict(id=a.id, org_id=p.org_id, name=a.name, avatar_url=a.avatar_url) for p in plans for a in p.agents]
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(agents_table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[agents_table.c.id],
        set_={"org_id": stmt.excluded.org_id, "name": stmt.excluded.name, "avatar_url": stmt.excluded.avatar_url})
    conn.execute(stmt, rows)
    return len(rows)


def _forget_rollups(conn, ids: list[str]) -> None:
    """Deleted rows leave the rollups with them (same transaction), so the sums stay exact."""
    from queries import rollup

    have = set(sa.inspect(conn).get_table_names())
    for table in rollup.TABLES:
        if table in have:
            conn.execute(sa.text(f"DELETE FROM {table} WHERE org_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)), {"ids": ids})


def org_ids(orgs: int, org_prefix: str) -> list[str]:
    return [org_prefix if i == 0 else f"{org_prefix}-{i + 1}" for i in range(orgs)]


def generate(engine: sa.Engine, orgs: int = 3, days: int = 365, rows: int = 200_000, seed: int = 7,
             org_prefix: str = "demo", if_empty: bool = False, progress: bool = True, *,
             replace: bool = False, now: datetime | None = None, chunk_rows: int = CHUNK_ROWS,
             out=None) -> int:
    """Fill the database with demo data; return an exit code (0 ok, 1 refused, 2 bad arguments).

    replace=True deletes the target orgs' logs and agents first (same transaction);
    otherwise orgs that already have log rows are refused. `now` pins the clock (tests).
    """
    from tqdm import tqdm

    out = out or sys.stdout
    if orgs < 1 or days < 1 or rows < 0 or not org_prefix.strip():
        print("demo-data: --orgs and --days must be at least 1, --rows at least 0, and the prefix not empty.",
              file=sys.stderr)
        return 2
    ids = org_ids(orgs, org_prefix)
    t = token_usage_logs
    with engine.connect() as conn:
        if if_empty and conn.execute(sa.select(t.c.id).limit(1)).first() is not None:
            print("token_usage_logs already has rows: demo data skipped (--if-empty).", file=out)
            return 0
        if not replace:
            taken = conn.execute(sa.select(t.c.org_id).where(t.c.org_id.in_(ids)).distinct()).scalars().all()
            if taken:
                print(f"demo-data: org(s) {', '.join(sorted(taken))} already have log rows; "
                      f"choose another --org-prefix.", file=sys.stderr)
                return 1

    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    plans = plan(orgs, days, rows, seed, org_prefix, now)
    lk = _lookups(plans)
    written = 0
    bar = tqdm(total=rows, unit="rows", unit_scale=True, disable=not progress, desc="demo-data", file=sys.stderr)
    try:
        with engine.begin() as conn:
            if replace:
                conn.execute(t.delete().where(t.c.org_id.in_(ids)))
                conn.execute(agents_table.delete().where(agents_table.c.org_id.in_(ids)))
                _forget_rollups(conn, ids)
            n_agents = _upsert_agents(conn, plans)
            cursor = conn.connection.dbapi_connection.cursor()
            writer = _CopyWriter(cursor) if conn.dialect.name == "postgresql" else None
            try:
                for chunk in generate_rows(plans, days, seed, now, chunk_rows):
                    if writer:
                        writer.put(_csv_text(chunk, lk))
                    else:
                        _insert_sqlite(cursor, chunk, lk)
                    written += chunk["ts"].size
                    bar.update(chunk["ts"].size)
            finally:
                if writer:
                    writer.close()
            cursor.close()
    finally:
        bar.close()
    if engine.dialect.name == "postgresql" and written:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE token_usage_logs"))
    secs = time.perf_counter() - started
    print(f"Demo data: {written:,} rows and {n_agents} agents for {orgs} org(s) ({', '.join(ids)}) "
          f"over {days} days, in {secs:.1f} s ({written / max(secs, 1e-9):,.0f} rows/s).", file=out)
    return 0
