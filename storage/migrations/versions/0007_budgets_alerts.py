"""Budgets and alerts (issue 10, contract §3.4).

- `org_budgets`: one row per org, its monthly budget (exact), alert thresholds (a JSON
  list of fractions), webhook URL and the timezone its months are counted in.
- `budget_changes`: every accepted PUT, who (token `sub`) and when, from → to.
- `alert_events`: the durable outbox. One row per (org, type, month, key): the unique key
  is what makes an alert fire once, whichever process evaluates it. `id` is the event id
  the webhook body carries on every retry; `next_attempt_at` / `attempts` / `status`
  drive the delivery loop, which survives a restart because it lives here.
- `alert_deliveries`: every delivery attempt (time, HTTP status or error).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    money = sa.Text if sqlite else sa.Numeric(20, 10)
    bigid = sa.Integer if sqlite else sa.BigInteger
    op.create_table(
        "org_budgets",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("monthly_budget_usd", money),
        sa.Column("thresholds", sa.Text, nullable=False),
        sa.Column("webhook_url", sa.Text),
        sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text),
    )
    op.create_table(
        "budget_changes",
        sa.Column("id", bigid, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Text),
        sa.Column("old_settings", sa.Text),  # JSON of the settings before (NULL: none were set)
        sa.Column("new_settings", sa.Text, nullable=False),  # JSON of the settings after
    )
    op.create_index("ix_budget_changes_org", "budget_changes", ["org_id", "changed_at"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("month", sa.Text, nullable=False),  # YYYY-MM, local to the budget's timezone
        sa.Column("dedup_key", sa.Text, nullable=False),  # the threshold, or the anomaly's date
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),  # the webhook body, JSON, sent verbatim each time
        sa.Column("webhook_url", sa.Text),  # where it goes (NULL: recorded, nothing to deliver to)
        sa.Column("status", sa.Text, nullable=False),  # pending | delivered | failed | undeliverable
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("org_id", "type", "month", "dedup_key", name="uq_alert_events_once"),
    )
    op.create_index("ix_alert_events_org", "alert_events", ["org_id", "created_at"])
    op.create_index("ix_alert_events_due", "alert_events", ["status", "next_attempt_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", bigid, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Text, sa.ForeignKey("alert_events.id"), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_alert_deliveries_event", "alert_deliveries", ["event_id", "attempted_at"])


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_events")
    op.drop_table("budget_changes")
    op.drop_table("org_budgets")
