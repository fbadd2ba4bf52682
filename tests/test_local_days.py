"""Day blocks at every quarter-hour offset in rollup_total (storage.local_days, migration 0018).

A plan reads a whole local day off UTC as one block at that day's offset (queries/rollup_local.py):
every quarter-hour is still read exactly once and keyed to its segment (pure, property-tested);
the refresh writes the blocks (each offset's blocks sum to every rolled-up row) and migration
0018 builds the same rows from the quarter-hours; every answer read through them equals the
raw rows' on both engines, in zones on both sides of UTC, 30- and 45-minute offsets and DST
days of 23 and 25 hours (Lord Howe's 30-minute change included).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import example, given, settings, strategies as st
from support.db import assert_same_answer, downgrade, insert_logs, on_both_paths, random_row, upgrade
from support.plans import segment_of, segment_starts

import queries
from ingest import refresh as rollups
from queries import rollup_plan as qp
from storage import local_days, rollup_tables as rt
from storage.engine import make_engine

QH, DAY = 900, rt.DAY
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ZONES = [
    "UTC",
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]


@st.composite
def local_plans(draw):
    A = draw(st.integers(0, 3 * 6144))
    B = A + draw(st.integers(1, 2 * 6144))
    cuts = None
    if draw(st.booleans()):
        step = draw(st.sampled_from([96, 96, 672, 2976, 92, 100, 4]))  # days, weeks, months, 23/25 h
        cuts = list(range(A - draw(st.integers(0, 200)), B + 1, step))
    sealed = draw(st.integers(0, (B * QH) // (8 * DAY) + 9)) * 8 * DAY
    return A, B, cuts, sealed


@settings(max_examples=400, deadline=None)
@given(local_plans())
@example((20, 20 + 96 * 30, list(range(20, 20 + 96 * 31, 96)), 0))  # 30 local days off a UTC midnight
@example((20, 20 + 96 * 30, None, 0))  # their total
def test_every_quarter_hour_is_read_once_in_its_segment(p):
    A, B, cuts, sealed = p
    ranges = qp.plan_ranges(
        A, B, np.array(cuts) if cuts is not None else None, True, rt.WIDE_GRAINS, sealed, local=True
    )
    seen: dict[int, int] = {}
    for r in ranges:
        code = r[0]
        for t, k, sign in qp.blocks_of(r):
            assert sign == 1 and rt.block_start(t, code) == t, (code, t)
            assert code not in rt.SEALED_GRAINS or t + code <= sealed
            for q in range(t // QH, (t + local_days.span(code)) // QH):
                assert q not in seen, f"quarter-hour {q} read twice"
                seen[q] = k // QH
    assert sorted(seen) == list(range(A, B))
    if cuts is not None:
        starts = segment_starts(A, B, cuts)
        assert all(k == segment_of(starts, q) for q, k in seen.items())


def _year_plan(tz: str, granularity: str) -> list:
    from queries.buckets import bucket_cuts

    f = queries.parse_filters(
        {"from": "2025-12-01", "to": "2026-11-30", "timezone": tz, "granularity": granularity}, "o"
    )
    A, B = int(f.start_utc.timestamp()) // QH, int(f.end_utc.timestamp()) // QH
    cuts = qp.cuts_from_boundaries(bucket_cuts(f))
    return qp.plan_ranges(A, B, cuts, True, rt.WIDE_GRAINS, rt.sealed_at(NOW.timestamp()), local=True)


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"])
def test_a_year_of_local_days_reads_a_block_a_day(tz):
    """The projection's year of daily points: 365 local-day blocks but the DST days, in a few ranges."""
    ranges = _year_plan(tz, "day")
    local = [r for r in ranges if local_days.offset_of(r[0]) is not None]
    assert sum(len(qp.blocks_of(r)) for r in local) >= 360 and len(local) <= 8, tz
    assert len(ranges) <= 60, (tz, len(ranges))  # 730 in Kathmandu before


def test_utc_plans_take_no_local_day():
    for g in ("day", "week", "month"):
        assert not [r for r in _year_plan("UTC", g) if local_days.offset_of(r[0]) is not None]


# ------------------------------------------------------------------ the database: writes, migration, answers


@pytest.fixture
def eng(migrated_url):
    e = make_engine(migrated_url)
    yield e
    e.dispose()


