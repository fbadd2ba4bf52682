"""Budgets (contract §3.4): an org's settings, their validation and change log, and the month against them.

- `BudgetSettings`, `load_settings` (defaults without a row), `parse_settings` (a PUT body
  or the page's form → settings, BadParameter naming the field), `save_settings` (one
  transaction with its `budget_changes` row, storage/budgets.py) and `history`.
- `month_status`: the current local month of a timezone with the projection of the
  default window (the last 30 days, as `/projection` without parameters answers it) and
  `probability_over_budget`.

Probability. The projection predicts the cost still to come as S + se·T, T Student's t
with n − 2 degrees of freedom (S = Σ w·ŷ over the forecast days, se its standard error:
contract §3, queries/projection.py `Projection.moments`), the very distribution whose 10 %
and 90 % quantiles are lower80 and upper80. So P(total > budget) =
P(T > (budget − MTD − S)/se) = t.sf((budget − MTD − S)/se, n − 2). It is centred on S, not
on projectedTotalUsd's Σ w·max(ŷ, 0): the clip keeps the point forecast from counting
negative spend, but the distribution is the model's own, the one the 80 % band comes from
(with a budget at upper80 the probability is 10 %, at lower80 > MTD 90 %). Spend never
goes down, so a month-to-date already above the budget is 1; a closed month is 1 or 0;
no budget or no projection (insufficient data) is None.
"""

from __future__ import annotations

import calendar
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from storage import budgets as store

from .filters import BadParameter, local_midnight, parse_filters, zone
from .projection import Projection, cost_between, projection, t_survival

DEFAULT_THRESHOLDS = (0.5, 0.8, 1.0)
MAX_BUDGET = Decimal(1_000_000_000)
BUDGET_DECIMALS = 8
MAX_THRESHOLD = 10.0
MAX_THRESHOLDS = 10
MAX_BODY_BYTES = 16_384
FIELDS = ("monthlyBudgetUsd", "thresholds", "webhookUrl", "timezone")


@dataclass(frozen=True)
class BudgetSettings:
    monthly_budget_usd: Decimal | None = None
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    webhook_url: str | None = None
    timezone: str = "UTC"  # the zone the alerts count the budget's months in


@dataclass(frozen=True)
class BudgetChange:
    changed_at: datetime
    changed_by: str | None  # the token's `sub`, when it had one
    old: BudgetSettings | None  # None: nothing was set before
    new: BudgetSettings


def to_stored(s: BudgetSettings) -> dict[str, Any]:
    return {
        "monthlyBudgetUsd": None if s.monthly_budget_usd is None else str(s.monthly_budget_usd),
        "thresholds": list(s.thresholds),
        "webhookUrl": s.webhook_url,
        "timezone": s.timezone,
    }


def from_stored(d: Mapping[str, Any] | None) -> BudgetSettings:
    if d is None:
        return BudgetSettings()
    budget = d.get("monthlyBudgetUsd")
    return BudgetSettings(
        monthly_budget_usd=None if budget is None else Decimal(str(budget)),
        thresholds=tuple(float(t) for t in d.get("thresholds", DEFAULT_THRESHOLDS)),
        webhook_url=d.get("webhookUrl"),
        timezone=str(d.get("timezone") or "UTC"),
    )


def load_settings(conn: sa.Connection, org_id: str) -> BudgetSettings:
    """The org's settings; the defaults (no budget, [0.5, 0.8, 1.0], no webhook, UTC) without a row."""
    return from_stored(store.read_budget(conn, org_id))


def save_settings(
    engine: sa.Engine, org_id: str, settings: BudgetSettings, changed_by: str | None, at: datetime
) -> BudgetSettings:
    """Store the settings and their change row in one transaction; answer what is stored."""
    return from_stored(store.save_budget(engine, org_id, to_stored(settings), changed_by, at))


def history(conn: sa.Connection, org_id: str, limit: int = 50) -> list[BudgetChange]:
    """The org's latest changes, newest first."""
    return [
        BudgetChange(
            c["changed_at"], c["changed_by"], None if c["old"] is None else from_stored(c["old"]), from_stored(c["new"])
        )
        for c in store.read_changes(conn, org_id, limit)
    ]


# ------------------------------------------------------------------ validation


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _v in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key appears twice in an object")
    return dict(pairs)


def _big_int(text: str) -> int:
    if len(text) > 40:  # Python's own refusal (4,300 digits) would name sys.set_int_max_str_digits()
        raise ValueError(f"a number has {len(text)} digits (at most 40)")
    return int(text)


