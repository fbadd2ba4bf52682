"""The one place with SQL for raw rows: aggregate facts by UTC quarter-hour, then bucket keys.

Every figure is built from `facts()`: sums of the measures grouped by a few dimensions
and, when time matters, by UTC quarter-hour (`qh` = epoch seconds // 900). Every IANA
zone in use today is offset from UTC by a multiple of 15 minutes, so a quarter-hour
lies wholly inside one local hour, day, week and month: converting the *keys* of the
aggregate to local time gives buckets that are exact on 23- and 25-hour days and in
+5:30 / +5:45 zones, without converting rows in SQL.

Costs are summed as integers of 1e-8 USD (`cost_e8`), exact on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.engine import ts_param
from storage.measures import MEASURES, QH, UNPRICED, cost_e8_sql, qh_sql, segment_key_sql, unpriced_sql
from storage.schema import COST_SCALE, token_usage_logs
from storage.sources import source_match_sql

from .filters import Filters, local_instant, local_midnight
from .slicing import slice_clauses


def measure_columns(dialect: str, unpriced: bool = False) -> list[sa.ColumnElement[Any]]:
    t = token_usage_logs
    extra: list[sa.ColumnElement[Any]] = [
        sa.literal_column(sql.rsplit(" AS ", 1)[0]).label(m) for sql, m in zip(unpriced_sql(), UNPRICED)
    ]
    return [
        sa.literal_column(cost_e8_sql(dialect)).label("cost_e8"),
        sa.func.coalesce(sa.func.sum(t.c.input_tokens), 0).label("input_tokens"),
        sa.func.coalesce(sa.func.sum(t.c.output_tokens), 0).label("output_tokens"),
        sa.func.coalesce(sa.func.sum(t.c.cache_read_tokens), 0).label("cache_read_tokens"),
        sa.func.coalesce(sa.func.sum(t.c.cache_write_tokens), 0).label("cache_write_tokens"),
        sa.func.count().label("executions"),
        sa.func.coalesce(sa.func.sum(t.c.latency_ms), 0).label("latency_sum"),
        sa.func.count(t.c.latency_ms).label("latency_count"),
        *(extra if unpriced else []),
    ]


def created_between(dialect: str, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """created_at in [start, end): compared as UTC text on SQLite, natively elsewhere."""
    col: sa.ColumnElement[Any] = token_usage_logs.c.created_at
    if dialect == "sqlite":
        col = sa.type_coerce(col, sa.String)
    return sa.and_(col >= ts_param(dialect, start), col < ts_param(dialect, end))


def raw_facts(
    conn: sa.Connection,
    f: Filters,
    dims: Sequence[str] = (),
    by_qh: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    boundaries: Any = None,
    period: int | None = None,
    unpriced: bool = False,
) -> pd.DataFrame:
    """Aggregate raw rows of f's org, source and slice in [start, end) by (qh?, *dims); with
    boundaries, PostgreSQL keys a segment between two by its first quarter-hour (fewer groups)."""
    dialect, t = conn.dialect.name, token_usage_logs
    start, end = start or f.start_utc, end or f.read_end_utc
    keys: list[Any] = []
    if by_qh:  # with boundaries: one key per segment between them (PostgreSQL)
        qh = qh_sql(dialect)
        key = segment_key_sql(dialect, boundaries, start.timestamp(), end.timestamp(), qh) or qh
        keys.append(sa.literal_column(key).label("qh"))
    keys += [t.c[d] for d in dims]
    stmt = sa.select(*keys, *measure_columns(dialect, unpriced)).where(
        t.c.org_id == f.org_id, created_between(dialect, start, end)
    )
    if f.source != "all":  # 'BYOK', ' system ' count as theirs; anything else is 'other'
        stmt = stmt.where(sa.literal_column(source_match_sql(dialect, f.source)))
    stmt = stmt.where(*slice_clauses(f))  # the slice (none: no clause)
    if keys:
        stmt = stmt.group_by(*[k if isinstance(k, sa.Column) else sa.literal_column("qh") for k in keys])
    rows = conn.execute(stmt).all()
    cols = (["qh"] if by_qh else []) + list(dims) + MEASURES + (UNPRICED if unpriced else [])
    return frame(rows, cols, dims)


def frame(rows: Sequence[Any], cols: list[str], dims: Sequence[str] = ()) -> pd.DataFrame:
    """A facts frame: dims as object columns (None for NULL), the rest int64; columns of rows
    past cols left out. Column by column (from rows, pandas infers a type per cell: 3x slower)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c not in dims else "object") for c in cols})
    data: dict[str, Any] = {}
    for c, values in zip(cols, zip(*rows)):
        if c in dims:
            data[c] = pd.Series(values, dtype="object")
        else:
            data[c] = np.fromiter(values, dtype="int64", count=len(rows))
    return pd.DataFrame(data, columns=cols)


