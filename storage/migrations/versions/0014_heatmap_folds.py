"""The heatmap's weeks folded: rollup_total keeps, beside its grains, fold rows.

A fold row (grain -FOLD_SPAN, negative: no block of time) at t holds the quarter-hours
t, t + 1 week, … t + 7 weeks of its 8-week block (epoch-aligned), folded onto the block's
first week. The heatmap (7 weekdays × 24 local hours) repeats every week, so where the UTC
offset holds for a whole block, 672 quarter-hours of the week answer for the block's 5,376
(storage.rollup_tables.FOLD_GRAIN, queries.rollup_folds.fold_blocks, docs/rollups.md «The
heatmap's folded weeks»). A 365-day heatmap in Kathmandu read 68k quarter-hour rows; it reads
~13k now (10M rows, the benchmark).

This revision builds the fold rows from the table's own quarter-hour rows, which hold exactly
the rows the rollups hold (ids up to the watermark, minus the gaps): the folds agree with them
at once, whatever the watermark. It holds the refresh's lock (PostgreSQL's advisory lock; on
SQLite the write transaction) so that no refresh adds rows meanwhile. From this revision every
refresh writes the folds with the grains (ingest.rollup_write). Code from before this revision
does not: run it after the migration, as always; `ai-usage refresh --full` rebuilds everything.

Downgrade deletes the fold rows.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Frozen here (a migration never imports the code it precedes).
QH, WEEK = 900, 7 * 86400
FOLD_SPAN = 8 * WEEK
FOLD_GRAIN = -FOLD_SPAN
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")
    op.execute(f"DELETE FROM rollup_total WHERE grain = {FOLD_GRAIN}")
    # t moved back by whole weeks into its block's first week (also before 1970: the block's
    # start is floored as the refresh floors it, and the division's operand is never negative).
    folded = f"t - ((((t % {FOLD_SPAN}) + {FOLD_SPAN}) % {FOLD_SPAN}) / {WEEK}) * {WEEK}"
    cols = ", ".join(MEASURES)
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    op.execute(
        f"INSERT INTO rollup_total (org_id, grain, t, source, {cols})"
        f" SELECT org_id, {FOLD_GRAIN}, {folded}, source, {sums} FROM rollup_total WHERE grain = {QH}"
        f" GROUP BY org_id, {folded}, source"
    )


def downgrade() -> None:
    op.execute(f"DELETE FROM rollup_total WHERE grain = {FOLD_GRAIN}")
