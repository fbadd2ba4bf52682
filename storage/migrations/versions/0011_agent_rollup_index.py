"""An agent's rollup rows in one index range: ix_rollup_agent_agent (org_id, agent_id, grain, t).

rollup_agent's primary key is (org_id, grain, t, source, agent_id, agent_null): a read under
an agent filter walked every agent's blocks of the window and kept the one asked for. On the
benchmark (10M rows, 24 agents, 1M rollup_agent rows) the heatmap of a 365-day window under
the agent holding 0.28 % of the rows read ~30,000 hourly entries (Kathmandu: quarter-hours,
four times as many) to keep 2,974; with this index, only the agent's. Measured on that page
with the comparison (three rounds alternating without and with the index, three runs each,
one process): heatmap 55 → 14 ms, projection 21 → 11 ms; the whole page, median UTC 292 →
250 ms, Kathmandu 367 → 285 ms (docs/rollups.md, «The agent rollup index»).

Same shape as rollup_user's second index (migration 0008). 39 MB at 10M raw rows, built in
~1.5 s; both engines. No data changes: the rollups, sketches and watermark stay.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NAME = "ix_rollup_agent_agent"


def upgrade() -> None:
    op.create_index(NAME, "rollup_agent", ["org_id", "agent_id", "grain", "t"])


def downgrade() -> None:
    op.drop_index(NAME, "rollup_agent")
