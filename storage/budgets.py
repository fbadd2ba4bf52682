"""The budget's one writer: an org's settings and its change log, in one transaction.

`save_budget` replaces the org's `org_budgets` row and, when anything changed, appends a
`budget_changes` row with who (the token's `sub`), when, and the settings before and
after (JSON). Both writes commit together or not at all. Two writers of one org are
serialised (a PostgreSQL transaction-level advisory lock on the org; SQLite's write lock,
taken by the first statement), so each change's `old_settings` is what the one before
it stored.

The settings travel as a plain JSON-able dict (`monthlyBudgetUsd` as a decimal string or
None, `thresholds` a list of floats, `webhookUrl`, `timezone`): queries/budget.py builds
and reads it; this layer only stores it.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from .schema import budget_changes, org_budgets

Stored = dict[str, Any]
LOCK_NAMESPACE = "ai_usage.budget:"


def amount_text(value: Decimal) -> str:
    """The canonical text of an amount, as ExactDecimal reads it back (500, 0.1, 1234.5)."""
    d = value.normalize()
    exponent = d.as_tuple().exponent
    return str(d.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else d)


def row_settings(row: sa.Row[Any] | None) -> Stored | None:
    """The JSON-able settings of an org_budgets row (None: no row)."""
    if row is None:
        return None
    budget = row.monthly_budget_usd
    return {
        "monthlyBudgetUsd": None if budget is None else amount_text(budget),
        "thresholds": [float(t) for t in json.loads(row.thresholds)],
        "webhookUrl": row.webhook_url,
        "timezone": row.timezone,
    }


def read_budget(conn: sa.Connection, org_id: str) -> Stored | None:
    row = conn.execute(sa.select(org_budgets).where(org_budgets.c.org_id == org_id)).first()
    return row_settings(row)


def _lock(conn: sa.Connection, org_id: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": LOCK_NAMESPACE + org_id})
    else:  # SQLite: a write statement takes the database's write lock until commit
        conn.execute(org_budgets.update().where(org_budgets.c.org_id == org_id).values(org_id=org_id))


def save_budget(engine: sa.Engine, org_id: str, new: Stored, changed_by: str | None, at: datetime) -> Stored:
    """Store `new` as org_id's settings and log the change, in one transaction; answer what is stored."""
    with engine.begin() as conn:
        _lock(conn, org_id)
        if new["monthlyBudgetUsd"] is not None:
            new = {**new, "monthlyBudgetUsd": amount_text(Decimal(new["monthlyBudgetUsd"]))}
        old = read_budget(conn, org_id)
        values = {
            "monthly_budget_usd": None if new["monthlyBudgetUsd"] is None else Decimal(new["monthlyBudgetUsd"]),
            "thresholds": json.dumps(list(new["thresholds"])),
            "webhook_url": new["webhookUrl"],
            "timezone": new["timezone"],
            "updated_at": at,
            "updated_by": changed_by,
        }
        if old is None:
            conn.execute(org_budgets.insert().values(org_id=org_id, **values))
        elif old != new:
            conn.execute(org_budgets.update().where(org_budgets.c.org_id == org_id).values(**values))
        if old != new:
            conn.execute(
                budget_changes.insert().values(
                    org_id=org_id,
                    changed_at=at,
                    changed_by=changed_by,
                    old_settings=None if old is None else json.dumps(old),
                    new_settings=json.dumps(new),
                )
            )
        stored = read_budget(conn, org_id)
    assert stored is not None
    return stored


def read_changes(conn: sa.Connection, org_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The org's latest changes, newest first: changed_at, changed_by, old (None: none set before), new."""
    rows = conn.execute(
        sa.select(budget_changes)
        .where(budget_changes.c.org_id == org_id)
        .order_by(budget_changes.c.changed_at.desc(), budget_changes.c.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "changed_at": r.changed_at,
            "changed_by": r.changed_by,
            "old": None if r.old_settings is None else json.loads(r.old_settings),
            "new": json.loads(r.new_settings),
        }
        for r in rows
    ]