def parse_body(raw: bytes) -> dict[str, Any]:
    """A PUT body: a JSON object (numbers read as exact decimals); BadParameter('body') otherwise."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadParameter("body", f"The body is longer than {MAX_BODY_BYTES} bytes.", "invalid_body")
    try:
        value = json.loads(
            raw.decode("utf-8"),
            parse_float=Decimal,
            parse_int=_big_int,
            parse_constant=_no_constants,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise BadParameter("body", f"The body is not valid JSON: {e}.", "invalid_body") from None
    if not isinstance(value, dict):
        raise BadParameter("body", "The body must be a JSON object of budget settings.", "invalid_body")
    return value


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise BadParameter("monthlyBudgetUsd", "monthlyBudgetUsd must be a number or null.", "invalid_budget")
    try:
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise BadParameter("monthlyBudgetUsd", "monthlyBudgetUsd must be a number.", "invalid_budget") from None
    if not d.is_finite() or not (0 < d <= MAX_BUDGET):
        raise BadParameter(
            "monthlyBudgetUsd", "monthlyBudgetUsd must be above 0 and at most 1000000000 (USD).", "invalid_budget"
        )
    exponent = d.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > BUDGET_DECIMALS:
        raise BadParameter(
            "monthlyBudgetUsd", f"monthlyBudgetUsd has at most {BUDGET_DECIMALS} decimals.", "invalid_budget"
        )
    return Decimal(store.amount_text(d))


def _thresholds(value: Any) -> tuple[float, ...]:
    if value is None:
        return DEFAULT_THRESHOLDS
    bad = BadParameter(
        "thresholds",
        f"thresholds must be a list of at most {MAX_THRESHOLDS} numbers, each above 0 and at most 10 "
        "(fractions of the budget: 0.8 is 80 %).",
        "invalid_thresholds",
    )
    if not isinstance(value, list) or len(value) > MAX_THRESHOLDS:
        raise bad
    out = set()
    for t in value:
        if isinstance(t, bool) or not isinstance(t, (int, float, Decimal)):
            raise bad
        try:
            f = float(t)
        except (OverflowError, ValueError):
            raise bad from None
        if not (math.isfinite(f) and 0 < f <= MAX_THRESHOLD):
            raise bad
        out.add(f)
    return tuple(sorted(out))


def _webhook(value: Any, check_url: Callable[[str], str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadParameter("webhookUrl", "webhookUrl must be a URL (text) or null.", "invalid_webhook_url")
    try:
        return check_url(value)
    except ValueError as e:  # alerts.urls.BadWebhookUrl
        raise BadParameter("webhookUrl", f"webhookUrl is refused: {e}.", "invalid_webhook_url") from None


def parse_settings(body: Mapping[str, Any], current: BudgetSettings, check_url: Callable[[str], str]) -> BudgetSettings:
    """The settings after a PUT of `body` on `current`: a field left out keeps its value, null
    clears it (thresholds: back to the default). BadParameter names the first bad field.

    check_url: the webhook rule (alerts/urls.py check_url with the operator's allowed hosts),
    passed in because the alerts layer sits above this one."""
    unknown = [k for k in body if k not in FIELDS]
    if unknown:
        raise BadParameter(
            str(unknown[0])[:100],
            f"Unknown field {str(unknown[0])[:100]!r}: the fields are {', '.join(FIELDS)}.",
            "unknown_field",
        )
    out = current
    if "monthlyBudgetUsd" in body:
        out = replace(out, monthly_budget_usd=_amount(body["monthlyBudgetUsd"]))
    if "thresholds" in body:
        out = replace(out, thresholds=_thresholds(body["thresholds"]))
    if "timezone" in body:
        tz = body["timezone"]
        if tz is not None:
            zone(tz)  # BadParameter('timezone') for anything but an IANA name
        out = replace(out, timezone=tz or "UTC")
    if "webhookUrl" in body:
        out = replace(out, webhook_url=_webhook(body["webhookUrl"], check_url))
    return out


# ------------------------------------------------------------------ the month against the budget


@dataclass(frozen=True)
class MonthStatus:
    month_start: date
    month_end: date
    month_to_date_usd: float
    projected_total_usd: float | None
    lower80: float | None
    upper80: float | None
    probability_over_budget: float | None
    status: str  # ok | closed | insufficient_data


def probability_over_budget(p: Projection, budget: Decimal | None) -> float | None:
    """P(month total > budget) under p's Student-t predictive distribution (module docstring)."""
    if budget is None or p.month_to_date_usd is None:
        return None
    b = float(budget)
    mtd = p.month_to_date_usd
    if p.status == "closed":
        return 1.0 if mtd > b else 0.0
    if p.status != "ok" or p.fit is None:
        return None
    if mtd > b:
        return 1.0
    _clipped, S, se = p.moments(list(p.forecast["date"]), list(p.forecast["weight"]))
    if se <= 0 or not math.isfinite(se):
        return 1.0 if mtd + S > b else 0.0
    return t_survival((b - mtd - S) / se, p.dof)


def month_status(
    conn: sa.Connection, org_id: str, timezone: str, now: datetime, budget: Decimal | None, source: str = "all"
) -> MonthStatus:
    """The current local month of `timezone` at `now`, projected from the last 30 days (the default window)."""
    f = parse_filters({"timezone": timezone, "source": source}, org_id, now=now)
    p = projection(conn, f)
    today = f.today
    start = today.replace(day=1)
    end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if p.status != "ok":
        mtd = cost_between(conn, f, local_midnight(start, f.tz), f.now)
        return MonthStatus(start, end, mtd, None, None, None, None, p.status)
    assert p.month_to_date_usd is not None
    return MonthStatus(
        start,
        end,
        p.month_to_date_usd,
        p.projected_total_usd,
        p.lower80,
        p.upper80,
        probability_over_budget(p, budget),
        p.status,
    )


def month_bounds(p: Projection) -> tuple[date, date] | None:
    """The month of p's asOf (also without a fit), or None when p has no asOf."""
    if p.as_of is None:
        return None
    start = p.as_of.replace(day=1)
    return start, start + timedelta(days=calendar.monthrange(start.year, start.month)[1] - 1)
