"""Sealed 8-day blocks: they are written once they have ended.

Until this revision a refresh added every new row to its day, its 8-day block and its 64-day
block (families total, action, model, agent and user). From this revision
`rollup_state.sealed` (epoch seconds, a multiple of 8 days) says up to where the 8-day blocks
are written: a block ending at or before it is complete, and the refresh adds every new row of
it (late rows too); a later block has no rows, and reads take its days (queries.rollup_plan).
The refresh that first sees a block ended builds it from the day rows and moves `sealed`
(ingest.rollup_write.seal; docs/rollups.md, «Sealed 8-day blocks»). The 64-day blocks stay
written as before, the open one too: windows ending today read most of their last 64 days
from it.

This revision sets `sealed` to the last 8-day boundary before now and deletes the rows of the
8-day blocks ending after it (the one still open, which the refresh no longer updates).
It holds the refresh's lock (PostgreSQL's advisory lock; on SQLite the write transaction), and
bumps the version so that answers cached or planned before it are not reused.

Downgrade builds those blocks again from the day rows, as migration 0015 built every block,
and drops the column: code from before this revision expects every block to be there.

Revision ID: 0016
Revises: 0015
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Frozen here (a migration never imports the code it precedes).
DAY = 86400
SEALED = 8 * DAY  # the grain written once ended (storage.rollup_tables.SEALED_GRAIN)
REFRESH_LOCK = 7_263_011_947  # ingest.refresh.LOCK_KEY
MEASURES = (
    "cost_e8",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "executions",
    "latency_sum",
    "latency_count",
)
UNPRICED = (
    "unpriced_executions",
    "unpriced_input_tokens",
    "unpriced_output_tokens",
    "unpriced_cache_read_tokens",
    "unpriced_cache_write_tokens",
)
TABLES = {  # table -> (its key columns after org_id, grain, t, source; its measures)
    "rollup_total": ((), MEASURES),
    "rollup_action": (("action_type",), MEASURES),
    "rollup_model": (("provider", "model"), MEASURES + UNPRICED),
    "rollup_agent": (("agent_id", "agent_null"), MEASURES),
    "rollup_user": (("user_id", "user_null"), MEASURES),
}


def _lock() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")


def upgrade() -> None:
    _lock()
    sealed = int(time.time()) // SEALED * SEALED
    with op.batch_alter_table("rollup_state") as batch:
        batch.add_column(sa.Column("sealed", sa.BigInteger, nullable=False, server_default="0"))
    op.execute(f"UPDATE rollup_state SET sealed = {sealed}, version = version + 1")
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE grain = {SEALED} AND t + grain > {sealed}")


def downgrade() -> None:
    _lock()
    sealed = int(op.get_bind().execute(sa.text("SELECT sealed FROM rollup_state WHERE id = 1")).scalar_one())
    for table, (keys, measures) in TABLES.items():
        op.execute(f"DELETE FROM {table} WHERE grain = {SEALED} AND t + grain > {sealed}")
        cols = "".join(f", {k}" for k in keys)
        g = SEALED
        t = f"(t - (((t % {g}) + {g}) % {g}))"  # the block's start, also before 1970
        op.execute(
            f"INSERT INTO {table} (org_id, grain, t, source{cols}, {', '.join(measures)})"
            f" SELECT org_id, {g}, {t}, source{cols}, {', '.join(f'SUM({m})' for m in measures)}"
            f" FROM {table} WHERE grain = {DAY} AND {t} + {g} > {sealed} GROUP BY org_id, {t}, source{cols}"
        )
    with op.batch_alter_table("rollup_state") as batch:
        batch.drop_column("sealed")
    op.execute("UPDATE rollup_state SET version = version + 1")
