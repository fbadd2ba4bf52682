"""Long rows: log rows whose names are too long for an index entry, kept out of every index and
rollup of ours and read live.

PostgreSQL refuses a B-tree entry over 2,704 bytes (a third of a page; entries are compressed
first, so only text that does not compress reaches it). The covering user index (migration
0010) holds every text column of a row, so a row whose agent, model, provider and user
together passed that, in incompressible text (a BYOK model name a user typed, say), was
refused at the platform's own INSERT: our index cost the platform that log row. The rollup
and sketch keys hold the same text, so such a row would also stop the refresh for every org.

A row is long when its text columns (the dashboard's key columns) hold more than
NAME_BYTES bytes together: 2,000, so that the widest entry any index or rollup of ours
makes from a short row (the text plus ~200 bytes of numbers, headers and padding) stays
under the limit whatever the text. Migration 0013 keeps long rows out of the user and agent
indexes (partial indexes: `short_sql`) and indexes them on their own (`ix_tul_long`,
`long_sql`); the refresh leaves them out of the rollups and sketches; every answer reads
them live from that index, like the tail past the watermark (docs/figures.md, «Long names»).
The same rule holds on SQLite, which has no limit, so both engines answer the same way.
A query uses a partial index only when its WHERE holds the index's predicate word for
word: use these functions, never a copy.
"""

from __future__ import annotations

NAME_BYTES = 2000
# org_id is in every key too: its bytes count against the same room.
TEXT_COLUMNS = ("org_id", "agent_id", "user_id", "action_type", "source", "provider", "model")
LONG_INDEX = "ix_tul_long"


def _bytes(dialect: str, col: str) -> str:
    if dialect == "postgresql":
        return f"octet_length(COALESCE({col}, ''))"
    return f"length(CAST(COALESCE({col}, '') AS BLOB))"  # UTF-8 bytes (SQLite has no octet_length before 3.43)


def name_bytes(dialect: str) -> str:
    """The bytes of a row's text columns together (never NULL)."""
    return "(" + " + ".join(_bytes(dialect, c) for c in TEXT_COLUMNS) + ")"


def long_sql(dialect: str) -> str:
    """The row is long (never NULL): the predicate of ix_tul_long."""
    return f"{name_bytes(dialect)} > {NAME_BYTES}"


def short_sql(dialect: str) -> str:
    """The row is not long (never NULL): the predicate of the partial user and agent indexes."""
    return f"{name_bytes(dialect)} <= {NAME_BYTES}"


def long_table(dialect: str) -> str:
    """token_usage_logs as a FROM item for a read of long rows: SQLite (no statistics, and
    plain user and agent indexes) told to take ix_tul_long, not a user's or an agent's rows."""
    return f"token_usage_logs INDEXED BY {LONG_INDEX}" if dialect == "sqlite" else "token_usage_logs"
