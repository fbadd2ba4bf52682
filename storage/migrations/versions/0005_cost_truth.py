"""Cost truth (issue 11): unpriced rows in the model rollups, cache-write prices, prices over time.

rollup_model gains five measures: the count of rows whose cost_usd is NULL and their
input, output, cache-read and cache-write token sums (storage/measures.py UNPRICED),
from which the summary estimates what the unpriced calls would have cost.

The rollups already written do not hold them, so this revision clears every rollup
table and the watermark (as 0003's downgrade): answers come from the raw rows and the
live tail at once, and the next refresh (the server's background catch-up, or
`ai-usage refresh`) rebuilds them with the refresh's own code. A backfill in place
would have to repeat, frozen in this file, exactly which raw rows each rollup row holds
(watermark, gap ranges, the source classes and quarter-hour rule of the day); a second
copy of the refresh that could drift from it. Measured cost of the rebuild: see
docs/figures.md.

price_overrides becomes one row per (provider, model, valid_from): a price holds from
valid_from (NULL: always) until the next row of its model; the rows kept have
valid_from NULL. It gains cache_write_usd_per_mtok (NULL: no cache-write price, the
write premium of that model is not counted). Rebuilt as a new table (SQLite cannot
change a primary key in place) with a surrogate id and two partial unique indexes:
one always-row per model, one row per start instant.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROLLUPS = ("rollup_total", "rollup_action", "rollup_model", "rollup_agent")
UNPRICED = [
    "unpriced_executions",
    "unpriced_input_tokens",
    "unpriced_output_tokens",
    "unpriced_cache_read_tokens",
    "unpriced_cache_write_tokens",
]
PRICES = ["input_usd_per_mtok", "cache_read_usd_per_mtok", "output_usd_per_mtok"]


def _clear_rollups() -> None:
    for table in ROLLUPS:
        op.execute(f"DELETE FROM {table}")
    op.execute("UPDATE rollup_state SET watermark = 0, gaps = '[]', version = version + 1 WHERE id = 1")


def upgrade() -> None:
    for m in UNPRICED:
        op.add_column("rollup_model", sa.Column(m, sa.BigInteger, nullable=False, server_default="0"))
    _clear_rollups()

    op.create_table(
        "price_overrides_v5",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True)),
        sa.Column("input_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
        sa.Column("cache_read_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
        sa.Column("cache_write_usd_per_mtok", sa.Numeric(18, 8)),
        sa.Column("output_usd_per_mtok", sa.Numeric(18, 8)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()),
        sa.PrimaryKeyConstraint("id", name="pk_price_overrides_id"),
    )
    cols = ", ".join(["provider", "model", *PRICES, "updated_at"])
    op.execute(f"INSERT INTO price_overrides_v5 ({cols}) SELECT {cols} FROM price_overrides")
    op.drop_table("price_overrides")
    op.rename_table("price_overrides_v5", "price_overrides")
    op.create_index(
        "ux_price_overrides_always",
        "price_overrides",
        ["provider", "model"],
        unique=True,
        sqlite_where=sa.text("valid_from IS NULL"),
        postgresql_where=sa.text("valid_from IS NULL"),
    )
    op.create_index(
        "ux_price_overrides_from",
        "price_overrides",
        ["provider", "model", "valid_from"],
        unique=True,
        sqlite_where=sa.text("valid_from IS NOT NULL"),
        postgresql_where=sa.text("valid_from IS NOT NULL"),
    )


def downgrade() -> None:
    op.create_table(
        "price_overrides_v4",
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("input_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
        sa.Column("cache_read_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
        sa.Column("output_usd_per_mtok", sa.Numeric(18, 8)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()),
        sa.PrimaryKeyConstraint("provider", "model", name="pk_price_overrides_v4"),
    )
    cols = ", ".join(["provider", "model", *PRICES, "updated_at"])
    # 0004's table has one price per model: the always-row (dated rows cannot be kept).
    op.execute(f"INSERT INTO price_overrides_v4 ({cols}) SELECT {cols} FROM price_overrides WHERE valid_from IS NULL")
    op.drop_index("ux_price_overrides_from", "price_overrides")
    op.drop_index("ux_price_overrides_always", "price_overrides")
    op.drop_table("price_overrides")
    op.rename_table("price_overrides_v4", "price_overrides")
    _clear_rollups()
    for m in UNPRICED:
        op.drop_column("rollup_model", m)
