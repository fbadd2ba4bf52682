"""Monday-aligned week blocks in the families total, action, model and agent.

A local week (the weekly buckets of the 365-day page: the trend, the actions, the cache points,
the agents' sparklines) was read as 7 day rows per key, the epoch-aligned 8-day blocks never
fitting a week. From this revision those families also keep blocks of 7 days starting on UTC
Mondays (grain 604800, t = 345600 + k·604800: 1970-01-05 was a Monday), written like the 8-day
blocks once they have ended, at or before `rollup_state.sealed` (ingest.rollup_write.seal), and
read for a week segment whole in UTC, or with the sub-day spans between the UTC and the local
week added and taken away elsewhere (queries.rollup_signed.week_blocks; docs/rollups.md,
«Week blocks»).

This revision builds the sealed week blocks from the day rows (exact: the day rows hold every
rolled-up row), holding the refresh's lock, and bumps the version so that answers cached or
planned before it are not reused. Downgrade deletes them.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Frozen here (a migration never imports the code it precedes).
DAY = 86400
WEEK, WEEK_START = 7 * DAY, 4 * DAY  # storage.rollup_tables.WEEK, WEEK_START
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
}


def _lock() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")


def upgrade() -> None:
    _lock()
    sealed = int(op.get_bind().execute(sa.text("SELECT COALESCE(MAX(sealed), 0) FROM rollup_state")).scalar_one())
    t = f"(t - ((((t - {WEEK_START}) % {WEEK}) + {WEEK}) % {WEEK}))"  # the week's start, also before 1970
    for table, (keys, measures) in TABLES.items():
        cols = "".join(f", {k}" for k in keys)
        op.execute(f"DELETE FROM {table} WHERE grain = {WEEK}")
        op.execute(
            f"INSERT INTO {table} (org_id, grain, t, source{cols}, {', '.join(measures)})"
            f" SELECT org_id, {WEEK}, {t}, source{cols}, {', '.join(f'SUM({m})' for m in measures)}"
            f" FROM {table} WHERE grain = {DAY} AND {t} + {WEEK} <= {sealed}"
            f" GROUP BY org_id, {t}, source{cols} ORDER BY org_id, {t}, source{cols}"
        )
    op.execute("UPDATE rollup_state SET version = version + 1")


def downgrade() -> None:
    _lock()
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE grain = {WEEK}")
    op.execute("UPDATE rollup_state SET version = version + 1")
