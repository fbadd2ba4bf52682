"""Long rows out of our indexes and rollups: a row whose names together pass 2,000 bytes is
read live (storage/long_rows.py, docs/figures.md «Long names»).

PostgreSQL refuses an index entry over 2,704 bytes. The covering user index (0010) and the
agent index (0009) held every row, so a row with long incompressible names was refused at
the platform's own INSERT. From this revision:

- ix_tul_org_user_created and ix_tul_org_agent_created are partial: short rows only
  (PostgreSQL; SQLite has no limit and keeps its plain indexes);
- ix_tul_long (org_id, created_at) indexes the long rows alone (both engines; on a sane
  table it is empty), so every answer finds them in microseconds;
- the refresh leaves long rows out of the rollups and sketches. A rollup written before
  may hold one (SQLite has no limit): when a long row is stored, this revision clears
  every rollup table, every latency sketch and the watermark (as 0012), and the next
  refresh rebuilds them without it. Otherwise no data changes.

Building the two partial indexes beside the old ones, then swapping them (0010's way:
inserts wait for the build, reads go on through the old index), with the statistics and
ANALYZE below, took 34 s (the downgrade 33 s) on the
10M-row benchmark database (PostgreSQL, 2 cores).

Downgrade restores the full indexes (which fails, as the platform's inserts did, while a
long row is stored on PostgreSQL) and clears the rollups if a long row is stored.

Revision ID: 0013
Revises: 0012
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Frozen here (a migration never imports the code it precedes). The predicates must stay
# word for word storage.long_rows' (a query uses a partial index only then):
# tests/test_long_names.py checks it.
NAME_BYTES = 2000
TEXT_COLUMNS = ("org_id", "agent_id", "user_id", "action_type", "source", "provider", "model")
USER_INDEX, AGENT_INDEX, LONG_INDEX = "ix_tul_org_user_created", "ix_tul_org_agent_created", "ix_tul_long"
STATISTICS = "st_tul_name_bytes"
USER_INCLUDE = [
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
TABLES = (
    "rollup_total",
    "rollup_action",
    "rollup_model",
    "rollup_agent",
    "rollup_combo",
    "rollup_user",
    "rollup_model_lat",
    "rollup_agent_lat",
    "rollup_combo_lat",
)


def name_bytes(dialect: str) -> str:
    """The bytes of a row's text columns, as storage.long_rows writes it."""
    if dialect == "postgresql":
        parts = [f"octet_length(COALESCE({c}, ''))" for c in TEXT_COLUMNS]
    else:
        parts = [f"length(CAST(COALESCE({c}, '') AS BLOB))" for c in TEXT_COLUMNS]
    return f"({' + '.join(parts)})"


def predicate(dialect: str, op_: str) -> str:
    """'long' (op_ '>') or 'short' (op_ '<=') as storage.long_rows writes it."""
    return f"{name_bytes(dialect)} {op_} {NAME_BYTES}"


def _dialect() -> str:
    return str(op.get_bind().dialect.name)


def _replace(name: str, key: list[str], include: list[str], where: str | None) -> None:
    """Build the new index beside the old one, then swap them (0010's `_replace`)."""
    kw: dict[str, Any] = {"postgresql_include": include} if include else {}
    if where is not None:
        kw["postgresql_where"] = sa.text(where)
    op.create_index(f"{name}_new", "token_usage_logs", key, **kw)
    op.drop_index(name, "token_usage_logs")
    op.execute(f"ALTER INDEX {name}_new RENAME TO {name}")


def _rebuild_if_needed(dialect: str) -> None:
    sql = f"SELECT 1 FROM token_usage_logs WHERE {predicate(dialect, '>')} LIMIT 1"
    if op.get_bind().execute(sa.text(sql)).first() is None:
        return
    for table in TABLES:
        op.execute(f"DELETE FROM {table}")
    op.execute("UPDATE rollup_state SET watermark = 0, gaps = '[]', version = version + 1 WHERE id = 1")


def upgrade() -> None:
    d = _dialect()
    long_ = sa.text(predicate(d, ">"))
    op.create_index(
        LONG_INDEX, "token_usage_logs", ["org_id", "created_at"], sqlite_where=long_, postgresql_where=long_
    )
    if d == "postgresql":
        short = predicate(d, "<=")
        _replace(USER_INDEX, ["org_id", "user_id", "created_at"], USER_INCLUDE, short)
        _replace(AGENT_INDEX, ["org_id", "agent_id", "created_at"], [], short)
        # Statistics of the names' bytes: without them PostgreSQL guesses that a third of the
        # rows are long, plans every answer's read of the long rows as a million-row scan and
        # starts parallel workers for it (the 365-day page took ~40 ms more on 10M rows).
        # ANALYZE reads a sample (~0.3 s at 10M rows); autovacuum keeps them up to date.
        op.execute(f"CREATE STATISTICS {STATISTICS} ON ({name_bytes(d)}) FROM token_usage_logs")
        op.execute("ANALYZE token_usage_logs")
    _rebuild_if_needed(d)


def downgrade() -> None:
    d = _dialect()
    _rebuild_if_needed(d)
    if d == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
        _replace(USER_INDEX, ["org_id", "user_id", "created_at"], USER_INCLUDE, None)
        _replace(AGENT_INDEX, ["org_id", "agent_id", "created_at"], [], None)
    op.drop_index(LONG_INDEX, "token_usage_logs")
