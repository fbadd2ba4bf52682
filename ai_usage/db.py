"""Database: the tables, the engine, migrations and the per-query time limit."""
from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

metadata = sa.MetaData()


class UtcDateTime(sa.types.TypeDecorator):
    """An instant: aware datetimes are stored in UTC, naive ones are taken as UTC.

    SQLite's DateTime drops the offset and keeps the wall-clock time, so an aware
    non-UTC value would be stored hours off; converting first makes both engines agree.
    Values read back are aware UTC datetimes on both engines.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime):
            value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime):
            value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
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

# The dashboard's own: an operator's prices, which win over the public catalogue.
price_overrides = sa.Table(
    "price_overrides",
    metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("input_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
    sa.Column("cache_read_usd_per_mtok", sa.Numeric(18, 8), nullable=False),
    sa.Column("output_usd_per_mtok", sa.Numeric(18, 8)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.current_timestamp()),
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


def sqlite_ts(dt: datetime) -> str:
    """Format an instant the way created_at is stored on SQLite (UTC text, sortable)."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def ts_param(conn_or_dialect, dt: datetime):
    """Bind value for comparing with created_at: UTC text on SQLite, aware datetime elsewhere."""
    name = conn_or_dialect if isinstance(conn_or_dialect, str) else conn_or_dialect.dialect.name
    if name == "sqlite":
        dt = dt.astimezone(timezone.utc)
        # Whole-second bounds are written without a fraction, so that a row stored as
        # "… 00:00:00" and one stored as "… 00:00:00.000000" both sort at or after it.
        fmt = "%Y-%m-%d %H:%M:%S" if dt.microsecond == 0 else "%Y-%m-%d %H:%M:%S.%f"
        return dt.strftime(fmt)
    return dt


class QueryTimeout(Exception):
    """A query ran past the configured time limit."""


def make_engine(url: str, statement_timeout_ms: int = 10_000, **kw) -> sa.Engine:
    """Create an engine that survives restarts (pre-ping) and bounds every statement."""
    u = sa.engine.make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        # SQLAlchemy 2.1 defaults to psycopg 3; the project ships psycopg2.
        u = u.set(drivername="postgresql+psycopg2")
        url = u
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True, **kw
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        if statement_timeout_ms:
            _install_sqlite_timeout(engine, statement_timeout_ms)
        return engine

    connect_args = dict(kw.pop("connect_args", {}))
    connect_args.setdefault("connect_timeout", 5)
    # No JIT: compiling a plan takes ~15 ms, more than a dashboard query on the rollups.
    connect_args["options"] = "-c jit=off" + (
        f" -c statement_timeout={int(statement_timeout_ms)}" if statement_timeout_ms else "")
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args, **kw
    )


def _install_sqlite_timeout(engine: sa.Engine, timeout_ms: int) -> None:
    """Abort any SQLite statement that runs longer than timeout_ms (progress handler)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(conn, cursor, statement, parameters, context, executemany):
        raw = conn.connection.dbapi_connection
        if executemany or not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            raw.set_progress_handler(None, 0)
            return
        deadline = time.monotonic() + timeout_ms / 1000

        def _check():
            return 1 if time.monotonic() > deadline else 0

        raw.set_progress_handler(_check, 20_000)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(conn, cursor, statement, parameters, context, executemany):
        conn.connection.dbapi_connection.set_progress_handler(None, 0)


def is_timeout(exc: BaseException) -> bool:
    """True when a DBAPI error means the statement hit the time limit."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError) and "interrupted" in str(orig):
        return True
    return getattr(orig, "pgcode", None) == "57014"  # query_canceled


def migrate(engine: sa.Engine) -> None:
    """Create or upgrade every table the dashboard needs (Alembic, head)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

