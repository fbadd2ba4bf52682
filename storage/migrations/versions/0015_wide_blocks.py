"""Blocks of 8 and 64 days in the families of few keys: total, action, model and agent.

These four families kept quarter-hours, hours, 6-hour blocks and days: a window's totals
(the KPIs, the models' table and chart, cache savings: by model) read one row per day and
key, 365 per model and source for a year. From this revision they also keep 8-day and
64-day blocks (epoch-aligned, as the user family's: each divides the next), and the planner
reads a whole block wherever it fits a segment (queries.rollup_plan.plan_ranges): a year's
totals are then ~5 blocks of 64 days and the edges' 8-day blocks and days. combo keeps the
four grains (docs/rollups.md, «Blocks of 8 and 64 days»).

This revision builds the new blocks from the families' own day rows, which hold exactly the
rows the rollups hold (ids up to the watermark, minus the gaps), under the refresh's lock
(PostgreSQL's advisory lock; on SQLite the write transaction). From this revision every
refresh writes them with the other grains (ingest.rollup_write). Code from before does not:
run it after the migration, as always; `ai-usage refresh --full` rebuilds everything.

Downgrade deletes the new blocks.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Frozen here (a migration never imports the code it precedes).
DAY = 86400
NEW_GRAINS = (8 * DAY, 64 * DAY)
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")
    for table, (keys, measures) in TABLES.items():
        op.execute(f"DELETE FROM {table} WHERE grain IN {NEW_GRAINS}")
        cols = "".join(f", {k}" for k in keys)
        for g in NEW_GRAINS:
            t = f"(t - (((t % {g}) + {g}) % {g}))"  # the block's start, also before 1970
            op.execute(
                f"INSERT INTO {table} (org_id, grain, t, source{cols}, {', '.join(measures)})"
                f" SELECT org_id, {g}, {t}, source{cols}, {', '.join(f'SUM({m})' for m in measures)}"
                f" FROM {table} WHERE grain = {DAY} GROUP BY org_id, {t}, source{cols}"
            )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE grain IN {NEW_GRAINS}")