# Which path answers facts() is an execution option of the engine or connection it runs
# on, never a module global: create_app sets it from AI_USAGE_ROLLUPS on its own engine,
# so two apps in one process answer from their own path. Without it: the raw rows.
FACTS_OPTION = "ai_usage_facts"
BindT = TypeVar("BindT", sa.Engine, sa.Connection)
FACTS_PATHS = ("raw", "rollup")


def facts_path(bind: BindT, path: str) -> BindT:
    """bind (an Engine or a Connection) whose facts() read `path`: "raw" rows or the "rollup" tables."""
    if path not in FACTS_PATHS:
        raise ValueError(f"facts path {path!r}: expected one of {FACTS_PATHS}")
    return bind.execution_options(**{FACTS_OPTION: path})


def facts(
    conn: sa.Connection,
    f: Filters,
    dims: Sequence[str] = (),
    by_qh: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    boundaries: Any = None,
    period: int | None = None,
    unpriced: bool = False,
) -> pd.DataFrame:
    """Sums of every measure for f (org, source, window or [start, end)) by (qh?, *dims).

    The path (raw rows or rollups) is the connection's FACTS_OPTION (see facts_path).
    boundaries (by_qh): sorted UTC epoch seconds where the caller's local buckets start;
    an implementation may then return one coarser key per stretch between boundaries
    (its first quarter-hour) instead of every quarter-hour. period (seconds): the
    caller's buckets repeat on the local clock with it (the heatmap's week), so such
    stretches a whole period apart at the same UTC offset may share one key. unpriced:
    also the UNPRICED measures (rows whose cost_usd is NULL). Reads stop at f.read_end_utc."""
    if conn.get_execution_options().get(FACTS_OPTION, "raw") == "rollup":
        from .rollup_read import rollup_facts  # the rollup reader builds on this module

        impl = rollup_facts
    else:
        impl = raw_facts
    return impl(
        conn,
        f,
        dims=tuple(dims),
        by_qh=by_qh,
        start=start,
        end=end,
        boundaries=boundaries,
        period=period,
        unpriced=unpriced,
    )


