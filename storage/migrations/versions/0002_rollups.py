"""Rollups: the dashboard's own pre-aggregated tables, their watermark, no new raw index.

Four narrow tables, one per family of figures, each holding four time grains
(`grain` = 900, 3600, 21600 or 86400 seconds; `t` = the UTC epoch second the period
starts; storage/rollup_tables.py decides which grains exist):

| table          | extra key             | serves                                               |
|----------------|-----------------------|------------------------------------------------------|
| rollup_total   | –                     | summary, time series, heatmap, projection            |
| rollup_action  | action_type           | time series grouped by action                        |
| rollup_model   | provider, model       | model efficiency, cache savings                      |
| rollup_agent   | agent_id, agent_null  | by agent (agent_null = 1 for rows without an agent)  |

Every table is keyed (org_id, grain, t, source, dims…) and holds the summed measures as
BIGINT, cost as integer 1e-8 USD: sums of sums are exact. `rollup_state` (one row)
keeps the watermark on token_usage_logs.id, a version bumped by every refresh, and
the id ranges below the watermark that were missing when it moved (see
ingest/refresh.py).

Indexes on token_usage_logs: none added. The live tail is `id > watermark` (plus the
few gap ranges), answered by a range scan of the primary key, which PostgreSQL picks
with 10M rows (EXPLAIN: "Index Scan using token_usage_logs_pkey … Index Cond: (id >=
…)", Filter on org_id/created_at; the tail stays a few seconds of rows because the
server catches up in the background). An (org_id, id) index would only help a tail of
many orgs' rows, and would cost the platform's insert path on every row. The
incremental refresh and the gap checks read id ranges (primary key again), and a full
rebuild scans the table once per rollup family, which no index speeds up.

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FAMILIES: dict[str, list[sa.Column[Any]]] = {
    "rollup_total": [],
    "rollup_action": [sa.Column("action_type", sa.Text, nullable=False)],
    "rollup_model": [sa.Column("provider", sa.Text, nullable=False), sa.Column("model", sa.Text, nullable=False)],
    # agent_id is '' with agent_null = 1 for rows without an agent: key columns cannot be NULL.
    "rollup_agent": [
        sa.Column("agent_id", sa.Text, nullable=False),
        sa.Column("agent_null", sa.SmallInteger, nullable=False),
    ],
}
MEASURES = [
    "cost_e8",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "executions",
    "latency_sum",
    "latency_count",
]


def upgrade() -> None:
    for name, dims in FAMILIES.items():
        op.create_table(
            name,
            sa.Column("org_id", sa.Text, nullable=False),
            sa.Column("grain", sa.Integer, nullable=False),
            sa.Column("t", sa.BigInteger, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            *dims,
            *[sa.Column(m, sa.BigInteger, nullable=False) for m in MEASURES],
            # Reads are one org, one grain, ranges of t: the primary key serves them.
            sa.PrimaryKeyConstraint("org_id", "grain", "t", "source", *[c.name for c in dims], name=f"pk_{name}"),
            # SQLite: cluster rows by that key (no rowid table beside it).
            sqlite_with_rowid=False,
        )
        if op.get_bind().dialect.name == "postgresql":
            # Refreshes add to existing rows: room on each page lets PostgreSQL update them
            # in place (HOT, no new index entries).
            op.execute(f"ALTER TABLE {name} SET (fillfactor = 70)")
    op.create_table(
        "rollup_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("watermark", sa.BigInteger, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        # JSON list of [lo, hi, seen_at_epoch, pg_xmax]: missing id ranges <= watermark.
        sa.Column("gaps", sa.Text, nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True)),
    )
    op.execute("INSERT INTO rollup_state (id, watermark, version, gaps) VALUES (1, 0, 0, '[]')")


def downgrade() -> None:
    op.drop_table("rollup_state")
    for name in FAMILIES:
        op.drop_table(name)
