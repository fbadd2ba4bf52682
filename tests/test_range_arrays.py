"""The rollup reader's ranges as bound arrays on PostgreSQL (queries/rollup_sql.py).

A year of local days in a zone off the UTC quarter-hour grid (Kathmandu +5:45) plans
hundreds of read ranges; PostgreSQL gets them as nine array parameters unnested, not as
hundreds of VALUES rows (which cost more to parse and plan than to run). Few ranges stay
VALUES rows. Both spellings must read the same rows: every answer here is compared with
the raw path and with the VALUES spelling forced, on both engines (SQLite always uses VALUES).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from support.db import assert_same_answer, insert_logs, random_row

import queries
from ingest import refresh as rollups
from queries import base as qbase, rollup_read as qr, rollup_sql
from queries.rollup_plan import NO_FOLD

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ZONES = ["Asia/Kathmandu", "America/New_York", "UTC"]


@pytest.fixture(scope="module")
def engine(own_engine):
    return own_engine


@pytest.fixture(scope="module")
def org(engine):
    rng = random.Random(45)
    org = f"arr-{uuid.uuid4().hex[:8]}"
    start = datetime(2026, 6, 1, tzinfo=UTC)
    rows = []
    for _ in range(3000):
        at = start + timedelta(minutes=rng.randrange(183 * 24 * 60))
        rows.append(
            random_row(
                org,
                at,
                rng,
                rng.choice(["u1", "u2", None]),
                action_type=rng.choice(["user_interaction", "tool_call"]),
                model=rng.choice(["gpt-4o", "gpt-4o-mini"]),
                cache_write_tokens=rng.randint(0, 20),
            )
        )
    insert_logs(engine, rows[:2500])
    rollups.refresh(engine)
    insert_logs(engine, rows[2500:])  # and a live tail
    return org


def _filters(org: str, tz: str, gran: str):
    params = {"from": "2026-06-03", "to": "2026-11-28", "timezone": tz, "granularity": gran}
    return queries.parse_filters(params, org, now=NOW)


def _answers(engine, f, path="rollup"):
    with qbase.facts_path(engine, path).connect() as c:
        return [
            queries.time_series(c, f),
            queries.time_series(c, f, True),
            queries.by_agent(c, f),
            queries.projection(c, f),
            queries.summary(c, f),
        ]


def _same(a, b):
    for x, y in zip(a, b, strict=True):
        assert_same_answer(x, y)


@pytest.mark.parametrize("gran", ["day", "week"])
@pytest.mark.parametrize("tz", ZONES)
def test_long_range_lists_read_what_values_rows_read(engine, org, tz, gran, monkeypatch):
    f = _filters(org, tz, gran)
    seen: list[tuple[int, str]] = []
    real = qr.build_query

    def spy(*a, **k):
        sql, params = real(*a, **k)
        seen.append((len(a[4]), sql))
        return sql, params

    monkeypatch.setattr(qr, "build_query", spy)
    arrays = _answers(engine, f)
    many = [sql for n, sql in seen if n > rollup_sql.FEW_RANGES]
    if engine.dialect.name == "postgresql":
        if tz == "Asia/Kathmandu" and gran == "day":  # the case the arrays are for
            assert many, "a half year of Kathmandu's days plans more than FEW_RANGES ranges"
        assert all("unnest(" in sql and "VALUES (" not in sql.split(") SELECT", 1)[0] for sql in many)
    else:
        assert not any("unnest(" in sql for _n, sql in seen)
    monkeypatch.setattr(rollup_sql, "FEW_RANGES", 10**9)  # every plan as VALUES rows
    _same(arrays, _answers(engine, f))
    _same(arrays, _answers(engine, f, "raw"))


def test_arrays_are_the_values_columns():
    # A plain range, a folded one and a residue one (shifted, fitting its period, taken away).
    ranges = (
        (900, 0, 2700, 0, 3600),
        (3600, 3600, 7200, 0, 86400, 604800),
        (900, 900, 1800, 1800, 86400, NO_FOLD, 900, 86400, -1),
    )
    assert rollup_sql._arrays(ranges) == (
        "{900,3600,900}",
        "{0,3600,900}",
        "{2700,7200,1800}",
        "{0,0,1800}",
        "{3600,86400,86400}",
        f"{{{NO_FOLD},604800,{NO_FOLD}}}",
        "{0,0,900}",
        "{900,3600,86400}",
        "{1,1,-1}",
    )
    first = ", ".join(f"CAST({v} AS BIGINT)" for v in (900, 0, 2700, 0, 3600, NO_FOLD, 0, 900, 1))
    assert rollup_sql._values(ranges) == (
        f"({first}), (3600, 3600, 7200, 0, 86400, 604800, 0, 3600, 1), (900, 900, 1800, 1800, 86400, {NO_FOLD}, 900, 86400, -1)"
    )
