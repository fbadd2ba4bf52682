"""Rows out of range count saturated: rebuild the rollups when such a row is already stored.

From this revision a raw row's token counts count within [0, 2^31 - 1] each and its cost
within ±1,000,000 USD (storage/measures.py, docs/figures.md «Values out of range»): the
refresh and every live read saturate each row before summing. Rollups written before hold
such a row's values as they were (a negative token count summed as negative), or could
not be written at all (2^62 tokens or a cost of 9,999,999,999 USD overflowed the BIGINT
sums: the refresh failed for every org). When at least one stored row lies out of range,
this revision clears every rollup table, every latency sketch and the watermark (as 0005
and 0008 did): answers come from the raw rows at once, and the next refresh rebuilds the
rollups with the refresh's own code. When no row lies out of range (every database the
importer or a sane platform wrote), nothing changes: the check is one scan of the table
(2.7 s on the 10M-row benchmark database, PostgreSQL, 2 cores).

Downgrade does the same for the same rows: the earlier code sums them as they are.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen here (a migration never imports the code it precedes): storage.measures' bounds.
MAX_TOKENS = 2**31 - 1
MAX_COST_USD = 1_000_000
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
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


def _out_of_range() -> bool:
    tests = [f"{c} < 0 OR {c} > {MAX_TOKENS}" for c in TOKENS]
    tests.append(f"cost_usd > {MAX_COST_USD} OR cost_usd < -{MAX_COST_USD}")
    sql = f"SELECT 1 FROM token_usage_logs WHERE {' OR '.join(tests)} LIMIT 1"
    return op.get_bind().execute(sa.text(sql)).first() is not None


def _rebuild_if_needed() -> None:
    if not _out_of_range():
        return
    for table in TABLES:
        op.execute(f"DELETE FROM {table}")
    op.execute("UPDATE rollup_state SET watermark = 0, gaps = '[]', version = version + 1 WHERE id = 1")


def upgrade() -> None:
    _rebuild_if_needed()


def downgrade() -> None:
    _rebuild_if_needed()
