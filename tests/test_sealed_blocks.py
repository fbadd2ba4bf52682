"""Sealed 8-day and week blocks (migrations 0016, 0017): they are written once they have ended.

- The plan (pure): no read range and no signed cover takes an 8-day or week block that ends
  after the seal, and every quarter-hour is still read once, keyed by its segment.
- The refresh: a catch-up writes no row of an open 8-day or week block (the 64-day ones stay
  written); the first refresh past a block's end builds it from the day rows, and it then
  equals what `refresh --full` writes at the same instant (late rows into sealed blocks
  included); every answer read through them equals the raw rows' on both engines, before
  and after the seal moves.
- The migrations: 0016 deletes the open blocks' rows, its downgrade builds them as 0015 did;
  0017 builds the ended week blocks from the day rows (as the refresh writes them), its
  downgrade deletes them.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings, strategies as st
from support.db import assert_same_answer, assert_same_users, downgrade, insert_logs, on_both_paths, random_row, upgrade
from support.plans import segment_of, segment_starts

import queries
from ingest import refresh as rollups
from queries import rollup_plan as qp
from queries.rollup_signed import signed_cover
from queries.users import user_totals
from storage import rollup_tables as rt
from storage.engine import make_engine

QH, DAY = 900, rt.DAY
WEEK = rt.WEEK
COARSE = (WEEK, 8 * DAY, 64 * DAY)
SEALED = rt.SEALED_GRAIN
WIDE = rt.WIDE_GRAINS


# ------------------------------------------------------------------ the plan (pure)


@st.composite
def sealed_plans(draw):
    block = 64 * DAY // QH  # 6,144 quarter-hours
    A = draw(st.integers(0, 4 * block))
    B = A + draw(st.integers(1, 4 * block))
    by_qh = draw(st.booleans())
    cuts = None
    if by_qh and draw(st.booleans()):
        step = draw(st.sampled_from([96, 672, 2976, 97, 95, -672]))
        if step == -672:  # weeks starting on a UTC Monday, or off it by a few hours
            monday = (A - rt.WEEK_START // QH) // (WEEK // QH) * (WEEK // QH) + rt.WEEK_START // QH
            cuts = list(range(monday + draw(st.sampled_from([0, 0, 20, -23])), B + 1, WEEK // QH))
        else:
            cuts = list(range(A - draw(st.integers(0, 200)), B + 1, step))
    sealed = draw(st.integers(0, (B * QH) // (8 * DAY) + 9)) * 8 * DAY
    return A, B, cuts, by_qh, sealed


@settings(max_examples=300, deadline=None)
@given(sealed_plans())
def test_plan_reads_no_block_past_the_seal_and_every_quarter_hour_once(p):
    A, B, cuts, by_qh, sealed = p
    ranges = qp.plan_ranges(A, B, np.array(cuts) if cuts is not None else None, by_qh, WIDE, sealed)
    seen: dict[int, int] = {}
    for r in ranges:
        g = r[0]
        for t, k, _sign in qp.blocks_of(r):  # the blocks SQL reads: the lattice keeps them inside their segment
            assert g not in rt.SEALED_GRAINS or t + g <= sealed, ("a block past the seal", g, t, sealed)
            assert t == rt.block_start(t, g), ("a block off its grain's alignment", g, t)
            for q in range(t // QH, (t + g) // QH):
                assert q not in seen, f"quarter-hour {q} read twice"
                seen[q] = k // QH
    assert sorted(seen) == list(range(A, B))
    if by_qh and cuts is not None:
        starts = segment_starts(A, B, cuts)
        assert all(k == segment_of(starts, q) for q, k in seen.items())


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(1, 400), st.integers(0, 110))
def test_signed_cover_takes_no_block_past_the_seal_and_counts_every_day_once(d0, n, seal_steps):
    sealed = seal_steps * 8 * DAY
    grains = rt.USER_GRAINS
    added, taken = signed_cover(d0 * DAY, (d0 + n) * DAY, grains, tuple(rt.BLOCK_COSTS[g] for g in grains), sealed)
    count: dict[int, int] = {}
    for spans, sign in ((added, 1), (taken, -1)):
        for g, lo, hi in spans:
            for t in range(lo, hi, g):
                assert g != SEALED or t + g <= sealed, ("a block past the seal", g, t, sealed)
                for d in range(t // DAY, (t + g) // DAY):
                    count[d] = count.get(d, 0) + sign
    assert {d for d, c in count.items() if c} == set(range(d0, d0 + n))
    assert all(c in (0, 1) for c in count.values())


# ------------------------------------------------------------------ the refresh and the answers

# The seal when the test's data is first rolled up: an 8-day boundary (not a 64-day one), so
# that the clock moved by 70 days passes 8-day and 64-day block ends.
S0 = rt.sealed_at(datetime(2026, 5, 20, tzinfo=UTC).timestamp())
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)  # the requests' clock: after every window
WINDOWS = [("2026-01-20", "2026-07-31"), ("2026-05-03", "2026-06-30"), ("2026-04-01", "2026-09-10")]
ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns"]


@pytest.fixture
def eng(migrated_url, monkeypatch):
    """A private database whose seal starts at S0, and a refresh clock the test moves."""
    e = make_engine(migrated_url)
    with e.begin() as c:
        c.execute(sa.text("UPDATE rollup_state SET sealed = :s"), {"s": S0})
    clock = [S0 + 3 * DAY]
    monkeypatch.setattr(rollups, "seal_clock", lambda _as_of: clock[0])
    e.clock = clock  # type: ignore[attr-defined]
    yield e
    e.dispose()


def _rows(rng: random.Random, org: str, start: datetime, days: int, n: int) -> list[dict]:
    return [
        random_row(
            org,
            start + timedelta(minutes=rng.randrange(days * 1440)),
            rng,
            rng.choice(["u1", "u2", "u3", "u4", None]),
            model=rng.choice(["m1", "m2"]),
            action_type=rng.choice(["chat", "tool"]),
        )
        for _ in range(n)
    ]


def _coarse(engine, org: str, grains: tuple[int, ...] = COARSE) -> dict:
    """The org's rows of every grain coarser than a day (or of `grains`): (table, key…) -> measures."""
    out = {}
    with engine.connect() as c:
        for fam in rt.FAMILIES:
            for r in c.execute(
                sa.text(f"SELECT * FROM {fam.table} WHERE org_id = :o AND grain IN ({', '.join(map(str, grains))})"),
                {"o": org},
            ).mappings():
                out[(fam.table, *(r[k] for k in ("grain", "t", "source", *fam.key_columns)))] = tuple(
                    int(r[m]) for m in fam.measures
                )
    return out


