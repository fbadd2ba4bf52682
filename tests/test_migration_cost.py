"""Migrations that change what is stored or how it is read, on a database that already has
data: 0005 (prices kept, rollups cleared with their watermark, one always-row per model,
back down to 0004), 0009 (the agent index), 0010 (the covering user index, and that a
user-filtered page reads the user's raw rows from it alone) and 0011 (the agent rollup
index, and that an agent-filtered page reads rollup_agent through it), 0012 (the rollups
rebuilt only when a stored row lies out of the counted range), 0013 (long rows out of the
user and agent indexes, into their own; the rollups rebuilt only when one is stored)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from support.db import downgrade, upgrade


def test_0005_keeps_prices_clears_rollups_and_goes_back(fresh):
    upgrade(fresh, "0004")
    with fresh.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO price_overrides (provider, model, input_usd_per_mtok, cache_read_usd_per_mtok,"
                " output_usd_per_mtok) VALUES ('p', 'm', 1, 0.1, 2)"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO rollup_model (org_id, grain, t, source, provider, model, cost_e8, input_tokens,"
                " output_tokens, cache_read_tokens, cache_write_tokens, executions, latency_sum, latency_count)"
                " VALUES ('o', 900, 0, 'system', 'p', 'm', 1, 1, 1, 1, 1, 1, 1, 1)"
            )
        )
        c.execute(sa.text("UPDATE rollup_state SET watermark = 5, version = 3"))
    upgrade(fresh, "0005")
    with fresh.begin() as c:
        rows = c.execute(
            sa.text(
                "SELECT provider, model, valid_from, input_usd_per_mtok, cache_write_usd_per_mtok, output_usd_per_mtok"
                " FROM price_overrides"
            )
        ).all()
        assert [(p, m, vf, float(i), w, float(o)) for p, m, vf, i, w, o in rows] == [("p", "m", None, 1.0, None, 2.0)]
        assert c.execute(sa.text("SELECT COUNT(*) FROM rollup_model")).scalar() == 0
        assert tuple(c.execute(sa.text("SELECT watermark, version FROM rollup_state")).one()) == (0, 4)
        c.execute(
            sa.text(
                "INSERT INTO price_overrides (provider, model, valid_from, input_usd_per_mtok,"
                " cache_read_usd_per_mtok, cache_write_usd_per_mtok) VALUES ('p', 'm', '2026-01-01 00:00:00', 3, 0.3, 3.75)"
            )
        )
    with pytest.raises(sa.exc.IntegrityError), fresh.begin() as c:  # a second always-row for the model
        c.execute(
            sa.text(
                "INSERT INTO price_overrides (provider, model, input_usd_per_mtok, cache_read_usd_per_mtok)"
                " VALUES ('p', 'm', 3, 0.3)"
            )
        )
    downgrade(fresh, "0004")
    with fresh.connect() as c:
        rows = c.execute(sa.text("SELECT provider, model, input_usd_per_mtok FROM price_overrides")).all()
        assert [(p, m, float(i)) for p, m, i in rows] == [("p", "m", 1.0)]
    upgrade(fresh, "head")


def test_0009_indexes_an_agents_raw_rows_keeps_the_rollups_and_goes_back(fresh):
    upgrade(fresh, "0008")
    with fresh.begin() as c:
        c.execute(sa.text("UPDATE rollup_state SET watermark = 5, version = 3"))
    upgrade(fresh, "0009")

    def indexes() -> set[str]:
        return {i["name"] for i in sa.inspect(fresh).get_indexes("token_usage_logs")}

    assert {"ix_tul_org_agent_created", "ix_tul_org_user_created", "ix_tul_org_created"} <= indexes()
    cols = {i["name"]: i["column_names"] for i in sa.inspect(fresh).get_indexes("token_usage_logs")}
    assert cols["ix_tul_org_agent_created"] == ["org_id", "agent_id", "created_at"]
    with fresh.begin() as c:  # nothing to rebuild: the watermark stays
        assert tuple(c.execute(sa.text("SELECT watermark, version FROM rollup_state")).one()) == (5, 3)
    downgrade(fresh, "0008")
    assert "ix_tul_org_agent_created" not in indexes()


COVERED = [
    "id",
    "source",
    "agent_id",
    "action_type",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "latency_ms",
]


def _user_index(engine) -> str:
    """The user index as PostgreSQL would create it again (SQLite: its key columns)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            return str(c.execute(sa.text("SELECT pg_get_indexdef('ix_tul_org_user_created'::regclass)")).scalar())
    cols = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("token_usage_logs")}
    return ", ".join(cols["ix_tul_org_user_created"])


