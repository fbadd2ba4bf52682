"""A user's raw rows read from the index alone: ix_tul_org_user_created (org_id, user_id,
created_at) INCLUDE every other column the dashboard reads (PostgreSQL).

Under a user filter, what no rollup holds (the user with an agent, a model, an action: the
user × column families would be three times the raw table at 10M rows, docs/rollups.md)
is read from that user's raw rows. Through the plain index (migration 0008) each row was
a heap fetch at a random place of the table (rows are laid out by time, a user's rows are
spread over all of it): the busiest user of the benchmark (400k rows) took 6.5–7.4 s per
page with the comparison. With the other columns in the index's leaf entries PostgreSQL
answers with an index-only scan, reading the user's entries in order (README,
«Filtered pages»). The price: the index holds a copy of every column the dashboard reads,
about the table's own size (1.8 GB against 0.47 GB at 10M rows), and every insert writes
the wider entry.

SQLite has no INCLUDE: its index stays (org_id, user_id, created_at).

The platform owns token_usage_logs; contract §1 lets the dashboard add indexes to it.
Building it takes about 30 s at 10M rows, during which inserts into the table wait (as
with 0008 and 0009) and reads go on through the old index (see `_replace`). No data
changes: the rollups, sketches and watermark stay.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "ix_tul_org_user_created"
KEY = ["org_id", "user_id", "created_at"]
# Every column a raw read under a user filter touches besides the key (queries.base.raw_facts,
# queries.rollup_read's tail and pieces, the latency reads): tests/test_migration_cost.py
# checks that PostgreSQL plans those reads as index-only scans.
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


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _replace(include: list[str]) -> None:
    """Build the new index beside the old one, then swap them. CREATE INDEX takes a SHARE
    lock (inserts wait, reads go on, through the old index) for the whole build; DROP INDEX
    takes an ACCESS EXCLUSIVE lock, which blocks reads too, so it comes last: from there to
    the migration's commit is milliseconds, not the build's ~30 s. Both indexes exist
    while the new one is built (1.8 GB more on disk at 10M rows, for that moment)."""
    op.create_index(f"{NAME}_new", "token_usage_logs", KEY, postgresql_include=include)
    op.drop_index(NAME, "token_usage_logs")
    op.execute(f"ALTER INDEX {NAME}_new RENAME TO {NAME}")


def upgrade() -> None:
    if _postgresql():
        _replace(COVERED)


def downgrade() -> None:
    if _postgresql():
        _replace([])
