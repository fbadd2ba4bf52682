"""Display currency rates: the rate in force on a day, and the stored list (table currency_rates).

The rule: a page showing `currency=EUR` on a day D uses the EUR rate with the latest `as_of`
that is not after D (D is today in the page's timezone). A rate dated in the future waits for
its day; a currency with no rate dated D or earlier has none.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from storage.currencies import Rate
from storage.schema import currency_rates

__all__ = ["Rate", "all_rates", "rate_in_force"]


def rate_in_force(conn: sa.Connection, currency: str, day: date) -> Rate | None:
    """The currency's rate with the latest as_of ≤ day, or None."""
    t = currency_rates.c
    row = conn.execute(
        sa.select(t.units_per_usd, t.as_of)
        .where(t.currency == currency, t.as_of <= day)
        .order_by(t.as_of.desc())
        .limit(1)
    ).first()
    return None if row is None else Rate(currency, Decimal(row.units_per_usd), row.as_of)


def all_rates(conn: sa.Connection) -> list[Rate]:
    """Every stored rate, by currency, newest date first."""
    t = currency_rates.c
    rows = conn.execute(
        sa.select(t.currency, t.units_per_usd, t.as_of, t.created_at).order_by(t.currency, t.as_of.desc())
    ).all()
    return [Rate(r.currency, Decimal(r.units_per_usd), r.as_of, r.created_at) for r in rows]
