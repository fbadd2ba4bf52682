"""Demo plan: per org its zone, calendar, agents, users, growth and indexing batches (no rows yet)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .agents import plan_agents
from .catalog import (
    BULK_SHARES,
    DOW_FACTOR,
    GROWTH_PER_YEAR,
    INDEXING_SHARE,
    PROFILES,
    ROWS_PER_EVENT,
    TIMEZONES,
    WEEKDAY_HOURS,
    WEEKEND_HOURS,
    M,
    cdf_at,
)


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


def _org_weights(n: int) -> np.ndarray:
    if n == 1:
        return np.array([1.0])
    rest = 1.0 / np.arange(2, n + 1)
    return np.concatenate([[0.6], 0.4 * rest / rest.sum()])


def split_total(total: int, weights: np.ndarray) -> np.ndarray:
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


def _calendar(tz: str, days: int, now: datetime):
    """Local days ending today: naive midnights, UTC offsets per hour, weekday, month/day."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    today = np.datetime64(local_now.date(), "D")
    dates = today - np.arange(days - 1, -1, -1)
    day_epoch = dates.astype("datetime64[s]").astype(np.int64)
    naive = (day_epoch[:, None] + np.arange(24) * 3600).ravel()
    aware = pd.DatetimeIndex(naive.astype("datetime64[s]")).tz_localize(
        zone, ambiguous=np.ones(naive.size, dtype=bool), nonexistent="shift_forward"
    )
    delta = (aware.as_unit("s").asi8 - naive).reshape(days, 24)
    dow = (dates.astype(np.int64) + 3) % 7
    di = pd.DatetimeIndex(dates)
    limit = (local_now.replace(tzinfo=None) - datetime.combine(local_now.date(), datetime.min.time())).total_seconds()
    return day_epoch, delta, dow, np.asarray(di.month), np.asarray(di.day), limit


def user_pool(rows: int) -> int:
    """Distinct users of an org with `rows` rows: one per 600 rows up to 5,000 (every demo and
    test data set); from 3M rows one per 400, up to 50,000, so that the 10M-row benchmark org
    holds 25,000 users, the high-cardinality case the user rollups are sized for (docs/rollups.md)."""
    if rows < 3_000_000:
        return max(8, min(5000, rows // 600))
    return min(50_000, rows // 400)


def plan(orgs: int, days: int, rows: int, seed: int, org_prefix: str, now: datetime) -> list[OrgPlan]:
    """Decide everything but the rows themselves: orgs, agents, users, per-day volumes."""
    org_rows = split_total(rows, _org_weights(orgs))
    plans = []
    for i in range(orgs):
        rng = np.random.default_rng([seed, i, 0])
        org_id = org_prefix if i == 0 else f"{org_prefix}-{i + 1}"
        tz = TIMEZONES[i % len(TIMEZONES)]
        profile = PROFILES[i % len(PROFILES)]
        agents = plan_agents(rng, org_id, profile, days)
        day_epoch, delta, dow, month, mday, limit = _calendar(tz, days, now)

        age = np.arange(days - 1, -1, -1)  # days before today
        growth = np.exp(-np.log(GROWTH_PER_YEAR) * age / 365)
        w = growth * DOW_FACTOR[dow] * np.exp(rng.normal(0, 0.12, days))
        w[((month == 12) & (mday >= 24)) | ((month == 1) & (mday <= 6))] *= 0.5
        if tz == "Europe/Madrid":
            w[month == 8] *= 0.65
        w[-1] *= cdf_at(WEEKEND_HOURS if dow[-1] >= 5 else WEEKDAY_HOURS, limit)  # today so far

        n = int(org_rows[i])
        idx_rows = int(round(n * INDEXING_SHARE)) if n >= 20 else 0
        inter = n - idx_rows
        events = int(np.ceil(inter / ROWS_PER_EVENT * 1.12)) + 3 if inter else 0
        per_day = rng.multinomial(events, w / w.sum()) if events else np.zeros(days, np.int64)

        users = user_pool(n)
        user_ids = np.array([f"usr_{x:08x}" for x in rng.choice(2**32, size=users, replace=False)], dtype=object)
        plans.append(
            OrgPlan(
                index=i,
                org_id=org_id,
                tz=tz,
                rows=n,
                agents=agents,
                user_ids=user_ids,
                guard_model=M[profile["guard"]],
                title_model=M[profile["title"]],
                embed_model=M[profile["embed"]],
                day_epoch=day_epoch,
                delta=delta,
                dow=dow,
                growth=growth / growth[-1],
                events_per_day=per_day,
                interaction_rows=inter,
                batches=_plan_batches(rng, idx_rows, w, dow, days, users),
                today_limit=limit,
            )
        )
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
        parts.append(
            pd.DataFrame(
                {
                    "day": day,
                    "kind": 2,
                    "size": sizes,
                    "byok": False,
                    "cost_null": False,
                    "user": int(rng.integers(0, users)),
                }
            )
        )
        remaining -= n
    if remaining > 0:
        sizes = _sizes(rng, remaining, lambda k: np.maximum(1, np.round(30 * np.exp(rng.normal(0, 1.0, k)))))
        k = len(sizes)
        kind = (rng.random(k) >= 0.45).astype(np.int64)  # 0 nightly, 1 daytime
        byok = rng.random(k) < 0.2
        user = np.where((kind == 1) & (rng.random(k) < 0.65), rng.integers(0, users, k), -1)
        parts.append(
            pd.DataFrame(
                {
                    "day": rng.choice(days, size=k, p=w / w.sum()),
                    "kind": kind,
                    "size": sizes,
                    "byok": byok,
                    "cost_null": byok & (rng.random(k) < 0.5),
                    "user": user,
                }
            )
        )
    if not parts:
        return pd.DataFrame({"day": [], "kind": [], "size": [], "byok": [], "cost_null": [], "user": []}).astype(
            {"day": np.int64, "kind": np.int64, "size": np.int64, "byok": bool, "cost_null": bool, "user": np.int64}
        )
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
