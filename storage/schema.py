"""Schema: the tables, their column types and the constants the data follows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An instant: aware datetimes are stored in UTC, naive ones are taken as UTC.

    SQLite's DateTime drops the offset and keeps the wall-clock time, so an aware
    non-UTC value would be stored hours off; converting first makes both engines agree.
    Values read back are aware UTC datetimes on both engines.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


# BIGINT ids on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the autoincrementing rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("avatar_url", sa.Text),
)

token_usage_logs = sa.Table(
    "token_usage_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
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
    sa.Column("cost_usd", sa.Numeric(18, 8, asdecimal=True)),
    sa.Column("latency_ms", sa.Integer),
)

# The dashboard's own: an operator's prices, which win over the public catalogue. A row
# holds from `valid_from` (NULL: always) until the next row of its model (migration 0005);
# queries/price_book.py reads them.
price_overrides = sa.Table(
    "price_overrides",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("valid_from", UtcDateTime()),
    sa.Column("input_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
    sa.Column("cache_read_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
    sa.Column("cache_write_usd_per_mtok", sa.Numeric(18, 8)),
    sa.Column("output_usd_per_mtok", sa.Numeric(18, 8)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()),
)


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """A decimal kept exactly: NUMERIC on PostgreSQL, its text on SQLite.

    SQLite stores a NUMERIC with decimals as a double, which cannot hold 0.1 or a
    19-digit rate; as text the value reads back as the Decimal that was written."""

    impl = sa.Numeric(20, 10, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(sa.Text() if dialect.name == "sqlite" else sa.Numeric(20, 10, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return str(Decimal(value)) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        # NUMERIC(20, 10) answers 0.9200000000: the value as written, without the padding.
        d = Decimal(str(value)).normalize()
        return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d  # type: ignore[operator]


# Display currencies (contract §4 `currency`): units of the currency one USD buys, from a date
# on. The page converts amounts for display with the latest rate whose as_of is not after today.
RATE_DECIMALS = 10
currency_rates = sa.Table(
    "currency_rates",
    metadata,
    sa.Column("currency", sa.Text, primary_key=True),  # ISO 4217 (storage/currencies.py)
    sa.Column("as_of", sa.Date, primary_key=True),
    sa.Column("units_per_usd", ExactDecimal(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

ACTION_TYPES = (
    "user_interaction",
    "guardrail_check",
    "title_generation",
    "rag_query_embedding",
    "document_indexing",
)
SOURCES = ("system", "byok")
LOG_COLUMNS = [c.name for c in token_usage_logs.columns]
COST_SCALE = 100_000_000  # costs are summed as integers of 1e-8 USD: exact on both engines

# Budgets and alerts (migration 0007, contract §3.4). Amounts are exact (ExactDecimal);
# `thresholds` and the change log's settings are JSON text.
org_budgets = sa.Table(
    "org_budgets",
    metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("monthly_budget_usd", ExactDecimal()),
    sa.Column("thresholds", sa.Text, nullable=False),
    sa.Column("webhook_url", sa.Text),
    sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("updated_by", sa.Text),
)

budget_changes = sa.Table(
    "budget_changes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("changed_at", UtcDateTime(), nullable=False),
    sa.Column("changed_by", sa.Text),
    sa.Column("old_settings", sa.Text),
    sa.Column("new_settings", sa.Text, nullable=False),
)

# The outbox: one row per alert that fired; the unique (org, type, month, dedup_key) makes it fire once.
ALERT_TYPES = ("budget_threshold", "projected_overrun", "anomaly")
alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("month", sa.Text, nullable=False),
    sa.Column("dedup_key", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("webhook_url", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime()),
    sa.UniqueConstraint("org_id", "type", "month", "dedup_key", name="uq_alert_events_once"),
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Text, sa.ForeignKey("alert_events.id"), nullable=False),
    sa.Column("attempted_at", UtcDateTime(), nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("error", sa.Text),
)
