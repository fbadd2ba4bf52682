"""Stand-ins for queries.budget, used only while that module is not installed (the alerts branch alone).

Once queries.budget exists, alerts.evaluate.Sources uses it and nothing here runs. The
stand-ins read the same table and the same measures: load_settings() reads org_budgets,
month_status() the month-to-date cost of the local month (queries.summary over it, so
the budget_threshold alert fires exactly as with the real module); it has no projection,
so projected_overrun never fires through it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from storage.schema import org_budgets

DEFAULT_THRESHOLDS = (0.5, 0.8, 1.0)


@dataclass(frozen=True)
class BudgetSettings:
    monthly_budget_usd: Decimal | None
    thresholds: tuple[float, ...]
    webhook_url: str | None
    timezone: str


@dataclass(frozen=True)
class MonthStatus:
    month_start: date
    month_end: date
    month_to_date_usd: float
    projected_total_usd: float | None
    lower80: float | None
    upper80: float | None
    probability_over_budget: float | None
    status: str


def load_settings(conn: sa.Connection, org_id: str) -> BudgetSettings | None:
    row = conn.execute(sa.select(org_budgets).where(org_budgets.c.org_id == org_id)).first()
    if row is None:
        return None
    try:
        thresholds = tuple(float(t) for t in json.loads(row.thresholds))
    except (TypeError, ValueError):
        thresholds = DEFAULT_THRESHOLDS
    return BudgetSettings(row.monthly_budget_usd, thresholds, row.webhook_url, row.timezone or "UTC")


def month_status(conn: sa.Connection, org_id: str, timezone: str, now: datetime, budget: Decimal | None) -> MonthStatus:
    from queries import Filters, summary

    today = now.astimezone(ZoneInfo(timezone)).date()
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    f = Filters(org_id=org_id, timezone=timezone, start_date=start, end_date=today, now=now)
    mtd = float(summary(conn, f).iloc[0]["total_cost_usd"])
    return MonthStatus(start, end, mtd, None, None, None, None, "insufficient_data")
