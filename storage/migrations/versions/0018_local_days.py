"""Day blocks at every quarter-hour offset in rollup_total (storage.local_days).

A local day off UTC (New York's, Kathmandu's) was read from rollup_total as its 6-hour
blocks plus hours and quarter-hours at both local midnights: a year of Kathmandu's daily
points (the projection) was 730 read ranges, 21.5 ms of PostgreSQL at 10M rows. From this
revision the total family also keeps, for each of the 95 quarter-hour offsets after a UTC
midnight, one-day blocks starting at that offset (grain -(86400 + offset)), written with its
other grains by every refresh, and a plan reads a whole local day as one of them
(queries/rollup_local.py).

This revision builds them from the quarter-hour rows (exact: those hold every rolled-up row),
holding the refresh's lock, and bumps the version so that answers cached or planned before
it are not reused. Downgrade deletes them.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Frozen here (a migration never imports the code it precedes).
DAY, QH = 86400, 900
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
CODES = f"grain < -{DAY} AND grain > -{2 * DAY}"  # storage.local_days: -(DAY + offset), 0 < offset < DAY


def _lock() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")


def upgrade() -> None:
    _lock()
    op.execute(f"DELETE FROM rollup_total WHERE {CODES}")
    offsets = " UNION ALL ".join(f"SELECT {o} AS o" for o in range(QH, DAY, QH))
    t = f"(x.t - ((((x.t - g.o) % {DAY}) + {DAY}) % {DAY}))"  # the day's start at offset o, also before 1970
    op.execute(
        f"INSERT INTO rollup_total (org_id, grain, t, source, {', '.join(MEASURES)})"
        f" SELECT x.org_id, -({DAY} + g.o), {t}, x.source, {', '.join(f'SUM(x.{m})' for m in MEASURES)}"
        f" FROM rollup_total x CROSS JOIN ({offsets}) g WHERE x.grain = {QH}"
        f" GROUP BY x.org_id, g.o, {t}, x.source ORDER BY x.org_id, g.o, {t}, x.source"
    )
    op.execute("UPDATE rollup_state SET version = version + 1")


def downgrade() -> None:
    _lock()
    op.execute(f"DELETE FROM rollup_total WHERE {CODES}")
    op.execute("UPDATE rollup_state SET version = version + 1")
