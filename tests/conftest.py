"""Fixtures and hooks only: engines for SQLite and PostgreSQL, a fresh org per test, the app,
private databases (empty, or migrated in a file copy) for tests that need their own.

Shared helpers (row inserts, private PostgreSQL databases, Alembic at a revision, the CI
rule, data sets, the pandas reference) are plain modules of the `support` package next to
this file.

PostgreSQL and the browser are required under CI=true (a missing one fails the run);
elsewhere their tests skip with a clear message.

Speed: the session's database (`engine`) is migrated once per process and shared, each test
scoping its rows by a fresh `org_id`; a test that needs a database of its own asks for
`migrated_url` (a copy of a per-session template: no migration run per test) or, to test
the migrations themselves, `fresh_url` (empty). See CONTRIBUTING.md, «Tests».
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from support.db import ENGINES, copied_database, create_pg_database, drop_pg_database, empty_database, make_template

from storage.engine import make_engine, migrate


@pytest.fixture(scope="session", params=ENGINES)
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


@pytest.fixture(scope="session")
def db_template(tmp_path_factory):
    """`db_template(kind)`: the URL of a database migrated to head on that engine, made once
    per session (per xdist worker) on first use, to be copied by `migrated_url`."""
    made: dict[str, str] = {}

    def get(kind: str) -> str:
        if kind not in made:
            made[kind] = make_template(kind, tmp_path_factory.mktemp(f"template-{kind}"))
        return made[kind]

    yield get
    if "postgresql" in made:
        drop_pg_database(made["postgresql"])


@pytest.fixture(scope="module")
def own_engine(db_url, db_template, tmp_path_factory):
    """A database of the module's own, at head, on the session database's engine (a template
    copy): for modules that refresh or rebuild the rollups of the whole database, or count
    its rows, so that their cost and answers do not depend on what other modules (or the
    order of files on an xdist worker) left in the shared one. A module opts in by
    overriding `engine`:

        @pytest.fixture(scope="module")
        def engine(own_engine):
            return own_engine
    """
    kind = sa.engine.make_url(db_url).get_backend_name()
    with copied_database(db_template(kind), tmp_path_factory.mktemp("own")) as url:
        eng = make_engine(url)
        yield eng
        eng.dispose()


@pytest.fixture(params=ENGINES)
def migrated_url(request, db_template, tmp_path):
    """A private database at head on each engine, nobody else's rows in it (a copy of the
    session's template: milliseconds instead of a migration run)."""
    with copied_database(db_template(request.param), tmp_path) as url:
        yield url


@pytest.fixture(params=ENGINES)
def fresh_url(request, tmp_path):
    """A private, empty database on each engine (no table, no Alembic version): for tests of
    the migrations (`support.db.upgrade(engine, "0003")`) and of `init-db` itself."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def fresh(fresh_url):
    """An engine on `fresh_url` (an empty database on each engine), disposed after the test."""
    eng = make_engine(fresh_url)
    yield eng
    eng.dispose()