def _past_the_seal(engine) -> int:
    with engine.connect() as c:
        sealed = rt.read_state(c).sealed
        return sum(
            int(
                c.execute(
                    sa.text(f"SELECT COUNT(*) FROM {t} WHERE grain IN {rt.SEALED_GRAINS} AND t + grain > :s"),
                    {"s": sealed},
                ).scalar()
            )
            for t in rt.TABLES
        )


def _assert_exact(engine, org: str) -> None:
    """Every figure that reads the coarse blocks equals the raw rows' (both paths, this engine)."""
    for window in WINDOWS:
        for tz in ZONES:
            for gran in ("auto", "month", "week"):
                f = queries.parse_filters(
                    {"from": window[0], "to": window[1], "timezone": tz, "granularity": gran}, org, now=NOW
                )
                for fn in (queries.summary, queries.time_series, queries.model_efficiency, queries.by_agent):
                    raw, roll = on_both_paths(engine, fn, f)
                    assert_same_answer(roll, raw, (fn.__name__, window, tz, gran))
            assert_same_users(*on_both_paths(engine, user_totals, f))
            raw_u, roll_u = on_both_paths(engine, queries.by_user, replace(f, compare="previous"), 3)
            pd.testing.assert_frame_equal(roll_u.users, raw_u.users, check_exact=True)
            assert (roll_u.total_users, roll_u.others) == (raw_u.total_users, raw_u.others)


