"""Fixtures and hooks only: engines for SQLite and PostgreSQL, a fresh org per test, the app.

Shared helpers (row inserts, private PostgreSQL databases, the CI rule, data sets, the
pandas reference) are plain modules of the `support` package next to this file.

PostgreSQL and the browser are required under CI=true (a missing one fails the run);
elsewhere their tests skip with a clear message.
"""

from __future__ import annotations

import uuid

import pytest
from support.db import create_pg_database, drop_pg_database

from storage.engine import make_engine, migrate


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path_factory):
    """A migrated database on each engine, shared by the session; tests scope data by org."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        yield url
    else:
        url = create_pg_database()
        yield url
        drop_pg_database(url)


@pytest.fixture(scope="session")
def engine(db_url):
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def org_id():
    """A fresh org per test: tests share a database but never each other's rows."""
    return f"org-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def app(engine):
    """The whole app (page and API) on the session's database, with a test secret."""
    from support.api import make_app

    return make_app(engine)


@pytest.fixture
def client(app):
    return app.server.test_client()
