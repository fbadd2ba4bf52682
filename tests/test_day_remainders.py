"""The user family's whole days minus their raw rest (queries/rollup_plan.day_remainders).

A local day (or week) of a zone off the UTC day holds a long part of a UTC day; the user
family has no sub-day grain, so that part is read as the day's 1-day block minus the raw rows
of the rest of the day, counted negative. The rows here sit on purpose in those rests (the
hours around UTC midnight and around each zone's local midnight), two users have rows only
there (a block minus its rest leaves those users a key with no rows, which must not become
a user with zero executions), some rows are rolled up and some are in the live tail, across
DST changes (Madrid, New York, Chatham +12:45/+13:45) and Kathmandu +5:45. Every answer of
the rollup path equals the raw path's, on both engines.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from support.db import insert_logs, on_both_paths, random_row

import queries
from ingest import refresh as rollups
from queries import base as qbase, rollup_read as qr, slice_rows
from queries.rollup_plan import day_remainders
from storage.rollup_tables import DAY

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
HOURS = (0, 1, 4, 5, 12, 17, 18, 19, 22, 23)  # UTC hours near UTC midnight and these zones' midnights
SPANS = ((date(2026, 3, 20), date(2026, 4, 8)), (date(2026, 10, 20), date(2026, 11, 6)))
ZONES = ["Europe/Madrid", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham"]
WINDOWS = [  # (from, to, granularity)
    ("2026-03-22", "2026-04-06", "day"),
    ("2026-03-21", "2026-04-07", "week"),
    ("2026-10-21", "2026-11-05", "day"),
]


def _rows(rng: random.Random, org: str) -> list[dict]:
    rows = []
    for first, last in SPANS:
        for n in range((last - first).days + 1):
            day = datetime.combine(first + timedelta(days=n), datetime.min.time(), UTC)
            for hour in HOURS:
                for _ in range(rng.randint(0, 3)):
                    user = rng.choice(["u1", "u2", "u3", "u4", None])
                    rows.append(_row(org, day + timedelta(hours=hour, minutes=rng.randrange(60)), user, rng))
            # Users only in the rest of a UTC day: around Madrid's midnight, around New York's.
            rows.append(_row(org, day + timedelta(hours=23, minutes=20), "u-rest", rng))
            rows.append(_row(org, day + timedelta(hours=4, minutes=40), "u-dawn", rng))
    return rows


def _row(org: str, at: datetime, user: str | None, rng: random.Random) -> dict:
    return random_row(org, at, rng, user)


@pytest.fixture(scope="module")
def rem(own_engine):
    rng = random.Random(2026)
    org = f"rem-{uuid.uuid4().hex[:8]}"
    rows = _rows(rng, org)
    rng.shuffle(rows)
    cut = len(rows) * 4 // 5
    # One row just past the end of a window in Madrid (22:00 UTC in summer time), rolled up:
    # its day is read whole and the row taken away again, so that user has no row there.
    edge = _row(org, datetime(2026, 4, 6, 23, 20, tzinfo=UTC), "u-edge", rng)
    insert_logs(own_engine, [edge, *rows[:cut]])
    rollups.refresh(own_engine)
    insert_logs(own_engine, rows[cut:])  # the live tail: rows of every hour, rests included
    # The user family's plans are this module's subject: its users are read as a user past
    # queries.slice_rows.MAX_ROWS is (a narrow user's rows are summed in numpy instead).
    return own_engine.execution_options(**{slice_rows.OPTION: False}), org


def _filters(org: str, window, tz: str, **extra):
    start, end, gran = window
    params = {"from": start, "to": end, "timezone": tz, "granularity": gran, **extra}
    return queries.parse_filters(params, org, now=NOW)


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w[0]}-{w[2]}")
@pytest.mark.parametrize("tz", ZONES)
def test_users_ranking_and_sparklines_equal_raw(rem, tz, window):
    engine, org = rem
    for limit in (2, 50):
        f = _filters(org, window, tz)
        for ff in (f, replace(f, compare="previous")):
            raw, roll = on_both_paths(engine, queries.by_user, ff, limit)
            pd.testing.assert_frame_equal(roll.users, raw.users, check_exact=True)
            assert (roll.total_users, roll.others) == (raw.total_users, raw.others)
    assert raw.total_users >= 7  # u1…u4, u-rest, u-dawn, no user (and u-edge where the window holds it)


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w[0]}-{w[2]}")
@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("user", ["u-rest", "u-dawn", "u2", "none"])
def test_a_user_filtered_series_summary_and_cache_savings_equal_raw(rem, tz, window, user):
    engine, org = rem
    f = _filters(org, window, tz, userId=[user])
    for fn in (queries.time_series, queries.summary, queries.cache_savings, queries.by_agent):
        raw, roll = on_both_paths(engine, fn, f)
        pd.testing.assert_frame_equal(roll, raw, check_exact=True)


def test_madrid_days_read_whole_days_minus_an_hour(rem, monkeypatch):
    """The plan, seen in the statement: under a user filter, Madrid's daily buckets read whole
    UTC days and one raw hour per day, not 23 (two before 25 October, in summer time), read
    once: the rest taken away from a day is the twin of the next local day's piece."""
    engine, org = rem
    seen = []
    real = qr.build_query

    def spy(*a, **k):
        sql, params = real(*a, **k)
        seen.append((k["pieces"], k["blocks"], k["negatives"], sql))
        return sql, params

    monkeypatch.setattr(qr, "build_query", spy)
    f = _filters(org, WINDOWS[2], "Europe/Madrid", userId=["u1"])
    with qbase.facts_path(engine, "rollup").connect() as c:
        queries.time_series(c, f)
    pieces, blocks, negatives, sql = seen[0]
    assert len(blocks) >= 14
    # PostgreSQL reads the user's days as one index range joined to them, not one lookup per
    # day (rollup_rows.FEW_BLOCKS); the tests above check its answers against the raw rows.
    assert ("OFFSET 0) x JOIN (VALUES" in sql) == (engine.dialect.name == "postgresql")
    assert all(b - a <= 7200 for a, b, _k, _t in negatives)
    assert all(b - a <= 7200 for a, b in pieces)
    assert sum(t for *_s, t in negatives) >= len(blocks) - 1  # every day's rest but the window's last
    assert len(pieces) <= 1


