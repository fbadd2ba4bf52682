"""Display currency rates (issue 14): units of a currency per USD, from a date on.

One row per (currency, as_of): `ai-usage rates set EUR 0.92 --as-of 2026-12-01` writes one,
setting the same date again replaces it. The rate is exact: NUMERIC(20, 10) on PostgreSQL,
its decimal text on SQLite (a double there could not hold 0.1). Amounts stay in USD in
every table; the page converts them for display only.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "currency_rates",
        sa.Column("currency", sa.Text, primary_key=True),
        sa.Column("as_of", sa.Date, primary_key=True),
        sa.Column("units_per_usd", sa.Text if sqlite else sa.Numeric(20, 10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(currency) = 3", name="ck_currency_rates_code"),
    )


def downgrade() -> None:
    op.drop_table("currency_rates")
