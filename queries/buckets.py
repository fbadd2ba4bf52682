"""Local buckets: which local hour, day, week or month a UTC quarter-hour falls in, where
the buckets of a window start and end, and facts()' boundaries between them.

Every IANA zone in use today is offset from UTC by a multiple of 15 minutes, so a
quarter-hour lies wholly inside one local hour, day, week and month: converting the
*keys* of an aggregate to local time gives buckets that are exact on 23- and 25-hour
days and in +5:30 / +5:45 zones.

A window's buckets depend only on (zone, granularity, first and last local date), not
on the org or the data, so they are worked out once and cached (`_window_plan`,
`_segments`): every answer of a refresh asks for the same window, and the zone
conversions are most of what these helpers cost. The cached arrays are read-only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from storage.measures import QH

from .filters import Filters, local_instant, local_midnight

DAY = 86400


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


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@lru_cache(maxsize=128)
def _window_plan(tz_name: str, granularity: str, start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends): every bucket of the local dates [start, end], future ones included,
    as UTC epoch seconds, ascending; a bucket ends where the next period starts in local
    time (the next local midnight, Monday or 1st; for hours the next hour bucket, the
    last one at the window's end)."""
    tz = ZoneInfo(tz_name)
    if granularity == "hour":
        a = int(local_midnight(start, tz).timestamp()) // QH
        b = int(local_midnight(end + timedelta(days=1), tz).timestamp()) // QH
        starts = np.unique(bucket_epochs(np.arange(a, b, dtype="int64"), "hour", tz))
        ends = np.r_[starts[1:], b * QH].astype("int64")
    else:
        days = pd.date_range(start, end, freq="D")
        starts = np.unique(_midnights_epoch(_period_start_dates(days, granularity), tz))
        naive = epochs_to_local(starts, tz).tz_localize(None).normalize()
        ends = _midnights_epoch(_next_period_dates(naive, granularity), tz)
    return _readonly(starts), _readonly(ends)


def _all_window_buckets(f: Filters) -> np.ndarray:
    """Every bucket start of the whole window, future ones included, epoch seconds, ascending."""
    return _window_plan(f.timezone, f.granularity, f.start_date, f.end_date)[0]


def window_buckets(f: Filters) -> np.ndarray:
    """Every bucket start of the window up to now (zero-fill), epoch seconds, ascending.

    A bucket that starts after f.now is left out: the future has no zeros."""
    b = _all_window_buckets(f)
    out: np.ndarray = b[b <= f.now.timestamp()]
    return out


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
    starts, ends_all = _window_plan(f.timezone, f.granularity, f.start_date, f.end_date)
    at = np.minimum(np.searchsorted(starts, buckets), max(len(starts) - 1, 0))
    if len(starts) and np.array_equal(starts[at], buckets):
        ends = ends_all[at]
    elif f.granularity == "hour":  # not the window's buckets: as before the plans were cached
        ends = np.r_[starts[1:], int(f.end_utc.timestamp())][at]
    else:
        naive = epochs_to_local(buckets, f.tz).tz_localize(None).normalize()
        ends = _midnights_epoch(_next_period_dates(naive, f.granularity), f.tz)
    return (buckets < lo) | (ends > hi), (buckets <= now) & (ends > now)


