"""Sub-day rests added and taken away (queries.rollup_plan.plan_ranges, signed).

- The plan (pure): every quarter-hour of the window is counted exactly once, keyed by the
  start of its segment, whatever the cuts (sums of +1 and -1 blocks, as SQL reads them:
  rollup_plan.blocks_of); no week or 8-day block past the seal; it reads fewer blocks than the
  plain plan where local days start off a UTC midnight, and the same plan in UTC; a local
  week reads a week block (± sub-day blocks) instead of its days.
- The reader: the families keyed by more than the source read signed plans, rollup_total does
  not; a key whose only rows lie in a block taken away nets to zero and is left out, as the
  raw rows leave it out (both engines, both paths).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from support.db import assert_same_answer, insert_logs, on_both_paths, random_row
from support.plans import segment_of, segment_starts

import queries
from ingest import refresh as rollups
from queries import buckets as qbuckets, parse_filters, rollup_plan as qp, rollup_read as qr
from queries.rollup_signed import NO_SEAL
from storage import rollup_tables as rt

QH, DAY = 900, rt.DAY
WIDE = rt.WIDE_GRAINS  # with the Monday-aligned week blocks
WEEK_QH, MONDAY_QH = rt.WEEK // QH, rt.WEEK_START // QH


def counted(ranges, by_qh: bool) -> dict[tuple[int, int], int]:
    """(quarter-hour, key) -> how many times the ranges count it (0s left out)."""
    n: Counter = Counter()
    for r in ranges:
        g = r[0]
        for t, key, sign in qp.blocks_of(r):
            for q in range(t // QH, (t + g) // QH):
                n[(q, key // QH if by_qh else 0)] += sign
    return {k: v for k, v in n.items() if v}


@st.composite
def signed_plans(draw):
    A = draw(st.integers(-4 * 6144, 4 * 6144))  # before 1970 too: floors, not truncation
    B = A + draw(st.integers(1, 3 * 6144))
    if draw(st.integers(0, 4)) == 0:  # one local week, a week block under a day from it
        A = (A - MONDAY_QH) // WEEK_QH * WEEK_QH + MONDAY_QH + draw(st.integers(-95, 95))
        B = A + WEEK_QH + draw(st.sampled_from([0, 0, 4, -4, 2, -2]))
    by_qh = draw(st.booleans())
    cuts = None
    if by_qh and draw(st.booleans()):
        step = draw(st.sampled_from([96, 95, 97, 100, 92, 672, 2976, 4, 1, -672]))
        if step == -672:  # local weeks: Mondays off a UTC Monday by under a day (or more), DST weeks
            first = (A - MONDAY_QH) // WEEK_QH * WEEK_QH + MONDAY_QH + draw(st.integers(-120, 120))
            cuts = [first + i * WEEK_QH + draw(st.sampled_from([0, 0, 0, 4, -4])) for i in range(-1, 40)]
        else:
            cuts = list(range(A - draw(st.integers(0, 200)), B + 1, step))
        cuts += draw(st.lists(st.integers(A - 5, B + 5), max_size=8))
    sealed = draw(st.integers(0, max(0, (B * QH) // (8 * DAY)) + 9)) * 8 * DAY
    grains = draw(st.sampled_from([rt.GRAINS, WIDE]))
    return A, B, cuts, by_qh, sealed, grains


# A week 23 h 45 min before a UTC Monday, an hour short (no zone is that far east): its nearest
# week block would end a day past the window's last UTC midnight, past what the reader's seal
# check assumes (rollup_read._sealed); it is read as days instead.
_FAR = 3000 * WEEK_QH + MONDAY_QH - 95


@settings(max_examples=400, deadline=None)
@given(signed_plans())
@example((_FAR, _FAR + WEEK_QH - 4, None, False, (_FAR * QH // (8 * DAY) + 9) * 8 * DAY, WIDE))
def test_every_quarter_hour_counts_once_keyed_by_its_segment(p):
    A, B, cuts, by_qh, sealed, grains = p
    ranges = qp.plan_ranges(A, B, np.array(cuts) if cuts is not None else None, by_qh, grains, sealed, signed=True)
    for r in ranges:
        for t, _key, _sign in qp.blocks_of(r):
            assert r[0] not in rt.SEALED_GRAINS or t + r[0] <= sealed, ("a week or 8-day block past the seal", r)
            # rollup_read._sealed lifts the seal when the window's end rounded up to a 64-day block
            # is sealed: a week block read must end by the UTC midnight after the window.
            assert r[0] != rt.WEEK or t + r[0] <= -(-B * QH // DAY) * DAY, ("a week block past the window's day", r)
    starts = segment_starts(A, B, cuts)
    want = {}
    for q in range(A, B):
        key = (q if cuts is None else segment_of(starts, q)) if by_qh else 0
        want[(q, key)] = 1
    assert counted(ranges, by_qh) == want


def _blocks(tz: str, gran: str, signed: bool) -> tuple[int, int]:
    f = parse_filters({"from": "2026-01-05", "to": "2026-11-29", "timezone": tz, "granularity": gran}, "x")
    A, B = int(f.start_utc.timestamp()) // QH, int(f.end_utc.timestamp()) // QH
    ranges = qp.plan_ranges(A, B, qp.cuts_from_boundaries(qbuckets.bucket_cuts(f)), True, WIDE, signed=signed)
    return sum(len(qp.blocks_of(r)) for r in ranges), len(qbuckets.window_buckets(f))


@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "America/New_York", "Europe/Madrid", "America/St_Johns"])
def test_local_days_read_fewer_blocks(tz):
    """A local day that starts off a UTC midnight: 9-12 blocks plain, about half signed."""
    plain, days = _blocks(tz, "day", False)
    signed, _ = _blocks(tz, "day", True)
    assert plain >= 9 * days and signed <= 0.8 * plain, (plain, signed, days)
    assert _blocks(tz, "week", True)[0] < _blocks(tz, "week", False)[0]


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe"])
def test_local_weeks_read_week_blocks(tz):
    """A year of weekly buckets: each local week one week block (± a few sub-day blocks off UTC)
    instead of 6-7 days and the rests (UTC 365 blocks → 59, New York 645 → 339 on 2025-12-07 ..
    2026-12-06; docs/rollups.md, «Week blocks»)."""
    f = parse_filters({"from": "2025-12-07", "to": "2026-12-06", "timezone": tz, "granularity": "week"}, "x")
    A, B = int(f.start_utc.timestamp()) // QH, int(f.end_utc.timestamp()) // QH
    cuts = qp.cuts_from_boundaries(qbuckets.bucket_cuts(f))
    sealed = rt.sealed_at(f.end_utc.timestamp())
    without = tuple(g for g in WIDE if g != rt.WEEK)
    old = qp.plan_ranges(A, B, cuts, True, without, sealed, signed=True)
    new = qp.plan_ranges(A, B, cuts, True, WIDE, sealed, signed=True)
    blocks = [sum(len(qp.blocks_of(r)) for r in plan) for plan in (old, new)]
    weeks = sum(len(qp.blocks_of(r)) for r in new if r[0] == rt.WEEK)
    assert weeks >= 50 and blocks[1] <= 0.7 * blocks[0], (blocks, weeks)
    assert counted(new, True) == counted(old, True)  # the same quarter-hours under the same keys


def test_utc_plans_do_not_change():
    for gran in ("hour", "day", "week", "month"):
        f = parse_filters({"from": "2026-01-05", "to": "2026-02-20", "timezone": "UTC", "granularity": gran}, "x")
        A, B = int(f.start_utc.timestamp()) // QH, int(f.end_utc.timestamp()) // QH
        cuts = qp.cuts_from_boundaries(qbuckets.bucket_cuts(f))
        assert qp.plan_ranges(A, B, cuts, True, WIDE, signed=True) == qp.plan_ranges(A, B, cuts, True, WIDE)


def test_the_reader_signs_the_keyed_families_only():
    f = parse_filters({"from": "2026-01-05", "to": "2026-03-29", "timezone": "Asia/Kathmandu"}, "x")
    A, B = int(f.start_utc.timestamp()) // QH, int(f.end_utc.timestamp()) // QH
    cuts = np.asarray(qbuckets.bucket_cuts(f), dtype="int64").tobytes()
    for fam in rt.FAMILIES:
        if fam.grains[0] != QH:
            continue
        ranges = qr._plan(f.timezone, A, B, cuts, True, 0, fam.grains, fam.folded, NO_SEAL, bool(fam.key_columns))[0]
        negative = any(qp.full_range(r)[8] < 0 for r in ranges)
        assert negative == (fam.name != "total"), fam.name


@pytest.fixture(scope="module")
def taken_away(engine):
    """An org in Kathmandu: rows every day, and agent `ghost` whose only row lies just before the
    window (23:50 local the day before), in the quarter-hour a signed plan takes away from the
    window's first local day."""
    rng = random.Random(4545)
    org = f"signed-{uuid.uuid4().hex[:8]}"
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        random_row(org, start + timedelta(minutes=rng.randrange(60 * 24 * 60)), rng, agents=("a1", "a2", None))
        for _ in range(600)
    ]
    # 2026-03-31 00:00 in Kathmandu (+05:45) is 03-30 18:15 UTC; 18:05 UTC is 23:50 local on the 30th.
    rows.append(random_row(org, datetime(2026, 3, 30, 18, 5, tzinfo=UTC), rng, agents=("ghost",)))
    insert_logs(engine, rows)
    rollups.refresh(engine)
    return org


def test_a_key_taken_away_whole_is_left_out(engine, taken_away):
    f = parse_filters(
        {"from": "2026-03-31", "to": "2026-04-20", "timezone": "Asia/Kathmandu", "granularity": "day"},
        taken_away,
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    raw, roll = on_both_paths(engine, queries.by_agent, f)
    assert_same_answer(roll, raw)
    assert "ghost" not in repr(roll)
    for fn in (queries.time_series, queries.model_efficiency, queries.summary):
        raw, roll = on_both_paths(engine, fn, f)
        assert_same_answer(roll, raw, fn.__name__)
    raw, roll = on_both_paths(engine, queries.time_series, f, True)  # by action: rollup_action, signed
    assert_same_answer(roll, raw)