def _same_as_full(engine, org: str) -> None:
    """The incremental rollups' coarse rows equal those a full rebuild writes at the same clock."""
    incremental = _coarse(engine, org)
    rollups.refresh(engine, full=True)
    assert _coarse(engine, org) == incremental


def test_blocks_are_written_when_they_end_and_answers_stay_exact(eng):
    rng = random.Random(16)
    org = "sealed"
    start = datetime.fromtimestamp(S0, UTC) - timedelta(days=150)
    rows = _rows(rng, org, start, 260, 900)
    first, later = rows[:600], rows[600:]
    insert_logs(eng, first)
    rollups.refresh(eng)
    with eng.connect() as c:
        assert rt.read_state(c).sealed == S0
    assert _past_the_seal(eng) == 0  # the open 8-day block: no row
    assert any(k[1] == SEALED for k in _coarse(eng, org))  # the ended ones: written
    assert any(k[1] == WEEK for k in _coarse(eng, org))
    open64 = S0 // (64 * DAY) * 64 * DAY
    assert any(k[1] == 64 * DAY and k[2] == open64 for k in _coarse(eng, org))  # the open 64-day one too
    _assert_exact(eng, org)

    # 70 days later, nothing new: the refresh seals the 8-day blocks that ended meanwhile.
    eng.clock[0] = S0 + 70 * DAY
    before = _coarse(eng, org)
    r = rollups.refresh(eng)
    assert r.rows == 0
    with eng.connect() as c:
        assert rt.read_state(c).sealed == S0 + 64 * DAY
    grew = {k[1] for k in set(_coarse(eng, org)) - set(before)}
    assert grew == {WEEK, SEALED}, grew
    assert _past_the_seal(eng) == 0
    _same_as_full(eng, org)
    _assert_exact(eng, org)

    # Late rows (into sealed blocks) and rows in blocks still open, plus the live tail.
    late = _rows(rng, org, start, 80, 60)
    insert_logs(eng, later + late)
    rollups.refresh(eng)
    assert _past_the_seal(eng) == 0
    _same_as_full(eng, org)
    insert_logs(eng, _rows(rng, org, start, 260, 40))  # not rolled up: read live
    _assert_exact(eng, org)


def test_a_seal_never_moves_back(eng):
    insert_logs(eng, _rows(random.Random(3), "back", datetime(2026, 3, 1, tzinfo=UTC), 60, 50))
    rollups.refresh(eng)
    eng.clock[0] = S0 - 40 * DAY  # a clock behind the seal (another machine's): kept
    rollups.refresh(eng, full=True)
    rollups.refresh(eng)
    with eng.connect() as c:
        assert rt.read_state(c).sealed == S0
    assert _past_the_seal(eng) == 0


# ------------------------------------------------------------------ the migration


def test_0016_deletes_the_open_blocks_and_its_downgrade_builds_them_as_0015(fresh):
    upgrade(fresh, "head")
    rng = random.Random(160)
    today = datetime.combine(date.today(), datetime.min.time(), UTC)
    rows = _rows(rng, "mig", today - timedelta(days=200), 200, 400)
    rows += _rows(rng, "mig", today - timedelta(days=3), 3, 40)  # rows in the 8-day block still open
    insert_logs(fresh, rows)
    rollups.refresh(fresh)
    wide = (8 * DAY, 64 * DAY)
    at_head = _coarse(fresh, "mig", wide)
    assert at_head and _past_the_seal(fresh) == 0

    downgrade(fresh, "0015")  # the open blocks built again from the days
    with_open = _coarse(fresh, "mig", wide)
    assert set(at_head) < set(with_open)
    downgrade(fresh, "0014")
    upgrade(fresh, "0015")  # 0015 builds every block from the days: the same rows
    assert _coarse(fresh, "mig", wide) == with_open

    upgrade(fresh, "head")
    assert _coarse(fresh, "mig", wide) == at_head
    with fresh.connect() as c:
        assert rt.read_state(c).sealed == rt.sealed_at(datetime.now(UTC).timestamp())