def _coverage(ph: int, p: int, pieces, blocks, negatives) -> dict[tuple[int, int], int]:
    """How many times each quarter-hour is counted, and under which key (a piece's rows are
    keyed by their own segment's start)."""
    weight: dict[tuple[int, int], int] = {}
    parts = [(a, b, None, 1) for a, b in pieces]
    parts += [(d, d + DAY, key, 1) for d, key in blocks] + [(a, b, key, -1) for a, b, key, _t in negatives]
    parts += [(a, b, None, 1) for a, b, _k, twin in negatives if twin]  # the piece a twin stands for
    for a, b, key, sign in parts:
        for t in range(a, b, 900):
            k = (ph + (t - ph) // p * p) // 900 if key is None else key
            weight[t, k] = weight.get((t, k), 0) + sign
    return {k: v for k, v in weight.items() if v}


def test_day_remainders_cover_each_segment_once():
    """Pure: for segments of more than half a day, pieces + blocks − negatives count every
    quarter-hour of the ranges exactly once, in its own segment; shorter segments stay whole
    pieces."""
    rng = random.Random(5)
    for _ in range(200):
        ph = rng.randrange(0, DAY * 3, 900)
        p = rng.choice([DAY, DAY - 3600, DAY + 3600, 7 * DAY, 3600])
        lo = ph + rng.randrange(0, p, 900)
        hi = lo + rng.randrange(900, 3 * p, 900)
        pieces, blocks, negatives = day_remainders([(900, lo, hi, ph, p)], True)
        if p <= DAY // 2:
            assert pieces == [(lo, hi)] and not blocks and not negatives
            continue
        want = {(t, (ph + (t - ph) // p * p) // 900): 1 for t in range(lo, hi, 900)}
        assert _coverage(ph, p, pieces, blocks, negatives) == want
