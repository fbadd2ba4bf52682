"""Anomalies (contract §3.3): local days of the window up to yesterday whose cost departs from
a robust, weekday-aware baseline, newest first, each with the agents, models and actions
that explain it. The detector is queries/anomaly_model.py (shared with the benchmark).

Reads: the org's cost per local day (projection.daily_costs: the facts at day grain, exact
on DST days and odd offsets) from HISTORY_DAYS before the window's first day; then, for the
flagged days only, the cost per agent, model and action on that day and on the same weekday
of the CONTRIB_WEEKS weeks before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.measures import QH
from storage.schema import COST_SCALE

from .anomaly_model import CONTRIB_WEEKS, HISTORY_DAYS, Verdict, detect, weekday_expected
from .base import facts
from .buckets import bucket_cuts, local_dates
from .filters import Filters, local_midnight
from .projection import daily_costs

MAX_CONTRIBUTORS = 5
# kind -> the facts dimension whose series it is
KINDS = (("agent", "agent_id"), ("model", "model"), ("action", "action_type"))


@dataclass(frozen=True)
class Contributor:
    kind: str  # agent | model | action
    id: str | None  # None: rows without an agent
    delta_usd: float  # the day's cost minus its expected, signed (in the anomaly's direction)


@dataclass(frozen=True)
class Anomaly:
    date: date
    cost_usd: float
    expected_usd: float
    score: float  # robust z
    direction: str  # up | down
    contributors: tuple[Contributor, ...]


def daily_series(conn: sa.Connection, f: Filters, start: date, end: date) -> pd.Series:
    """Cost (USD) per local day in [start, end], zero-filled, from the first day with rows on
    (days before it are unknown, not zero: the series starts there)."""
    days = daily_costs(conn, f, start, end)
    if not len(days):
        return pd.Series(dtype=float)
    idx = pd.to_datetime(days["date"])
    s = pd.Series(days["cost_e8"].to_numpy() / COST_SCALE, index=idx)
    full = pd.date_range(idx.min(), pd.Timestamp(end), freq="D")
    return s.reindex(full, fill_value=0.0)


def _costs_by_day(conn: sa.Connection, f: Filters, days: set[date]) -> dict[date, dict[str, dict[str | None, float]]]:
    """{day: {dim: {value: cost}}} for each local day of `days`: one facts read per dimension
    over the stretch from the first day to the last, keyed by local day (exact on DST days
    and odd offsets: the keys are the facts' quarter-hours, cut at local midnights)."""
    lo, hi = min(days), max(days)
    a, b = local_midnight(lo, f.tz), local_midnight(hi + timedelta(days=1), f.tz)
    wanted = np.array(sorted(days), dtype="datetime64[D]")
    cuts = _cuts_around(f, a, b, wanted)
    out: dict[date, dict[str, dict[str | None, float]]] = {d: {} for d in days}
    for _kind, dim in KINDS:
        df = facts(conn, f, dims=(dim,), by_qh=True, start=a, end=b, boundaries=cuts, measures=("cost_e8",))
        sums: dict[tuple[Any, str | None], int] = {}
        local = local_dates(df["qh"].to_numpy(), f.tz)
        keep = np.isin(local, wanted)
        for d, v, c in zip(local[keep].tolist(), df[dim].to_numpy(dtype=object)[keep], df["cost_e8"].to_numpy()[keep]):
            k = (d, None if v is None else str(v))
            sums[k] = sums.get(k, 0) + int(c)
        for d in days:
            out[d][dim] = {}
        for (d, v), c in sums.items():
            out[d][dim][v] = c / COST_SCALE
    return out


def _cuts_around(f: Filters, a: datetime, b: datetime, wanted: np.ndarray) -> np.ndarray:
    """The local midnights of [a, b) that start or end a wanted day: facts()' boundaries for
    reading those days only. Each stretch of days between them is one segment, keyed by a date
    that is not wanted (so dropped), which the rollups read from a few coarse blocks instead of
    each day's hourly rows (a local day that cuts UTC days is ~9 rows per key). A year's
    anomalies want ~100 days scattered over ~300: the bench org's contributors at YTD in Madrid
    took 123 ms, 69 ms this way; in Kathmandu 147 and 75 ms."""
    cuts = bucket_cuts(f, by="date", start=a, end=b)
    firsts = np.r_[np.int64(-(-int(a.timestamp()) // QH)), cuts // QH]  # each day's first quarter-hour
    need = np.isin(local_dates(firsts, f.tz), wanted)
    kept: np.ndarray = cuts[need[1:] | need[:-1]]  # a cut starts day k and ends day k - 1
    return kept


def contributors(
    per_day: dict[date, dict[str, dict[str | None, float]]], day: date, direction: str
) -> tuple[Contributor, ...]:
    """Up to MAX_CONTRIBUTORS series whose cost on `day` departs most from their weekday median,
    in the anomaly's direction, largest first (ties: agent, model, action, then id).

    per_day: {date: {dim: {value: cost}}} holding `day` and the CONTRIB_WEEKS same weekdays before."""
    weeks = [day - timedelta(days=7 * k) for k in range(1, CONTRIB_WEEKS + 1)]
    found: list[tuple[float, int, str, Contributor]] = []
    for order, (kind, dim) in enumerate(KINDS):
        today = per_day[day][dim]
        keys = set(today).union(*(per_day[w][dim] for w in weeks))
        for key in keys:
            history = [per_day[w][dim].get(key, 0.0) for w in weeks]
            delta = today.get(key, 0.0) - weekday_expected(history)
            if (delta > 0) if direction == "up" else (delta < 0):
                found.append((-abs(delta), order, "" if key is None else key, Contributor(kind, key, delta)))
    found.sort(key=lambda r: (r[0], r[1], r[2]))
    return tuple(r[3] for r in found[:MAX_CONTRIBUTORS])


def verdicts(conn: sa.Connection, f: Filters) -> tuple[pd.DatetimeIndex, list[Verdict]]:
    """The daily index and the anomalous verdicts of f's window up to yesterday (ascending)."""
    last = min(f.end_date, f.today - timedelta(days=1))
    if last < f.start_date:
        return pd.DatetimeIndex([]), []
    series = daily_series(conn, f, f.start_date - timedelta(days=HISTORY_DAYS), last)
    if not len(series):
        return pd.DatetimeIndex([]), []
    index = pd.DatetimeIndex(series.index)
    dows = np.asarray(index.day_of_week, dtype=np.int64)
    first_target = max(0, int((pd.Timestamp(f.start_date) - index[0]).days))
    costs = series.to_numpy(dtype=float)
    return index, detect(costs, dows, range(first_target, len(costs)))


def anomalies(conn: sa.Connection, f: Filters) -> list[Anomaly]:
    """Contract §3.3's anomalies of f (org, source, window, timezone), newest first."""
    index, flagged = verdicts(conn, f)
    out = []
    flagged_days = [index[v.index].date() for v in flagged]
    needed = {d - timedelta(days=7 * k) for d in flagged_days for k in range(CONTRIB_WEEKS + 1)}
    cache = _costs_by_day(conn, f, needed) if needed else {}
    for v in reversed(flagged):
        day = index[v.index].date()
        out.append(
            Anomaly(
                date=day,
                cost_usd=v.cost,
                expected_usd=v.expected,
                score=v.score,
                direction=v.direction,
                contributors=contributors(cache, day, v.direction),
            )
        )
    return out


def agent_names(conn: sa.Connection, org_id: str, found: list[Anomaly]) -> dict[str, str]:
    """The names of the agents among found's contributors (an id without an agents row: left out)."""
    from .agents import names_of

    return names_of(
        conn, org_id, [c.id for a in found for c in a.contributors if c.kind == "agent" and c.id is not None]
    )