def test_0010_covers_a_users_raw_rows_keeps_the_rollups_and_goes_back(fresh):
    upgrade(fresh, "0009")
    with fresh.begin() as c:
        c.execute(sa.text("UPDATE rollup_state SET watermark = 5, version = 3"))
    upgrade(fresh, "0010")
    if fresh.dialect.name == "postgresql":
        assert _user_index(fresh).endswith(f"(org_id, user_id, created_at) INCLUDE ({', '.join(COVERED)})")
    else:  # SQLite has no INCLUDE: the plain index stays
        assert _user_index(fresh) == "org_id, user_id, created_at"
    with fresh.begin() as c:  # nothing to rebuild: the watermark stays
        assert tuple(c.execute(sa.text("SELECT watermark, version FROM rollup_state")).one()) == (5, 3)
    downgrade(fresh, "0009")
    assert "INCLUDE" not in _user_index(fresh)
    assert _user_index(fresh).endswith("(org_id, user_id, created_at)") or _user_index(fresh) == (
        "org_id, user_id, created_at"
    )
    upgrade(fresh, "head")


def _rows(minutes: int, agent, user) -> list[dict]:
    """3,000 log rows of org "o" from 1 March 2026, one every `minutes`, agent(i) and user(i)
    for row i; NULL costs and latencies among them."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        {
            "org_id": "o",
            "created_at": t0 + timedelta(minutes=minutes * i),
            "agent_id": agent(i),
            "user_id": user(i),
            "action_type": "user_interaction",
            "source": ["system", "byok"][i % 2],
            "provider": "openai",
            "model": ["gpt-4o", "gpt-4o-mini"][i % 2],
            "input_tokens": i,
            "output_tokens": 2 * i,
            "cache_read_tokens": i % 7,
            "cache_write_tokens": 0,
            "cost_usd": None if i % 11 == 0 else i / 1000,
            "latency_ms": None if i % 13 == 0 else 100 + i,
        }
        for i in range(3000)
    ]


@pytest.mark.parametrize("fresh_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_a_user_filtered_page_reads_raw_rows_from_the_index_alone(fresh):
    """Every read of a user's raw rows on a user-filtered page (with its comparison, on the
    raw path and on the rollups: their pieces and tail) is an index-only scan of the
    covering index: a column read but not covered would turn it into heap fetches again."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from support.db import insert_logs

    import queries
    from ai_usage.bench_slices import page
    from ingest import refresh
    from queries.base import facts_path
    from storage.long_rows import long_sql, short_sql

    upgrade(fresh, "head")
    rows = _rows(37, lambda i: [None, "a1", "a2"][i % 3], lambda i: None if i % 17 == 0 else f"u{i % 300}")
    insert_logs(fresh, rows[:2500])
    refresh.refresh(fresh)
    insert_logs(fresh, rows[2500:])  # a live tail past the watermark
    with fresh.begin() as c:  # the statistics a big table would have: a user is a few rows
        c.execute(sa.text("ANALYZE token_usage_logs"))
    params = {"from": "2026-03-02", "to": "2026-04-10", "timezone": "Asia/Kathmandu", "userId": ["u1", "u2"]}
    now = datetime(2026, 4, 10, 12, tzinfo=UTC)
    f = replace(queries.parse_filters(params, "o", now=now), compare="previous")
    fs = replace(queries.parse_filters(params, "o", default_source="system", now=now), compare="previous")
    seen: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "token_usage_logs" in statement:
            seen.append((statement, parameters))

    for path in ("raw", "rollup"):
        engine = facts_path(fresh, path)
        sa.event.listen(fresh, "before_cursor_execute", capture)
        try:
            page(engine, f, fs)
        finally:
            sa.event.remove(fresh, "before_cursor_execute", capture)
    user_reads = [(s, p) for s, p in seen if "user_id" in s and "WHERE" in s]
    assert len(user_reads) >= 10
    with fresh.connect() as c:
        raw = c.connection.dbapi_connection
        cur = raw.cursor()
        # The table is tiny: make the planner show the path it would take on a big one.
        cur.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
        covered = 0
        for statement, parameters in user_reads:
            cur.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(r[0] for r in cur.fetchall())
            assert "Index Scan using ix_tul_org_user_created" not in plan, plan
            assert "Seq Scan on token_usage_logs" not in plan, plan
            # Every read of the short rows says so (the covering index is partial, migration
            # 0013), and reads the long ones through their own index.
            assert short_sql("postgresql") in statement and long_sql("postgresql") in statement
            assert "using ix_tul_long" in plan, plan
            covered += "Index Only Scan using ix_tul_org_user_created" in plan
        cur.close()
    # The raw path's reads, the rollups' sub-day pieces in Kathmandu and their live tail.
    assert covered == len(user_reads)


