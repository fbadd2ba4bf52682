"""An index for an agent's raw rows: ix_tul_org_agent_created (org_id, agent_id, created_at).

What a rollup cannot answer under an agent filter is read from the raw rows: the users'
ranking (users × agents would be near the raw table's size, docs/rollups.md) and the
sub-day pieces of a window. Without this index PostgreSQL read every row of the org's
window and kept the agent's; with it, only the agent's rows: under a filter on a small
agent (0.28 % of 10M rows) the users' ranking went from about 1.2 s to tens of
milliseconds (docs/measurements.md, «Filtered pages»). Rows without an agent (agentId=none) are found
by the same index (agent_id IS NULL).

The platform owns token_usage_logs; contract §1 lets the dashboard add indexes to it.
No data changes: the rollups, sketches and watermark stay as they are.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tul_org_agent_created", "token_usage_logs", ["org_id", "agent_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tul_org_agent_created", "token_usage_logs")