@lru_cache(maxsize=128)
def _segments(tz_name: str, granularity: str, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(cuts, bucket): the boundaries of quarter-hours [a, b) (as _bucket_cuts) and the
    bucket (bucket_epochs) of each stretch between them, the first one starting at a."""
    cuts = _bucket_cuts(tz_name, granularity, a, b)
    firsts = np.r_[np.int64(a), cuts // QH].astype("int64")
    return cuts, _readonly(bucket_epochs(firsts, granularity, ZoneInfo(tz_name)))


def window_bucket_epochs(f: Filters, qh: np.ndarray) -> np.ndarray:
    """bucket_epochs(qh, f.granularity, f.tz), answered from the window's cached stretches
    when every key lies inside f's window (facts() keys do), else computed."""
    qh = np.asarray(qh, dtype="int64")
    a = -(-int(f.start_utc.timestamp()) // QH)
    b = int(f.end_utc.timestamp()) // QH
    if not len(qh) or int(qh.min()) < a or int(qh.max()) >= b:
        return bucket_epochs(qh, f.granularity, f.tz)
    cuts, bucket = _segments(f.timezone, f.granularity, a, b)
    out: np.ndarray = bucket[np.searchsorted(cuts, qh * QH, side="right")]
    return out


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
    """The quarter-hours t of (a, b) whose key (_cut_keys) differs from t - 1's, as epoch seconds.

    Worked out from the zone's stretches of constant UTC offset, not quarter-hour by
    quarter-hour: inside a stretch, local time is UTC plus the offset, so a key (clock hour,
    date, hour, day, week or month) changes exactly where local time crosses an hour or a
    midnight (a Monday's, a 1st's for weeks and months); at each stretch's start the keys
    of the two quarter-hours on either side are compared as they are. A year is a few
    hundred instants instead of 35,040 zone conversions (tests/test_buckets_fast.py holds
    it to the quarter-hour-by-quarter-hour definition in every zone)."""
    tz = ZoneInfo(tz_name)
    period = 3600 if by in ("hour", "clock_hour") else DAY
    stretches = _stretches(tz_name, a, b)
    parts = []
    for S, E, off in stretches:
        first = S + (-(S + off)) % period
        if first == S:
            first += period
        local = np.arange(first + off, E + off, period, dtype="int64")  # local period starts
        if by == "week":
            local = local[(local // DAY + 3) % 7 == 0]  # Mondays (1970-01-01 was a Thursday)
        elif by == "month":
            days = (local // DAY).astype("datetime64[D]")
            local = local[days == days.astype("datetime64[M]").astype("datetime64[D]")]
        t = -(-(local - off) // QH) * QH  # the first quarter-hour read at or after it
        parts.append(t[(t > S) & (t < E)])
    edges = np.array([S for S, _, _ in stretches[1:]], dtype="int64")
    if len(edges):
        q = edges // QH
        keys = _cut_keys(np.r_[q - 1, q], by, tz)
        parts.append(edges[keys[: len(q)] != keys[len(q) :]])
    out: np.ndarray = np.sort(np.concatenate(parts)) if parts else np.array([], dtype="int64")  # disjoint parts
    out.flags.writeable = False
    return out


def _cut_keys(qh: np.ndarray, by: str, tz: ZoneInfo) -> np.ndarray:
    """The key of each quarter-hour for bucket_cuts(by): its clock hour or date (naive local,
    as int64), or its bucket (bucket_epochs)."""
    if by in ("clock_hour", "date"):
        local = to_local(qh, tz).tz_localize(None)
        return np.asarray((local.floor("h") if by == "clock_hour" else local.normalize()).values).view("int64")
    return bucket_epochs(qh, by, tz)


def _offsets(qh: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """The zone's UTC offset, in seconds, at each quarter-hour key."""
    utc = pd.to_datetime(np.asarray(qh, dtype="int64") * QH, unit="s", utc=True)
    local = utc.tz_convert(tz).tz_localize(None)
    return np.asarray((local - utc.tz_localize(None)).total_seconds(), dtype="int64")


SAMPLE = 24  # quarter-hours between two readings of the offset (6 hours; tzdb's changes are weeks apart)


@lru_cache(maxsize=256)
def _stretches(tz_name: str, A: int, B: int) -> tuple[tuple[int, int, int], ...]:
    """(S, E, offset): [S, E) in epoch seconds over quarter-hours [A, B) where the zone's UTC
    offset is constant, and that offset. The offset is read every SAMPLE quarter-hours, and
    quarter-hour by quarter-hour between two readings that differ (every change there is
    found; a change undone within SAMPLE quarter-hours would not be: tzdb has none, 1960–2040)."""
    if B <= A:
        return ()
    tz = ZoneInfo(tz_name)
    at = np.unique(np.r_[np.arange(A, B, SAMPLE, dtype="int64"), B - 1])
    off = _offsets(at, tz)
    moved = np.flatnonzero(off[1:] != off[:-1])
    starts, offs = [A], [int(off[0])]
    if len(moved):
        fine = np.concatenate([np.arange(at[i] + 1, at[i + 1] + 1, dtype="int64") for i in moved])
        fine_off = _offsets(fine, tz)
        before = np.r_[0, fine_off[:-1]]  # each fine reading's predecessor…
        firsts = np.cumsum(np.r_[0, at[moved[:-1] + 1] - at[moved[:-1]]])
        before[firsts] = off[moved]  # …the sampled reading before each moved interval
        for j in np.flatnonzero(fine_off != before):
            starts.append(int(fine[j]))
            offs.append(int(fine_off[j]))
    ends = [*starts[1:], B]
    return tuple((s * QH, e * QH, o) for s, e, o in zip(starts, ends, offs, strict=True))


def offset_stretches(tz_name: str, A: int, B: int) -> tuple[tuple[int, int], ...]:
    """[S, E) in epoch seconds over quarter-hours [A, B) where the zone's UTC offset is constant."""
    return tuple((S, E) for S, E, _ in _stretches(tz_name, A, B))


def epochs_to_local(epochs: Any, tz: ZoneInfo | str) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(epochs, dtype="int64"), unit="s", utc=True).tz_convert(tz)


def local_dates(qh: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """The local calendar date (datetime64[D]) of each quarter-hour key."""
    return to_local(qh, tz).tz_localize(None).values.astype("datetime64[D]")
