"""Rollup reads only on a database at this code's migrations (storage/schema_version.py)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from support.db import downgrade, upgrade

import storage
from storage import rollup_tables as rt
from storage.engine import make_engine
from storage.schema_version import SCHEMA_HEAD, at_head


def test_schema_head_is_the_migrations_head():
    scripts = ScriptDirectory(str(Path(storage.__file__).parent / "migrations"))
    assert scripts.get_current_head() == SCHEMA_HEAD


def test_a_database_behind_the_code_is_read_raw_until_upgraded(migrated_url, caplog, monkeypatch):
    e = make_engine(migrated_url)
    try:
        with e.connect() as c:
            assert at_head(c)
        downgrade(e, "0017")
        rt._AVAILABLE.clear()
        with e.connect() as c:
            assert not rt.available(c)  # its local-day blocks are missing: no rollup read
        assert "is at migration 0017, this code's is " + SCHEMA_HEAD in caplog.text
        monkeypatch.setattr(rt.time, "monotonic", lambda: 1e12)  # past the 30 s a "no" is kept
        upgrade(e, "head")
        with e.connect() as c:
            assert rt.available(c)
            c.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))  # a newer code's database
            assert not at_head(c)
    finally:
        rt._AVAILABLE.clear()
        e.dispose()