def test_0011_indexes_an_agents_rollup_rows_keeps_the_rollups_and_goes_back(fresh):
    upgrade(fresh, "0010")
    with fresh.begin() as c:
        c.execute(sa.text("UPDATE rollup_state SET watermark = 5, version = 3"))
    upgrade(fresh, "0011")

    def indexes() -> dict[str, list[str]]:
        return {i["name"]: i["column_names"] for i in sa.inspect(fresh).get_indexes("rollup_agent")}

    assert indexes()["ix_rollup_agent_agent"] == ["org_id", "agent_id", "grain", "t"]
    with fresh.begin() as c:  # nothing to rebuild: the watermark stays
        assert tuple(c.execute(sa.text("SELECT watermark, version FROM rollup_state")).one()) == (5, 3)
    downgrade(fresh, "0010")
    assert "ix_rollup_agent_agent" not in indexes()
    upgrade(fresh, "head")


def _state(engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        wm, version = c.execute(sa.text("SELECT watermark, version FROM rollup_state")).one()
        return int(wm), int(version), int(c.execute(sa.text("SELECT COUNT(*) FROM rollup_total")).scalar_one())


def _rolled_row(engine, watermark: int = 5, version: int = 3) -> None:
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO rollup_total (org_id, grain, t, source, cost_e8, input_tokens, output_tokens,"
                " cache_read_tokens, cache_write_tokens, executions, latency_sum, latency_count)"
                " VALUES ('o', 900, 0, 'system', 1, 1, 1, 1, 1, 1, 1, 1)"
            )
        )
        c.execute(sa.text("UPDATE rollup_state SET watermark = :w, version = :v"), {"w": watermark, "v": version})


@pytest.mark.parametrize(
    "column,value",
    [("input_tokens", -1), ("cache_write_tokens", 2**31), ("output_tokens", 2**62), ("cost_usd", "1000000.00000001")],
)
def test_0012_rebuilds_the_rollups_only_when_a_stored_row_is_out_of_range(fresh, column, value):
    from datetime import UTC, datetime

    from support.api import log
    from support.db import insert_logs

    upgrade(fresh, "0011")
    edge = log("o", datetime(2026, 3, 1, tzinfo=UTC), inp=2**31 - 1, out=0, cr=2**31 - 1, cost="-1000000")
    insert_logs(fresh, [edge])  # at the bounds: counted as it is
    _rolled_row(fresh)
    upgrade(fresh, "0012")
    assert _state(fresh) == (5, 3, 1)  # nothing out of range: the rollups and watermark stay
    downgrade(fresh, "0011")
    assert _state(fresh) == (5, 3, 1)
    row = log("o", datetime(2026, 3, 2, tzinfo=UTC), cost=1)
    row[column] = value
    insert_logs(fresh, [row])
    upgrade(fresh, "0012")
    assert _state(fresh) == (0, 4, 0)  # cleared: the next refresh rebuilds with saturated rows
    _rolled_row(fresh, 7, 5)
    downgrade(fresh, "0011")  # the earlier code would sum the row as it is: cleared again
    assert _state(fresh) == (0, 6, 0)
    upgrade(fresh, "head")


