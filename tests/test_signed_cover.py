"""Totals of the user family from coarse blocks added and taken away (rollup_signed.signed_cover).

The users' ranking sums every user over a window's whole days. The user family keeps 1-, 8-
and 64-day blocks; a 64-day block that overhangs the window, less its overhang (read as
blocks too, negative), reads fewer rows than the finer blocks inside. Sums are integers, so
the answer is the raw rows' exactly — including users whose rows all lie in the overhang
(they net to no executions and must not appear) — on both engines, in zones on and off the
UTC day, with a live tail.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from support.db import assert_same_answer, assert_same_users, insert_logs, on_both_paths, random_row

import queries
from ingest import refresh as rollups
from queries import rollup_read as qr
from queries.rollup_signed import signed_cover
from queries.users import user_totals
from storage.rollup_tables import BLOCK_COSTS, DAY, USER_GRAINS

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
FIRST = datetime(2026, 3, 1, tzinfo=UTC)
WINDOWS = [("2026-05-03", "2026-07-31"), ("2026-04-10", "2026-11-20"), ("2026-06-02", "2026-07-01")]
ZONES = ["UTC", "Europe/Madrid", "Asia/Kathmandu", "America/New_York"]


@pytest.fixture(scope="module")
def engine(own_engine):
    return own_engine


@pytest.fixture(scope="module")
def org(engine):
    rng = random.Random(64)
    org = f"sc-{uuid.uuid4().hex[:8]}"
    rows = []
    for day in range(275):  # March to November: 64-day blocks overhang every window's ends
        at = FIRST + timedelta(days=day)
        for _ in range(rng.randint(2, 8)):
            rows.append(
                _row(org, at + timedelta(minutes=rng.randrange(1440)), rng.choice(["u1", "u2", "u3", None]), rng)
            )
        # A user per window edge, only on the UTC day just outside it: all in the overhang.
        for i, (start, end) in enumerate(WINDOWS):
            for user, d in (
                (f"w{i}-before", date.fromisoformat(start) - timedelta(days=1)),
                (f"w{i}-after", date.fromisoformat(end) + timedelta(days=2)),
            ):
                if at.date() == d:
                    rows.append(_row(org, at + timedelta(hours=12), user, rng))
    rng.shuffle(rows)
    cut = len(rows) * 9 // 10
    insert_logs(engine, rows[:cut])
    rollups.refresh(engine)
    insert_logs(engine, rows[cut:])  # the live tail
    return org


def _row(org: str, at: datetime, user: str | None, rng: random.Random) -> dict:
    return random_row(org, at, rng, user, agents=("a1", None))


def _filters(org: str, window, tz: str, **extra):
    return queries.parse_filters({"from": window[0], "to": window[1], "timezone": tz, **extra}, org, now=NOW)


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w[0]}..{w[1]}")
@pytest.mark.parametrize("tz", ZONES)
def test_user_totals_from_signed_blocks_equal_raw(engine, org, tz, window, monkeypatch):
    seen = []
    real = qr.build_query

    def spy(*a, **k):
        seen.append(k.get("minus", ()))
        return real(*a, **k)

    monkeypatch.setattr(qr, "build_query", spy)
    f = _filters(org, window, tz)
    raw, roll = on_both_paths(engine, user_totals, f)
    assert_same_users(raw, roll)
    i = WINDOWS.index(window)
    assert not {f"w{i}-before", f"w{i}-after"} & set(roll["user_id"].dropna())  # nets to nothing here
    for limit in (2, 50):
        for ff in (f, replace(f, compare="previous")):
            raw_u, roll_u = on_both_paths(engine, queries.by_user, ff, limit)
            pd.testing.assert_frame_equal(roll_u.users, raw_u.users, check_exact=True)
            assert (roll_u.total_users, roll_u.others) == (raw_u.total_users, raw_u.others)
    for user in ("u1", f"w{i}-after", "none"):
        raw_s, roll_s = on_both_paths(engine, queries.summary, _filters(org, window, tz, userId=[user]))
        assert_same_answer(roll_s, raw_s, user)
    if window != WINDOWS[2]:  # 89 and 225 days: some coarse block overhangs and is taken back
        assert any(seen), "the plan took no block away"


def test_signed_cover_counts_every_day_once():
    costs = tuple(BLOCK_COSTS[g] for g in USER_GRAINS)
    rng = random.Random(7)
    for _ in range(3000):
        d0 = rng.randrange(19000, 21000)
        d1 = d0 + rng.randrange(1, 500)
        added, taken = signed_cover(d0 * DAY, d1 * DAY, USER_GRAINS, costs)
        weight: dict[int, int] = {}
        for sign, spans in ((1, added), (-1, taken)):
            for g, lo, hi in spans:
                assert g in USER_GRAINS and lo % g == 0 and hi % g == 0 and lo < hi
                for t in range(lo, hi, DAY):
                    weight[t] = weight.get(t, 0) + sign
        assert {t for t, w in weight.items() if w} == set(range(d0 * DAY, d1 * DAY, DAY))
        assert set(weight.values()) <= {0, 1}
        # Never dearer than the blocks inside the window alone (the plan before).
        cost = sum((hi - lo) // g * BLOCK_COSTS[g] for g, lo, hi in added + taken)
        inside = signed_cover(d0 * DAY, d1 * DAY, USER_GRAINS, (costs[0], 1e9, 1e9))
        assert cost <= sum((hi - lo) // g * BLOCK_COSTS[g] for g, lo, hi in inside[0])
