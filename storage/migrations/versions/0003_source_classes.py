"""Rollups key a source's class: 'BYOK', ' system ' and '' join system, byok and other.

Until 0002 a refresh keyed each rollup row by the raw `source` text, so rows written as
'BYOK', ' system ' or 'System' counted in Todos but in neither Sistema nor BYOK. Reads
now classify a source trimmed of ASCII whitespace and without ASCII case
(storage/sources.py), and refreshes key the class. This revision re-keys the rollup rows
already written: the rows of every other text are summed into the row of their class
(sums of integer sums: exact) and removed, in the migration's one transaction. No raw
row is read: it costs one scan of each rollup table, and rollups written with the
platform's two words only are left as they are. The state's version moves, so a
running server plans its next read again.

Downgrade clears the rollups and their watermark: 0002's code keys the raw text again,
so answers come from the raw rows until its next refresh rebuilds them.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FAMILIES = {  # table -> its key columns besides (org_id, grain, t, source)
    "rollup_total": [],
    "rollup_action": ["action_type"],
    "rollup_model": ["provider", "model"],
    "rollup_agent": ["agent_id", "agent_null"],
}
MEASURES = [
    "cost_e8",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "executions",
    "latency_sum",
    "latency_count",
]
CLASSES = "('system', 'byok', 'other')"
WHITESPACE = " \t\n\x0b\x0c\r"


def source_class(dialect: str) -> str:
    """storage/sources.py's rule as of this revision (a migration must not change with the code)."""
    if dialect == "sqlite":
        folded = f"lower(trim(source, char({', '.join(str(ord(c)) for c in WHITESPACE)})))"
    else:
        chars = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)
        folded = f'lower(btrim(source, {chars}) COLLATE "C")'
    return f"(CASE {folded} WHEN 'system' THEN 'system' WHEN 'byok' THEN 'byok' ELSE 'other' END)"


def upgrade() -> None:
    cls = source_class(op.get_bind().dialect.name)
    for table, dims in FAMILIES.items():
        keys = ["org_id", "grain", "t", "source", *dims]
        select_keys = ", ".join(cls if k == "source" else k for k in keys)
        op.execute(
            f"INSERT INTO {table} ({', '.join(keys + MEASURES)})"
            f" SELECT {select_keys}, {', '.join(f'SUM({m})' for m in MEASURES)} FROM {table}"
            f" WHERE source NOT IN {CLASSES} GROUP BY {select_keys}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURES)
        )
        op.execute(f"DELETE FROM {table} WHERE source NOT IN {CLASSES}")
    op.execute("UPDATE rollup_state SET version = version + 1 WHERE id = 1")


def downgrade() -> None:
    for table in FAMILIES:
        op.execute(f"DELETE FROM {table}")
    op.execute("UPDATE rollup_state SET watermark = 0, gaps = '[]', version = version + 1 WHERE id = 1")
