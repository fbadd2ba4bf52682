"""Slice rollups (issue 9): filtered answers from rollups — a combined family, a user family.

| table         | key (after org_id, grain, t, source)                   | grains              |
|---------------|--------------------------------------------------------|---------------------|
| rollup_combo  | action_type, provider, model, agent_id, agent_null     | 15 min, 1 h, 6 h, 1 d |
| rollup_user   | user_id, user_null                                     | 1 d, 8 d, 64 d      |

rollup_combo_lat: latency sketches keyed like rollup_combo (as 0004's, day grains doubling
up to 256 days), for a percentile per model or per agent under a filter on another column.

rollup_combo answers any slice of several filters without a user (agent × model,
action × agent …) and keeps the unpriced measures, as rollup_model does. rollup_user
answers a user filter and the users' ranking; users are many (sized for 50k per org),
so it keeps whole UTC days and coarser blocks only (docs/rollups.md has the measured
rows per grain). It has a second index (org_id, user_id, grain, t): a user filter reads
that user's blocks only, where the primary key would walk every user of the window.

ix_tul_org_user_created on the raw table: the sub-day pieces of a user-filtered window
(a window's edges in a zone off UTC, the live tail) are that user's raw rows, found by
the index rather than by walking every row of the period.

As 0004 did, upgrade clears every rollup, every latency sketch and the watermark: answers
come from the raw rows (exact) until the next refresh rebuilds all tables together with
the refresh's own code. Downgrade drops the new tables and index and clears the rest
the same way (the older refresh does not know the new tables).

Revision ID: 0008
Revises: 0007
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

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
UNPRICED = [
    "unpriced_executions",
    "unpriced_input_tokens",
    "unpriced_output_tokens",
    "unpriced_cache_read_tokens",
    "unpriced_cache_write_tokens",
]
OLD_TABLES = (
    "rollup_total",
    "rollup_action",
    "rollup_model",
    "rollup_agent",
    "rollup_model_lat",
    "rollup_agent_lat",
)


def _text(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Text, nullable=False)


def _flag(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.SmallInteger, nullable=False)


NEW: dict[str, tuple[list[sa.Column[Any]], list[str]]] = {
    "rollup_combo": (
        [_text("action_type"), _text("provider"), _text("model"), _text("agent_id"), _flag("agent_null")],
        MEASURES + UNPRICED,
    ),
    "rollup_user": ([_text("user_id"), _flag("user_null")], MEASURES),
}


SKETCH_KEY = [_text("action_type"), _text("provider"), _text("model"), _text("agent_id"), _flag("agent_null")]


def _clear() -> None:
    for table in OLD_TABLES:
        op.execute(f"DELETE FROM {table}")
    op.execute("UPDATE rollup_state SET watermark = 0, gaps = '[]', version = version + 1 WHERE id = 1")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for name, (dims, measures) in NEW.items():
        op.create_table(
            name,
            sa.Column("org_id", sa.Text, nullable=False),
            sa.Column("grain", sa.Integer, nullable=False),
            sa.Column("t", sa.BigInteger, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            *dims,
            *[sa.Column(m, sa.BigInteger, nullable=False) for m in measures],
            sa.PrimaryKeyConstraint("org_id", "grain", "t", "source", *[c.name for c in dims], name=f"pk_{name}"),
            sqlite_with_rowid=False,
        )
        if pg:
            op.execute(f"ALTER TABLE {name} SET (fillfactor = 70)")
    op.create_table(
        "rollup_combo_lat",
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("grain", sa.Integer, nullable=False),
        sa.Column("t", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        *SKETCH_KEY,
        sa.Column("sketch", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint(
            "org_id", "grain", "t", "source", *[c.name for c in SKETCH_KEY], name="pk_rollup_combo_lat"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rollup_user_user", "rollup_user", ["org_id", "user_id", "grain", "t"])
    op.create_index("ix_tul_org_user_created", "token_usage_logs", ["org_id", "user_id", "created_at"])
    _clear()


def downgrade() -> None:
    op.drop_index("ix_tul_org_user_created", "token_usage_logs")
    op.drop_index("ix_rollup_user_user", "rollup_user")
    op.drop_table("rollup_combo_lat")
    for name in NEW:
        op.drop_table(name)
    _clear()
