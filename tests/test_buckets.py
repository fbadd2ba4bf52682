"""The cached bucket plans of queries.buckets against a computation per quarter-hour.

window_bucket_epochs answers from the window's cached stretches; bucket_flags from the
window's cached bucket ends. Both must say exactly what bucket_epochs and a plain
calendar walk say, on 23- and 25-hour days, in +5:45 and +12:45 zones and on Lord Howe's
30-minute DST, for every granularity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from queries import buckets, parse_filters
from queries.filters import local_midnight
from storage.measures import QH

ZONES = ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns"]
WINDOWS = [
    ("2026-03-02", "2026-03-15"),  # New York's 23-hour day (8 March)
    ("2026-10-26", "2026-11-08"),  # New York's 25-hour day (1 November)
    ("2026-04-01", "2026-04-10"),  # Lord Howe's and Chatham's autumn change (5 April)
    ("2025-12-04", "2026-12-03"),  # a year, across months and both changes
]
# Hourly buckets are asked for short windows: not the year.
CASES = [(w, g) for w in WINDOWS for g in ("hour", "day", "week", "month") if not (g == "hour" and w is WINDOWS[-1])]


def _filters(tz: str, window: tuple[str, str], gran: str, now: datetime | None = None):
    params = {"from": window[0], "to": window[1], "timezone": tz, "granularity": gran}
    return parse_filters(params, "o", now=now or datetime(2026, 12, 3, 12, tzinfo=UTC))


def _every_qh(f) -> np.ndarray:
    return np.arange(int(f.start_utc.timestamp()) // QH, int(f.end_utc.timestamp()) // QH, dtype="int64")


@pytest.mark.parametrize(("window", "gran"), CASES)
@pytest.mark.parametrize("tz", ZONES)
def test_window_bucket_epochs_equal_bucket_epochs(tz, window, gran):
    f = _filters(tz, window, gran)
    qh = _every_qh(f)
    want = buckets.bucket_epochs(qh, gran, f.tz)
    assert np.array_equal(buckets.window_bucket_epochs(f, qh), want)
    # facts() keys: a few quarter-hours in any order, repeated
    some = np.random.default_rng(7).choice(qh, size=300)
    assert np.array_equal(buckets.window_bucket_epochs(f, some), buckets.bucket_epochs(some, gran, f.tz))
    # keys outside the window are computed, not looked up
    outside = np.r_[qh[0] - 96, qh, qh[-1] + 96]
    assert np.array_equal(buckets.window_bucket_epochs(f, outside), buckets.bucket_epochs(outside, gran, f.tz))
    assert buckets.window_bucket_epochs(f, np.array([], dtype="int64")).tolist() == []


def _reference_flags(f, starts: list[int]) -> tuple[list[bool], list[bool]]:
    """(partial, in_progress) by walking the calendar: a bucket ends at the next period's start."""
    tz = ZoneInfo(f.timezone)
    every = sorted(set(buckets.bucket_epochs(_every_qh(f), f.granularity, tz).tolist()))
    lo, hi, now = f.start_utc.timestamp(), min(f.end_utc, f.now).timestamp(), f.now.timestamp()
    partial, running = [], []
    for s in starts:
        if f.granularity == "hour":
            i = every.index(s)
            end = every[i + 1] if i + 1 < len(every) else f.end_utc.timestamp()
        else:
            d = datetime.fromtimestamp(s, tz).date()
            nxt = {
                "day": d + timedelta(days=1),
                "week": d + timedelta(days=7),
                "month": date(d.year + d.month // 12, d.month % 12 + 1, 1),
            }[f.granularity]
            end = local_midnight(nxt, tz).timestamp()
        partial.append(s < lo or end > hi)
        running.append(s <= now < end)
    return partial, running


@pytest.mark.parametrize(("window", "gran"), CASES)
@pytest.mark.parametrize("tz", ZONES)
def test_window_buckets_and_flags_walk_the_calendar(tz, window, gran):
    now = local_midnight(date.fromisoformat(window[1]), ZoneInfo(tz)) - timedelta(hours=30, minutes=15)
    f = _filters(tz, window, gran, now=now)
    got = buckets.window_buckets(f)
    every = sorted(set(buckets.bucket_epochs(_every_qh(f), gran, f.tz).tolist()))
    assert got.tolist() == [s for s in every if s <= now.timestamp()]
    partial, running = buckets.bucket_flags(f, got)
    want_partial, want_running = _reference_flags(f, got.tolist())
    assert partial.tolist() == want_partial
    assert running.tolist() == want_running
    assert sum(running.tolist()) == 1  # now lies inside the window: one bucket holds it
    # a subset of the window's buckets (as a caller may pass) reads the same flags
    sub = got[::3]
    assert buckets.bucket_flags(f, sub)[0].tolist() == want_partial[::3]


def test_cached_plans_are_read_only():
    f = _filters("Asia/Kathmandu", WINDOWS[3], "week")
    plan = buckets._all_window_buckets(f)
    with pytest.raises(ValueError):
        plan[0] = 0
    b = buckets.window_buckets(f)
    b[0] = 0  # the caller's copy
    assert buckets.window_buckets(f)[0] != 0
