"""storage.execute: one classifier of database failures for the API and the page."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from storage import execute
from storage.engine import QueryTimeout, make_engine


def _dbapi(cls, message: str, orig: BaseException | None = None):
    return cls("SELECT 1", {}, orig or sqlite3.OperationalError(message))


class _PgError(Exception):
    def __init__(self, pgcode: str):
        super().__init__(pgcode)
        self.pgcode = pgcode


@pytest.mark.parametrize(
    "exc,kind",
    [
        (QueryTimeout("limit"), execute.TIMEOUT),
        (_dbapi(sa.exc.OperationalError, "interrupted"), execute.TIMEOUT),
        (_dbapi(sa.exc.OperationalError, "", _PgError("57014")), execute.TIMEOUT),  # query_canceled
        (_dbapi(sa.exc.OperationalError, "no such table: token_usage_logs"), execute.SCHEMA_MISSING),
        (_dbapi(sa.exc.OperationalError, "no such column: source"), execute.SCHEMA_MISSING),
        (_dbapi(sa.exc.ProgrammingError, "", _PgError("42P01")), execute.SCHEMA_MISSING),  # undefined_table
        (_dbapi(sa.exc.ProgrammingError, "", _PgError("42703")), execute.SCHEMA_MISSING),  # undefined_column
        (_dbapi(sa.exc.OperationalError, "server closed the connection unexpectedly"), execute.UNAVAILABLE),
        (_dbapi(sa.exc.InterfaceError, "connection already closed"), execute.UNAVAILABLE),
        (sa.exc.TimeoutError("QueuePool limit reached"), execute.UNAVAILABLE),
        (_dbapi(sa.exc.ProgrammingError, "", _PgError("42601")), None),  # a syntax error: a bug
        (_dbapi(sa.exc.IntegrityError, "UNIQUE constraint failed"), None),
        (KeyError("x"), None),
    ],
)
def test_classify(exc, kind):
    assert execute.classify(exc) == kind


def test_connect_raises_a_fault_for_the_database_and_nothing_else(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        with pytest.raises(execute.DatabaseFault) as info:
            execute.execute(engine, lambda c: c.execute(sa.text("SELECT * FROM token_usage_logs")).all())
        assert info.value.kind == execute.SCHEMA_MISSING and info.value.log_level == 40
        assert "no such table" in info.value.summary()
        with pytest.raises(ZeroDivisionError):  # a bug passes through unchanged
            execute.execute(engine, lambda c: 1 / 0)
        assert execute.execute(engine, lambda c: c.execute(sa.text("SELECT 7")).scalar()) == 7
    finally:
        engine.dispose()
