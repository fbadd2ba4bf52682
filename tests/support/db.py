"""Database helpers of the tests: the CI rule for required services, private PostgreSQL
databases, and plain row inserts."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from storage.schema import agents, token_usage_logs

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def require(ok: bool, what: str) -> None:
    """Skip (on a user's machine) or fail (under CI=true) when a test's service is missing."""
    if ok:
        return
    if CI:
        pytest.fail(f"{what} is required under CI=true", pytrace=False)
    pytest.skip(f"{what} is not available here; these tests run under CI=true")


def _pg_reachable() -> bool:
    try:
        eng = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


def create_pg_database() -> str:
    """Create an empty private database and return its URL."""
    require(_pg_reachable(), f"PostgreSQL at {PG_ADMIN_URL}")
    name = f"ai_usage_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def insert_logs(engine, rows: list[dict]) -> None:
    """Insert log rows (dicts with the contract's columns; id optional)."""
    with engine.begin() as c:
        c.execute(token_usage_logs.insert(), rows)


def insert_agents(engine, rows: list[dict]) -> None:
    with engine.begin() as c:
        c.execute(agents.insert(), rows)
