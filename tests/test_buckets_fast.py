"""facts()' bucket boundaries and the zones' offset stretches, worked out from the offset's
changes (queries.buckets._bucket_cuts, _stretches), equal their definition quarter-hour by
quarter-hour: every quarter-hour's key, and a cut wherever it differs from the previous one.

The zones are the hard ones (DST at midnight, 30-minute DST, negative DST, a skipped day,
+5:45 and −3:30 offsets, two DSTs a year around Ramadan) and a seeded sample of all the
others; the windows start and end off the hour. (Checked once on every zone of the machine's
tzdb, 1960–2040 for the stretches and 2009–2013 for every kind of cut: no difference.)
"""

from __future__ import annotations

import random
import zoneinfo
from datetime import UTC, datetime

import numpy as np
import pytest

from queries import buckets as qb
from storage.measures import QH

HARD = [
    "UTC",
    "America/New_York",
    "America/Sao_Paulo",  # DST began at midnight (until 2019)
    "America/Havana",  # DST at midnight
    "Asia/Beirut",  # DST at midnight
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kathmandu",  # +5:45
    "America/St_Johns",  # -3:30 / -2:30
    "Europe/Dublin",  # negative DST in tzdb
    "Africa/Casablanca",  # DST suspended for Ramadan: four changes a year
    "Pacific/Apia",  # skipped 30 December 2011
    "Antarctica/Troll",  # +0 / +2
    "Asia/Gaza",
    "Europe/Madrid",
]
KINDS = ("hour", "day", "week", "month", "clock_hour", "date")


def _qh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> int:
    return int(datetime(y, m, d, hh, mm, tzinfo=UTC).timestamp()) // QH


def dense_cuts(tz: str, by: str, a: int, b: int) -> np.ndarray:
    """The definition: every quarter-hour of [a, b) keyed, a cut where the key changes."""
    qh = np.arange(a, b, dtype="int64")
    key = qb._cut_keys(qh, by, zoneinfo.ZoneInfo(tz))
    return qh[1:][key[1:] != key[:-1]] * QH


def dense_stretches(tz: str, a: int, b: int) -> tuple[tuple[int, int, int], ...]:
    qh = np.arange(a, b, dtype="int64")
    off = qb._offsets(qh, zoneinfo.ZoneInfo(tz))
    change = np.flatnonzero(off[1:] != off[:-1]) + 1
    starts, ends = np.r_[a, qh[change]], np.r_[qh[change], b]
    return tuple(
        (int(s) * QH, int(e) * QH, int(off[i])) for s, e, i in zip(starts, ends, np.r_[0, change], strict=True)
    )


WINDOWS = [
    (_qh(2011, 11, 20, 3, 15), _qh(2012, 1, 9, 22, 45)),  # Apia's lost day, a month turn, a year turn
    (_qh(2018, 10, 1, 1, 30), _qh(2019, 11, 30, 0, 15)),  # 14 months: Sao Paulo's last midnight DSTs
    (_qh(2026, 1, 1), _qh(2026, 12, 31, 23, 45)),
]


@pytest.mark.parametrize("tz", HARD)
def test_stretches_equal_dense_1960_to_2040(tz: str) -> None:
    a, b = _qh(1960, 1, 1), _qh(2040, 1, 1)
    assert qb._stretches.__wrapped__(tz, a, b) == dense_stretches(tz, a, b)


@pytest.mark.parametrize("tz", HARD)
@pytest.mark.parametrize("by", KINDS)
def test_cuts_equal_dense_in_hard_zones(tz: str, by: str) -> None:
    for a, b in WINDOWS:
        got = qb._bucket_cuts.__wrapped__(tz, by, a, b)
        assert np.array_equal(got, dense_cuts(tz, by, a, b)), (tz, by, a, b)
        assert not got.flags.writeable


def test_cuts_equal_dense_in_a_sample_of_every_zone() -> None:
    rng = random.Random(20261205)
    zones = rng.sample(sorted(zoneinfo.available_timezones()), 40)
    for tz in zones:
        a = _qh(rng.randrange(1995, 2035), rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24))
        b = a + rng.randrange(1, 400 * 96)
        assert qb._stretches.__wrapped__(tz, a, b) == dense_stretches(tz, a, b), tz
        for by in KINDS:
            assert np.array_equal(qb._bucket_cuts.__wrapped__(tz, by, a, b), dense_cuts(tz, by, a, b)), (tz, by, a, b)


def test_short_and_empty_ranges() -> None:
    a = _qh(2026, 3, 8, 6, 45)  # New York's spring-forward quarter-hour is 7:00 UTC
    for n in (0, 1, 2, 5):
        for by in KINDS:
            got = qb._bucket_cuts.__wrapped__("America/New_York", by, a, a + n)
            assert np.array_equal(got, dense_cuts("America/New_York", by, a, a + n)), (by, n)
    assert qb._stretches.__wrapped__("America/New_York", a, a) == ()
    assert qb.offset_stretches("America/New_York", a, a + 2) == ((a * QH, (a + 1) * QH), ((a + 1) * QH, (a + 2) * QH))


def test_several_changes_between_two_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every change between two readings that differ is found, not only the first: read once
    at each end of 16 months of New York (EST, then EDT, EST and EDT again), the stretches
    are still the three changes'."""
    a, b = _qh(2026, 2, 1), _qh(2027, 6, 1)
    monkeypatch.setattr(qb, "SAMPLE", b - a + 1)
    got = qb._stretches.__wrapped__("America/New_York", a, b)
    assert got == dense_stretches("America/New_York", a, b)
    assert [o for _, _, o in got] == [-5 * 3600, -4 * 3600, -5 * 3600, -4 * 3600]
