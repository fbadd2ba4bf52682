"""Base schema: the platform's two tables when absent, price overrides, read indexes.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    have = set(sa.inspect(bind).get_table_names())
    if "agents" not in have:
        op.create_table(
            "agents",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("org_id", sa.Text, nullable=False),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("avatar_url", sa.Text),
        )
    if "token_usage_logs" not in have:
        op.create_table(
            "token_usage_logs",
            sa.Column("id", BigId, primary_key=True, autoincrement=True),
            sa.Column("org_id", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("agent_id", sa.Text),
            sa.Column("user_id", sa.Text),
            sa.Column("action_type", sa.Text, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("provider", sa.Text, nullable=False),
            sa.Column("model", sa.Text, nullable=False),
            sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("cache_read_tokens", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("cache_write_tokens", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("cost_usd", sa.Numeric(18, 8)),
            sa.Column("latency_ms", sa.Integer),
        )
    indexes = {ix["name"] for ix in sa.inspect(bind).get_indexes("token_usage_logs")}
    if "ix_tul_org_created" not in indexes:
        # Every read is one org over a time range: (org_id, created_at) serves them all.
        op.create_index("ix_tul_org_created", "token_usage_logs", ["org_id", "created_at"])
    agent_ix = {ix["name"] for ix in sa.inspect(bind).get_indexes("agents")}
    if "ix_agents_org" not in agent_ix:
        op.create_index("ix_agents_org", "agents", ["org_id"])
    op.create_table(
        "price_overrides",
        sa.Column("provider", sa.Text, primary_key=True),
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("input_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
        sa.Column("cache_read_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
        sa.Column("output_usd_per_mtok", sa.Numeric(18, 8)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()),
    )


def downgrade() -> None:
    op.drop_table("price_overrides")
    op.drop_index("ix_tul_org_created", "token_usage_logs")
    op.drop_index("ix_agents_org", "agents")