def test_0017_builds_the_ended_week_blocks_as_the_refresh_writes_them_and_its_downgrade_deletes_them(fresh):
    upgrade(fresh, "head")
    rng = random.Random(170)
    today = datetime.combine(date.today(), datetime.min.time(), UTC)
    rows = _rows(rng, "wk", today - timedelta(days=120), 120, 400)
    rows += _rows(rng, "wk", today - timedelta(days=2), 2, 40)  # rows in the week still open
    insert_logs(fresh, rows)
    rollups.refresh(fresh)
    weeks = _coarse(fresh, "wk", (WEEK,))
    assert len({k[2] for k in weeks}) >= 15 and _past_the_seal(fresh) == 0
    assert all((t - rt.WEEK_START) % WEEK == 0 for _table, _g, t, *_rest in weeks)  # Mondays, 00:00 UTC
    assert {k[0] for k in weeks} == {"rollup_total", "rollup_action", "rollup_model", "rollup_agent"}
    with fresh.connect() as c:
        version = rt.read_state(c).version

    downgrade(fresh, "0016")  # 0018 then 0017 down: two bumps
    assert _coarse(fresh, "wk", (WEEK,)) == {}
    upgrade(fresh, "0017")  # built from the day rows: the refresh's rows, none past the seal
    assert _coarse(fresh, "wk", (WEEK,)) == weeks and _past_the_seal(fresh) == 0
    with fresh.connect() as c:
        assert rt.read_state(c).version == version + 3  # answers planned before any are not reused


# Local weeks as a UTC week block ± sub-day spans: zones on both sides of UTC, 30- and 45-minute
# offsets, a 30-minute DST change (Lord Howe), ±14 hours (a local Monday on a UTC Sunday).
WEEK_ZONES = [
    "UTC",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]


def test_weekly_answers_read_week_blocks_and_equal_the_raw_rows(eng):
    """Every figure of a weekly window (sparklines, points, actions, cache points, the models and
    the totals) equals the raw rows' in zones whose weeks are a week block, or one plus and minus
    sub-day spans; the plan does take week blocks there (DST weeks included)."""
    rng = random.Random(17)
    org = "weeks"
    start = datetime.fromtimestamp(S0, UTC) - timedelta(days=200)
    insert_logs(eng, _rows(rng, org, start, 230, 1500))
    rollups.refresh(eng)
    with eng.connect() as c:
        sealed = rt.read_state(c).sealed
    for tz in WEEK_ZONES:
        f = queries.parse_filters(
            {"from": "2026-01-01", "to": "2026-05-10", "timezone": tz, "granularity": "week"}, org, now=NOW
        )
        A, B = int(f.start_utc.timestamp()) // QH, int(f.end_utc.timestamp()) // QH
        cuts = qp.cuts_from_boundaries(queries.buckets.bucket_cuts(f))
        ranges = qp.plan_ranges(A, B, cuts, True, WIDE, sealed, signed=True)
        assert sum(len(qp.blocks_of(r)) for r in ranges if r[0] == WEEK) >= 15, tz
        for fn, args in (
            (queries.by_agent, ()),
            (queries.time_series, ()),
            (queries.time_series, (True,)),
            (queries.model_efficiency, ()),
            (queries.summary, ()),
            (queries.cache_economics, ()),
        ):
            raw, roll = on_both_paths(eng, fn, f, *args)
            assert_same_answer(roll, raw, f"{fn.__name__}{args} {tz}")