def with_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Add cost_usd (float) and tokens (input + output + cache read)."""
    df = df.copy()
    df["cost_usd"] = df["cost_e8"] / COST_SCALE
    df["tokens"] = df["input_tokens"] + df["output_tokens"] + df["cache_read_tokens"]
    return df


# ---------------------------------------------------------------- local buckets


def to_local(qh: np.ndarray, tz: ZoneInfo) -> pd.DatetimeIndex:
    return epochs_to_local(np.asarray(qh, dtype="int64") * QH, tz)


def _period_start_dates(naive_days: pd.DatetimeIndex, granularity: str) -> pd.DatetimeIndex:
    if granularity == "day":
        return naive_days
    if granularity == "week":
        return naive_days - pd.to_timedelta(naive_days.day_of_week, unit="D")
    if granularity == "month":
        return naive_days - pd.to_timedelta(naive_days.day - 1, unit="D")
    raise ValueError(granularity)


def _midnights_epoch(naive_days: pd.DatetimeIndex, tz: ZoneInfo) -> np.ndarray:
    """Epoch seconds of the local midnights of these (naive) days, via a map of the uniques."""
    uniq, inverse = np.unique(naive_days.values.astype("datetime64[D]"), return_inverse=True)
    secs = np.array([int(local_midnight(pd.Timestamp(d).date(), tz).timestamp()) for d in uniq], dtype="int64")
    return secs[inverse] if len(uniq) else np.array([], dtype="int64")


def bucket_epochs(qh: np.ndarray, granularity: str, tz: ZoneInfo) -> np.ndarray:
    """The bucket (local period start, as UTC epoch seconds) of each quarter-hour key."""
    qh = np.asarray(qh, dtype="int64")
    if not len(qh):
        return np.array([], dtype="int64")
    uniq, inverse = np.unique(qh, return_inverse=True)
    local = to_local(uniq, tz)
    if granularity == "hour":
        # The local hour starts `minute` minutes before the quarter-hour (offsets are
        # multiples of 15'), which keeps the two 01:00 hours of a 25-hour day apart.
        out = uniq * QH - np.asarray(local.minute, dtype="int64") * 60
        # Unless the offset changed within the hour (Lord Howe's 30-minute DST): then the
        # hour starts at the first instant its wall time is read (the end of a gap, or the
        # one 01:00 before a repeated 01:30-02:00), not at a made-up half-hour label.
        walls = local.tz_localize(None).floor("h")
        bad = np.flatnonzero(epochs_to_local(out, tz).tz_localize(None) != walls)
        for i in bad:
            out[i] = int(local_instant(walls[int(i)].to_pydatetime(), tz).timestamp())
    else:
        days = local.tz_localize(None).normalize()
        out = _midnights_epoch(_period_start_dates(days, granularity), tz)
    result: np.ndarray = out[inverse]
    return result


def _all_window_buckets(f: Filters) -> np.ndarray:
    """Every bucket start of the whole window, future ones included, epoch seconds, ascending."""
    start, end, tz = f.start_date, f.end_date, f.tz
    if f.granularity == "hour":
        a = int(local_midnight(start, tz).timestamp()) // QH
        b = int(local_midnight(end + timedelta(days=1), tz).timestamp()) // QH
        return np.unique(bucket_epochs(np.arange(a, b, dtype="int64"), "hour", tz))
    days = pd.date_range(start, end, freq="D")
    return np.unique(_midnights_epoch(_period_start_dates(days, f.granularity), tz))


def window_buckets(f: Filters) -> np.ndarray:
    """Every bucket start of the window up to now (zero-fill), epoch seconds, ascending.

    A bucket that starts after f.now is left out: the future has no zeros."""
    b = _all_window_buckets(f)
    return b[b <= f.now.timestamp()]


def _next_period_dates(starts: pd.DatetimeIndex, granularity: str) -> pd.DatetimeIndex:
    """The first day of the calendar period after each (naive) period start."""
    if granularity == "day":
        return starts + pd.Timedelta(days=1)
    if granularity == "week":
        return starts + pd.Timedelta(days=7)
    return starts + pd.offsets.MonthBegin(1)


def bucket_flags(f: Filters, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each bucket start (epoch seconds, from window_buckets): (partial, in_progress).

    partial: its calendar period is not wholly inside [window start, min(window end, now))
    — the bucket in progress, and a bucket cut by the window's first or last day.
    in_progress: its period holds now. A period ends where the next one starts, in local
    time (this module's boundaries): the next local midnight, Monday or 1st for days,
    weeks and months; for hours the next hour bucket (windows start and end on hours)."""
    buckets = np.asarray(buckets, dtype="int64")
    if not len(buckets):
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    lo, hi, now = f.start_utc.timestamp(), f.until_utc.timestamp(), f.now.timestamp()
    if f.granularity == "hour":
        every = _all_window_buckets(f)
        ends_all = np.r_[every[1:], int(f.end_utc.timestamp())]
        ends = ends_all[np.searchsorted(every, buckets)]
    else:
        naive = epochs_to_local(buckets, f.tz).tz_localize(None).normalize()
        ends = _midnights_epoch(_next_period_dates(naive, f.granularity), f.tz)
    return (buckets < lo) | (ends > hi), (buckets <= now) & (ends > now)


def bucket_cuts(
    f: Filters, by: str = "bucket", start: datetime | None = None, end: datetime | None = None
) -> np.ndarray:
    """facts()' boundaries: epoch seconds of each quarter-hour of [start, end) whose key
    differs from the previous quarter-hour's. by: "bucket" (f.granularity, as
    bucket_epochs), "clock_hour" (local date and hour, the heatmap's cells) or "date"
    (local date). Exact across DST, also where a clock hour repeats."""
    a = -(-int((start or f.start_utc).timestamp()) // QH)
    b = int((end or f.end_utc).timestamp()) // QH
    return _bucket_cuts(f.timezone, f.granularity if by == "bucket" else by, a, b)


@lru_cache(maxsize=64)
def _bucket_cuts(tz_name: str, by: str, a: int, b: int) -> np.ndarray:
    qh = np.arange(a, b, dtype="int64")
    if by in ("clock_hour", "date"):
        local = to_local(qh, ZoneInfo(tz_name)).tz_localize(None)
        key = np.asarray((local.floor("h") if by == "clock_hour" else local.normalize()).values).view("int64")
    else:
        key = bucket_epochs(qh, by, ZoneInfo(tz_name))
    out: np.ndarray = qh[1:][key[1:] != key[:-1]] * QH
    out.flags.writeable = False
    return out


def epochs_to_local(epochs: Any, tz: ZoneInfo | str) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(epochs, dtype="int64"), unit="s", utc=True).tz_convert(tz)


def local_dates(qh: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """The local calendar date (datetime64[D]) of each quarter-hour key."""
    return to_local(qh, tz).tz_localize(None).values.astype("datetime64[D]")
