"""The heatmap's folded weeks (migration 0014, queries.rollup_folds.fold_blocks): rollup_total's
fold rows stand for the quarter-hours of whole 8-week blocks, one week of them each.

- The plan: every quarter-hour of a heatmap's window is read exactly once, a fold row for
  the eight quarter-hours a week apart that it holds, and every key lies on the same local
  weekday and hour as each quarter-hour it stands for — in zones with DST (New York, Lord
  Howe's 30-minute change, Chatham's +12:45/+13:45), off the hour (Kathmandu, St John's)
  and UTC. A 365-day heatmap reads six or more blocks folded, and none across a DST change.
- The rows: the refresh writes folds that sum to the raw table, and migration 0014 builds,
  from the quarter-hour rows, exactly the folds the refresh writes (also before 1970); its
  downgrade removes them.

Every figure read through the folds is also compared with the raw rows in
tests/test_rollups.py (random windows up to 400 days in these zones, late rows, the live
tail): a fold keyed a day off, or read across a DST change, fails there.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa
from support.db import downgrade, rolled_up_rows, upgrade

from queries import buckets as qbuckets, parse_filters, rollup_read as qr
from storage import rollup_tables as rt

QH = 900
ZONES = [
    "UTC",
    "Asia/Kathmandu",
    "America/New_York",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]


def heatmap_plan(tz: str, start: str, end: str):
    f = parse_filters({"from": start, "to": end, "timezone": tz}, "x")
    A, B = -(-int(f.start_utc.timestamp()) // QH), int(f.read_end_utc.timestamp()) // QH
    cuts = np.asarray(qbuckets.bucket_cuts(f, "clock_hour"), dtype="int64").tobytes()
    return A, B, qr._plan(tz, A, B, cuts, True, rt.WEEK, rt.GRAINS, True)[0]


def clock(tz: str, epoch: int) -> tuple[int, int]:
    local = datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(tz))
    return local.weekday(), local.hour


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize(("start", "end"), [("2025-12-06", "2026-12-05"), ("2026-02-20", "2026-06-30")])
def test_every_quarter_hour_is_read_once_on_its_own_clock(tz, start, end):
    A, B, ranges = heatmap_plan(tz, start, end)
    read: dict[int, int] = {}  # quarter-hour (epoch seconds) -> key
    folds = 0
    for g, lo, hi, ph, p, w in ranges:
        if g == rt.FOLD_GRAIN:
            assert lo % rt.FOLD_SPAN == 0 and hi % rt.FOLD_SPAN == 0 and ph <= lo
            folds += (hi - lo) // rt.FOLD_SPAN
            rows = [
                (t, [t + k * rt.WEEK for k in range(rt.FOLD_SPAN // rt.WEEK)])
                for b in range(lo, hi, rt.FOLD_SPAN)
                for t in range(b, b + rt.WEEK, QH)
            ]
        else:
            first = -(-lo // g) * g  # rows of grain g start on its multiples
            rows = [(t, list(range(t, t + g, QH))) for t in range(first, hi, g) if (t - ph) % p + g <= p]
        for t, quarters in rows:
            key = ph + (t - ph) % w // p * p
            for q in quarters:
                assert q not in read, f"{q} read twice"
                read[q] = key
                assert clock(tz, key) == clock(tz, q), (tz, q, key)
    assert sorted(read) == list(range(A * QH, B * QH, QH))
    if end == "2026-12-05":
        dst = tz in ("America/New_York", "America/St_Johns", "Australia/Lord_Howe", "Pacific/Chatham")
        assert folds >= (4 if dst else 6)  # of the six 8-week blocks a year holds: a DST change costs one


@pytest.mark.parametrize("tz", ["America/New_York", "Australia/Lord_Howe", "Pacific/Chatham"])
def test_no_block_is_folded_across_an_offset_change(tz):
    _A, _B, ranges = heatmap_plan(tz, "2025-12-06", "2026-12-05")
    zone = ZoneInfo(tz)
    for g, lo, hi, *_rest in ranges:
        if g != rt.FOLD_GRAIN:
            continue
        offsets = {datetime.fromtimestamp(t, UTC).astimezone(zone).utcoffset() for t in range(lo, hi, QH)}
        assert len(offsets) == 1, (tz, lo, hi, offsets)


def _folds(engine) -> dict:
    with engine.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT org_id, t, source, cost_e8, input_tokens, output_tokens, cache_read_tokens,"
                " cache_write_tokens, executions, latency_sum, latency_count FROM rollup_total WHERE grain = :g"
            ),
            {"g": rt.FOLD_GRAIN},
        )
        return {tuple(r[:3]): tuple(int(v) for v in r[3:]) for r in rows}


def test_0014_builds_the_folds_the_refresh_writes_and_goes_back(fresh):
    upgrade(fresh, "head")
    early = [datetime(1969, 12, 20, 5, 7, tzinfo=UTC), datetime(1970, 1, 3, 23, 59, tzinfo=UTC)]
    rolled_up_rows(fresh, random.Random(14), 600, early)
    written = _folds(fresh)
    assert written and any(t < 0 for _o, t, _s in written)
    with fresh.connect() as c:
        raw = c.execute(sa.text("SELECT COUNT(*), SUM(input_tokens) FROM token_usage_logs")).one()
        fold = c.execute(
            sa.text("SELECT SUM(executions), SUM(input_tokens) FROM rollup_total WHERE grain = :g"),
            {"g": rt.FOLD_GRAIN},
        ).one()
    assert tuple(map(int, fold)) == tuple(map(int, raw))
    for _o, t, _s in written:  # every fold row lies in its block's first week
        assert (t % rt.FOLD_SPAN) < rt.WEEK and t % QH == 0
    downgrade(fresh, "0013")
    assert _folds(fresh) == {}
    upgrade(fresh, "head")
    assert _folds(fresh) == written
