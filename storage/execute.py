"""The one place a request's query runs: a pooled connection, the engine's time limit,
and its failure classified once for every face (like Datasette's `Database.execute`).

The API and the dashboard's callbacks both read through `connect()` (or `execute()`).
A database failure leaves it as a `DatabaseFault` of one kind; each face only words it:

- TIMEOUT: the statement ran past AI_USAGE_STATEMENT_TIMEOUT_MS (API 503 query_timeout,
  page "Consulta cancelada por tiempo").
- UNAVAILABLE: the database cannot be reached, dropped the connection or the pool is
  exhausted (API 503 database_unavailable, page "Datos no disponibles").
- SCHEMA_MISSING: the database answers but lacks the dashboard's tables or columns —
  a deployment that skipped `ai-usage init-db`. Answered like UNAVAILABLE (API 503
  database_unavailable, page "Datos no disponibles"), since no client can fix it, and
  logged at ERROR (not WARNING) because it will not pass by itself.

Anything else (None from `classify`) is a bug: it leaves unchanged, the API answers 500.
The time limit itself is installed on the engine (storage.engine.make_engine).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa

from .engine import QueryTimeout, is_timeout

TIMEOUT = "timeout"
UNAVAILABLE = "unavailable"
SCHEMA_MISSING = "schema_missing"
KINDS = (TIMEOUT, UNAVAILABLE, SCHEMA_MISSING)

# SQLite words a missing table or column; PostgreSQL gives SQLSTATE undefined_table/_column.
_SQLITE_SCHEMA = ("no such table", "no such column")
_PG_SCHEMA = ("42P01", "42703")

T = TypeVar("T")


class DatabaseFault(Exception):
    """A query failed for a reason of the database's (kind in KINDS), not of the code."""

    def __init__(self, kind: str, cause: BaseException):
        super().__init__(f"{kind}: {cause.__class__.__name__}")
        self.kind, self.cause = kind, cause

    @property
    def log_level(self) -> int:
        """WARNING for what passes by itself (an outage, a slow query); ERROR for a missing schema."""
        return logging.ERROR if self.kind == SCHEMA_MISSING else logging.WARNING

    def summary(self) -> str:
        """The cause's first line, for a log (never for a client)."""
        text = str(self.cause)
        return text.splitlines()[0] if text else self.cause.__class__.__name__


def _schema_missing(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "pgcode", None) in _PG_SCHEMA:
        return True
    return isinstance(exc, sa.exc.OperationalError) and str(orig).startswith(_SQLITE_SCHEMA)


def classify(exc: BaseException) -> str | None:
    """The kind of database failure exc is (TIMEOUT, SCHEMA_MISSING, UNAVAILABLE), or None for a bug."""
    if isinstance(exc, DatabaseFault):
        return exc.kind
    if isinstance(exc, QueryTimeout) or is_timeout(exc):
        return TIMEOUT
    if _schema_missing(exc):
        return SCHEMA_MISSING
    if isinstance(
        exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError, sa.exc.TimeoutError)
    ) or getattr(exc, "connection_invalidated", False):
        return UNAVAILABLE
    return None


@contextmanager
def connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A pooled connection of engine; a database failure inside leaves as DatabaseFault."""
    try:
        with engine.connect() as conn:
            yield conn
    except DatabaseFault:
        raise
    except Exception as exc:
        kind = classify(exc)
        if kind is None:
            raise
        raise DatabaseFault(kind, exc) from exc


def execute(engine: sa.Engine, fn: Callable[[sa.Connection], T]) -> T:
    """fn(connection) on a pooled connection of engine; a database failure raises DatabaseFault."""
    with connect(engine) as conn:
        return fn(conn)
