"""Database helpers of the tests: the CI rule for required services, private databases
(empty, or copied from a migrated template), Alembic to a given revision, and plain row inserts.

A private database at head costs a file copy (SQLite) or `CREATE DATABASE … TEMPLATE …`
(PostgreSQL) instead of running every migration again: conftest.py's `migrated_url`
fixture. `fresh_url` is an empty one, for tests of the migrations themselves.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import storage.engine
from ingest import refresh
from storage.engine import make_engine, migrate
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


# Both engines, as the `params` of a fixture: PostgreSQL's case carries the `postgres` marker.
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def create_pg_database(template: str | None = None) -> str:
    """Create a private database (empty, or a copy of the database `template` names: no
    session may be connected to it) and return its URL. The name holds the process id, so
    pytest-xdist's workers never meet."""
    require(_pg_reachable(), f"PostgreSQL at {PG_ADMIN_URL}")
    name = f"ai_usage_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
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


def random_row(org: str, at, rng, user: str | None = None, agents=("a1", "a2", None), **fixed) -> dict:
    """A log row at `at` with random agent, source, tokens, cost (NULL one time in ten) and
    latency (NULL one time in ten), drawn from rng in that order; `fixed` overrides any column."""
    row = {
        "org_id": org,
        "created_at": at,
        "agent_id": rng.choice(list(agents)),
        "user_id": user,
        "action_type": "user_interaction",
        "source": rng.choice(["system", "byok"]),
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": rng.randint(1, 900),
        "output_tokens": rng.randint(0, 500),
        "cache_read_tokens": rng.randint(0, 50),
        "cache_write_tokens": 0,
        "cost_usd": None if rng.random() < 0.1 else round(rng.random() / 7, 8),
        "latency_ms": None if rng.random() < 0.1 else rng.randint(50, 4000),
    }
    return {**row, **fixed}


def rolled_up_rows(engine, rng, n: int, early: list, choices: dict | None = None) -> None:
    """Migration tests of rollup rows: n rows spread over 400 days from 2025-11-01 plus rows at
    `early` instants (before 1970: the floors of negative epochs), each for org o1 and o2 with
    probability 0.7 (random_row; `choices`: column -> values drawn per row), inserted and
    rolled up."""
    start = datetime(2025, 11, 1, tzinfo=UTC)
    instants = [start + timedelta(minutes=rng.randrange(400 * 24 * 60)) for _ in range(n)] + list(early)
    rows = []
    for at in instants:
        for org in ("o1", "o2"):
            if rng.random() < 0.7:
                fixed = {c: rng.choice(v) for c, v in (choices or {}).items()}
                rows.append(random_row(org, at, rng, **fixed))
    insert_logs(engine, rows)
    refresh.refresh(engine)


def insert_agents(engine, rows: list[dict]) -> None:
    with engine.begin() as c:
        c.execute(agents.insert(), rows)


# ------------------------------------------------------------------ private databases


@contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a private, empty database (no table, no Alembic version) on `kind`."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'empty-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def make_template(kind: str, folder: Path) -> str:
    """A database migrated to head, to copy (never to use: on PostgreSQL a template database
    must have no connection while it is copied)."""
    url = f"sqlite:///{folder / 'template.sqlite3'}" if kind == "sqlite" else create_pg_database()
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return url


def copy_sqlite(template_url: str, folder: Path) -> str:
    """A copy of a SQLite template in folder (a tmp_path, removed by pytest): its URL."""
    target = folder / f"db-{uuid.uuid4().hex[:8]}.sqlite3"
    # The backup API copies a consistent image (WAL included) in one step.
    src, dst = sqlite3.connect(sa.engine.make_url(template_url).database), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{target}"


@contextmanager
def copied_database(template_url: str, folder: Path) -> Iterator[str]:
    """A private copy of a template made by make_template: its URL, dropped afterwards."""
    url = sa.engine.make_url(template_url)
    if url.get_backend_name() == "sqlite":
        yield copy_sqlite(template_url, folder)
        return
    copy = create_pg_database(template=url.database)
    try:
        yield copy
    finally:
        drop_pg_database(copy)


# ------------------------------------------------------------------ Alembic at a revision

MIGRATIONS = Path(storage.engine.__file__).parent / "migrations"


def _alembic(engine: sa.Engine, fn_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, fn_name)(cfg, revision)


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Run the migrations up to `revision` (a database at an older schema, as a migration
    test needs it; `storage.engine.migrate` is `upgrade(engine, "head")`)."""
    _alembic(engine, "upgrade", revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    _alembic(engine, "downgrade", revision)


def on_both_paths(engine: sa.Engine, fn, *args) -> list:
    """[fn(conn, *args) answered from the raw rows, the same from the rollups] (queries.base.facts_path)."""
    from queries.base import facts_path

    out = []
    for path in ("raw", "rollup"):
        with facts_path(engine, path).connect() as c:
            out.append(fn(c, *args))
    return out


def assert_same_users(raw, roll) -> None:
    """Two frames of users' totals (user_totals) equal exactly, whatever their row order (the
    row without a user, None, last in both)."""
    import pandas as pd

    key = ["user_id"]
    pd.testing.assert_frame_equal(
        roll.sort_values(key, na_position="last").reset_index(drop=True),
        raw.sort_values(key, na_position="last").reset_index(drop=True),
        check_exact=True,
    )


def assert_same_answer(roll, raw, what: object = "") -> None:
    """Two answers of one query equal exactly: frames cell by cell (not their repr, which rounds
    floats to 6 significant digits and cuts long lists), dataclasses field by field, anything
    else with ==."""
    import dataclasses

    import pandas as pd

    if isinstance(raw, pd.DataFrame):
        pd.testing.assert_frame_equal(roll, raw, check_exact=True, obj=str(what) or "DataFrame")
    elif dataclasses.is_dataclass(raw) and not isinstance(raw, type):
        for field in dataclasses.fields(raw):
            assert_same_answer(getattr(roll, field.name), getattr(raw, field.name), f"{what} {field.name}")
    elif isinstance(raw, tuple) and isinstance(roll, tuple) and len(raw) == len(roll):  # e.g. a projection's fit
        for i, (a, b) in enumerate(zip(roll, raw, strict=True)):
            assert_same_answer(a, b, f"{what}[{i}]")
    elif type(raw).__module__ == "numpy":
        import numpy as np

        np.testing.assert_array_equal(roll, raw, err_msg=str(what))
    else:
        assert roll == raw, what