@pytest.mark.parametrize("fresh_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_an_agent_filtered_page_reads_the_agents_rollup_rows_through_its_index(fresh):
    """Every read of rollup_agent on an agent-filtered page (with its comparison) walks the
    agent's own entries of ix_rollup_agent_agent, not the primary key's blocks of every agent."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from support.db import insert_logs

    import queries
    from ai_usage.bench_slices import page
    from ingest import refresh
    from queries.base import facts_path

    upgrade(fresh, "head")
    rows = _rows(29, lambda i: None if i % 19 == 0 else f"a{i % 12}", lambda i: f"u{i % 40}")
    insert_logs(fresh, rows)
    refresh.refresh(fresh)
    with fresh.begin() as c:
        c.execute(sa.text("ANALYZE rollup_agent"))
    now = datetime(2026, 4, 10, 12, tzinfo=UTC)
    reads: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "rollup_agent x" in statement:
            reads.append((statement, parameters))

    for tz in ("UTC", "Asia/Kathmandu"):
        params = {"from": "2026-03-02", "to": "2026-04-10", "timezone": tz, "agentId": ["a3"]}
        f = replace(queries.parse_filters(params, "o", now=now), compare="previous")
        fs = replace(queries.parse_filters(params, "o", default_source="system", now=now), compare="previous")
        sa.event.listen(fresh, "before_cursor_execute", capture)
        try:
            page(facts_path(fresh, "rollup"), f, fs)
        finally:
            sa.event.remove(fresh, "before_cursor_execute", capture)
    assert len(reads) >= 8  # summary, series, projection, heatmap… of both zones
    with fresh.connect() as c:
        cur = c.connection.dbapi_connection.cursor()
        cur.execute("SET enable_seqscan = off")  # the table is tiny: show the path a big one takes
        for statement, parameters in reads:
            cur.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(r[0] for r in cur.fetchall())
            assert "ix_rollup_agent_agent on rollup_agent" in plan, plan
            assert "pk_rollup_agent on rollup_agent" not in plan, plan
        cur.close()


def _long_row(org: str = "o"):
    import secrets
    from datetime import UTC, datetime

    from support.api import log

    # 2,800 bytes of names that do not compress: past any index entry of PostgreSQL.
    row = log(org, datetime(2026, 3, 3, tzinfo=UTC), agent=secrets.token_hex(700), model=secrets.token_hex(700))
    row["user_id"] = "u1"
    return row


def test_0013_indexes_the_long_rows_apart_and_rebuilds_the_rollups_only_when_one_is_stored(fresh):
    from datetime import UTC, datetime

    from support.api import log
    from support.db import insert_logs

    from storage.long_rows import LONG_INDEX, short_sql

    pg = fresh.dialect.name == "postgresql"
    upgrade(fresh, "0012")
    insert_logs(fresh, [log("o", datetime(2026, 3, 1, tzinfo=UTC), model="m" * 1500)])  # long-ish, short
    _rolled_row(fresh)
    if pg:  # what the platform met: its own INSERT refused for our index
        with pytest.raises(sa.exc.OperationalError, match="index row size"):
            insert_logs(fresh, [_long_row()])
    upgrade(fresh, "0013")
    assert _state(fresh) == (5, 3, 1)  # no long row stored: the rollups and watermark stay

    def indexes() -> dict[str, str]:
        with fresh.connect() as c:
            if pg:
                sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'token_usage_logs'"
            else:
                sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'token_usage_logs'"
            return {str(n): str(d) for n, d in c.execute(sa.text(sql))}

    assert LONG_INDEX in indexes()
    if pg:
        for name in ("ix_tul_org_user_created", "ix_tul_org_agent_created"):
            assert "WHERE" in indexes()[name] and "octet_length" in indexes()[name]
    downgrade(fresh, "0012")
    assert _state(fresh) == (5, 3, 1) and LONG_INDEX not in indexes()
    if pg:
        assert "WHERE" not in indexes()["ix_tul_org_user_created"]
        upgrade(fresh, "0013")
        insert_logs(fresh, [_long_row()])  # accepted now
        with pytest.raises(sa.exc.OperationalError, match="index row size"):
            downgrade(fresh, "0012")  # the full indexes cannot hold it: refused, nothing changed
        assert LONG_INDEX in indexes()
    else:  # SQLite has no limit: an earlier refresh may have rolled a long row up
        insert_logs(fresh, [_long_row()])
        upgrade(fresh, "0013")
        assert _state(fresh) == (0, 4, 0)  # cleared: the next refresh rebuilds without it
    with fresh.connect() as c:  # the rule holds on both engines
        n = c.execute(sa.text(f"SELECT COUNT(*) FROM token_usage_logs WHERE {short_sql(fresh.dialect.name)}"))
        assert n.scalar_one() == 1
    upgrade(fresh, "head")


@pytest.mark.parametrize("fresh_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_an_agent_filtered_users_ranking_reads_the_agents_short_rows_through_its_partial_index(fresh):
    """The users' ranking under an agent filter (no rollup holds users × agents) reads the
    agent's short rows through ix_tul_org_agent_created, partial since 0013, and the long
    ones through ix_tul_long: neither the org's whole window nor a sequential scan."""
    from datetime import UTC, datetime

    from support.db import insert_logs

    import queries
    from queries.base import facts_path

    upgrade(fresh, "head")
    agents = [f"a{i}" for i in range(200)]
    insert_logs(fresh, _rows(11, lambda i: agents[i % 200], lambda i: f"u{i % 50}") + [_long_row()])
    with fresh.begin() as c:
        c.execute(sa.text("ANALYZE token_usage_logs"))
    params = {"from": "2026-03-01", "to": "2026-03-30", "timezone": "UTC", "agentId": ["a7"]}
    f = queries.parse_filters(params, "o", now=datetime(2026, 4, 1, tzinfo=UTC))
    seen: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "token_usage_logs" in statement and "agent_id IN" in statement:
            seen.append((statement, parameters))

    sa.event.listen(fresh, "before_cursor_execute", capture)
    try:
        with facts_path(fresh, "raw").connect() as c:
            queries.by_user(c, f, 10)
    finally:
        sa.event.remove(fresh, "before_cursor_execute", capture)
    assert seen
    with fresh.connect() as c:
        cur = c.connection.dbapi_connection.cursor()
        cur.execute("SET enable_seqscan = off")
        for statement, parameters in seen:
            cur.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(r[0] for r in cur.fetchall())
            assert "using ix_tul_org_agent_created" in plan and "using ix_tul_long" in plan, plan
            assert "ix_tul_org_created" not in plan, plan
        cur.close()
