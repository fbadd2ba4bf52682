"""Latency sketches in the rollups (issue 11): two tables of mergeable latency histograms.

| table            | key (after org_id, grain, t, source) | serves                          |
|------------------|--------------------------------------|---------------------------------|
| rollup_model_lat | provider, model                      | p50/p95/p99 of model efficiency |
| rollup_agent_lat | agent_id, agent_null                 | p95 per agent                   |

One row per block holds the block's occupied latency buckets packed in `sketch`
(storage/sketch.py: int16 bucket indexes then int64 counts). Grains are whole UTC days
doubling up to 256 days (86400 · 2^k seconds); `t` is the UTC epoch second the block
starts.

The existing rollups say which raw ids they hold (the watermark); the new tables hold
none yet. Rather than filling them here with code that would have to stay frozen in
this revision, upgrade clears every rollup and the watermark: answers come from the
raw rows (exact) until the next refresh (the server's background thread, or
`ai-usage refresh`) rebuilds all tables in the same transactions. Downgrade drops the
two tables; the other rollups stay valid.

Revision ID: 0004
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FAMILIES: dict[str, list[sa.Column[Any]]] = {
    "rollup_model_lat": [sa.Column("provider", sa.Text, nullable=False), sa.Column("model", sa.Text, nullable=False)],
    "rollup_agent_lat": [
        sa.Column("agent_id", sa.Text, nullable=False),
        sa.Column("agent_null", sa.SmallInteger, nullable=False),
    ],
}
OLD_TABLES = ("rollup_total", "rollup_action", "rollup_model", "rollup_agent")


def upgrade() -> None:
    for name, dims in FAMILIES.items():
        op.create_table(
            name,
            sa.Column("org_id", sa.Text, nullable=False),
            sa.Column("grain", sa.Integer, nullable=False),
            sa.Column("t", sa.BigInteger, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            *dims,
            sa.Column("sketch", sa.LargeBinary, nullable=False),
            sa.PrimaryKeyConstraint("org_id", "grain", "t", "source", *[c.name for c in dims], name=f"pk_{name}"),
            sqlite_with_rowid=False,
        )
    for table in OLD_TABLES:
        op.execute(f"DELETE FROM {table}")
    op.execute("UPDATE rollup_state SET watermark = 0, gaps = '[]', version = version + 1 WHERE id = 1")


def downgrade() -> None:
    for name in FAMILIES:
        op.drop_table(name)
