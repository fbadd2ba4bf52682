"""Cache-write prices, prices in force over time and unpriced rows (issue 11): filled by the cost work.

Revision ID: 0005
Revises: 0004
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
