"""Whether a database's migrations are this code's: rollup reads need every block it plans.

Migrations 0014 to 0018 each add blocks that plans read (folded weeks, 8- and 64-day blocks,
week blocks, local-day blocks), built from the rows already there. Code served against a
database that has not run them would read blocks that are not there and answer short, with
no error. `at_head` tells: the database's `alembic_version` is SCHEMA_HEAD (tests/
test_schema_version.py keeps it the migrations' head). storage.rollup_tables.available
answers from the raw rows until it is (exact, slower), and says so in the log.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

SCHEMA_HEAD = "0018"
log = logging.getLogger("ai_usage.rollups")


def at_head(conn: sa.Connection) -> bool:
    """True when conn's database has run every migration of this code (none newer either)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        rev = None
    else:
        rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    if rev == SCHEMA_HEAD:
        return True
    log.warning(
        "the database is at migration %s, this code's is %s: answers are read from the raw rows "
        "until `ai-usage init-db` upgrades it",
        rev,
        SCHEMA_HEAD,
    )
    return False