def _rows(rng: random.Random, org: str, start: datetime, days: int, n: int) -> list[dict]:
    return [
        random_row(org, start + timedelta(minutes=rng.randrange(days * 1440)), rng, rng.choice(["u1", "u2", None]))
        for _ in range(n)
    ]


def _local_rows(engine, org: str) -> dict:
    with engine.connect() as c:
        got = c.execute(
            sa.text(
                "SELECT grain, t, source, cost_e8, executions, input_tokens FROM rollup_total"
                " WHERE org_id = :o AND grain < :hi AND grain > :lo"
            ),
            {"o": org, "hi": -DAY, "lo": -2 * DAY},
        ).all()
    return {(int(g), int(t), s): (int(c), int(e), int(i)) for g, t, s, c, e, i in got}


def test_the_refresh_writes_every_offset_and_0018_builds_the_same_rows(eng):
    org = "ld"
    rng = random.Random(18)
    insert_logs(eng, _rows(rng, org, datetime(2026, 3, 1, tzinfo=UTC), 60, 600))
    rollups.refresh(eng)
    rows = _local_rows(eng, org)
    assert {g for g, _t, _s in rows} == set(local_days.GRAINS)
    for g in local_days.GRAINS:  # each offset's blocks hold every rolled-up row once
        o = local_days.offset_of(g)
        mine = [v for (gg, t, _s), v in rows.items() if gg == g]
        assert all((t - o) % DAY == 0 for gg, t, _s in rows if gg == g)
        assert sum(v[1] for v in mine) == 600 and sum(v[0] for v in mine) == _total(eng, org)
    with eng.connect() as c:
        version = rt.read_state(c).version
    downgrade(eng, "0017")
    assert _local_rows(eng, org) == {}
    upgrade(eng, "head")
    assert _local_rows(eng, org) == rows
    with eng.connect() as c:
        assert rt.read_state(c).version == version + 2


def _total(engine, org: str) -> int:
    with engine.connect() as c:
        return int(
            c.execute(
                sa.text("SELECT SUM(cost_e8) FROM rollup_total WHERE org_id = :o AND grain = 900"), {"o": org}
            ).scalar_one()
        )


def test_answers_read_through_local_days_equal_the_raw_rows(eng, monkeypatch):
    """The total family's figures by day, week and month, the projection and the totals, in zones
    whose days are local-day blocks, equal the raw rows' (late rows added after the first refresh
    included: they go to the blocks of every offset); the reader does read such blocks."""
    from queries import rollup_read

    read: list[int] = []
    build = rollup_read.build_query

    def spy(dialect, family, dims, by_qh, ranges, *a, **k):
        read.append(sum(len(qp.blocks_of(r)) for r in ranges if local_days.offset_of(r[0]) is not None))
        return build(dialect, family, dims, by_qh, ranges, *a, **k)

    monkeypatch.setattr(rollup_read, "build_query", spy)
    rollup_read._planned.cache_clear()
    org = "ldq"
    rng = random.Random(19)
    start = datetime(2026, 2, 20, tzinfo=UTC)
    insert_logs(eng, _rows(rng, org, start, 120, 1500))
    rollups.refresh(eng)
    insert_logs(eng, _rows(rng, org, start, 120, 200))  # late rows: new ids, old times
    rollups.refresh(eng)
    now = datetime(2026, 6, 10, 15, tzinfo=UTC)
    for tz in ZONES:
        read.clear()
        for granularity, window in (("day", ("2026-03-01", "2026-06-10")), ("week", ("2026-02-23", "2026-06-10"))):
            f = queries.parse_filters(
                {"from": window[0], "to": window[1], "timezone": tz, "granularity": granularity}, org, now=now
            )
            for fn in (queries.time_series, queries.projection, queries.summary):
                raw, roll = on_both_paths(eng, fn, f)
                assert_same_answer(roll, raw, f"{fn.__name__} {granularity} {tz}")
        f = queries.parse_filters(
            {"from": "2026-02-21", "to": "2026-06-09", "timezone": tz, "granularity": "month"}, org, now=now
        )
        raw, roll = on_both_paths(eng, queries.time_series, f)
        assert_same_answer(roll, raw, f"month {tz}")
        assert (sum(read) >= 150) == (tz != "UTC"), (tz, sum(read))  # ~100 days, ~15 weeks of 7, ×3 reads
