"""PostgreSQL groups a user's or an agent's raw rows by hash (queries.base.raw_facts).

Their read is a UNION ALL of the short rows (through the partial user and agent indexes) and
the long ones; grouped over it, the planner sees no column statistics, guessed tens of
thousands of groups where there are a handful, and sorted hundreds of thousands of rows on
disk to group them. The read turns sorting off for that one statement and puts the setting
back as it was; the answers are the independent reference's (tests/test_slices.py and
tests/test_queries.py hold them on both engines).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from support.db import insert_logs
from test_migration_cost import _rows

import queries
from queries.base import facts_path
from storage.long_rows import short_sql

OFF = "set_config('enable_sort', 'off', true)"
BACK = "SELECT set_config('enable_sort', %(v)s, true)"


@pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
@pytest.mark.parametrize("sliced", [{"userId": ["u1"]}, {"agentId": ["a2"]}])
@pytest.mark.parametrize("before", ["on", "off"])
def test_a_sliced_raw_read_groups_by_hash_and_puts_the_setting_back(migrated_url, sliced, before):
    from storage.engine import make_engine

    engine = make_engine(migrated_url)
    insert_logs(engine, _rows(41, lambda i: ["a1", "a2"][i % 2], lambda i: [None, "u1", "u2"][i % 3])[:600])
    f = queries.parse_filters(
        {"from": "2026-03-02", "to": "2026-03-15", "timezone": "Asia/Kathmandu", **sliced},
        "o",
        now=datetime(2026, 3, 20, tzinfo=UTC),
    )
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    raw = facts_path(engine, "raw")
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with raw.connect() as c:
            c.exec_driver_sql(f"SET LOCAL enable_sort = {before}")
            s = queries.summary(c, f)
            series = queries.time_series(c, f, True)
            after = c.exec_driver_sql("SHOW enable_sort").scalar()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
        engine.dispose()
    assert after == before  # as it was before the reads
    assert int(s.iloc[0]["executions"]) > 0 and len(series)
    reads = [i for i, st in enumerate(seen) if short_sql("postgresql") in st and "UNION ALL" in st]
    assert len(reads) >= 2
    for i in reads:  # each sliced read, and only it, without sorting
        assert OFF in seen[i - 1], seen[i - 1]
        assert seen[i + 1] == BACK, seen[i + 1]
