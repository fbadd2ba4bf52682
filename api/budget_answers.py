"""The budget's answers (contract §3.4): GET /budget and PUT /budget, typed like api/answers.py.

Kept apart from answers.py (which stays the figures'); answers.schemas() takes these too,
so openapi.json describes them from the same models.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, with_config
from typing_extensions import TypedDict

from .answers import CONFIG, Answer, DateTime, Day, Usd

Amount = Annotated[float, Field(gt=0, le=1_000_000_000)]
Threshold = Annotated[float, Field(gt=0, le=10)]
WEBHOOK = (
    "Where alerts are POSTed (null: none). Tokens without ai.agent:write see only its scheme and host "
    "(`https://hooks.example.com/…`): a webhook's path is often its secret."
)


@with_config(CONFIG)
class BudgetSettingsBody(TypedDict):
    monthly_budget_usd: Annotated[Amount | None, Field(description="Monthly budget in USD (null: none).")]
    thresholds: Annotated[
        list[Threshold],
        Field(description="Alert thresholds, fractions of the budget (0.8 = 80 %), ascending, no repeats."),
    ]
    webhook_url: Annotated[str | None, Field(description=WEBHOOK)]
    timezone: Annotated[str, Field(description="IANA zone the alerts count the budget's months in.")]


class BudgetMonth(Answer):
    month_start: Day
    month_end: Day
    status: Literal["ok", "insufficient_data"] = Field(
        description="The projection's status; `insufficient_data`: fewer than 7 fitting days, forecasts null."
    )
    month_to_date_usd: Usd = Field(description="Actual cost from the month's first day up to now.")
    projected_total_usd: Usd | None
    lower80: Usd | None
    upper80: float | None
    probability_over_budget: Annotated[float, Field(ge=0, le=1)] | None = Field(
        description=(
            "P(month total > monthlyBudgetUsd) under the projection's Student-t predictive distribution: "
            "t.sf((budget − monthToDateUsd − S) / se, n − 2); 1 once monthToDateUsd is over the budget; "
            "null without a budget or a projection."
        )
    )


class BudgetChange(Answer):
    changed_at: DateTime = Field(description="When (UTC).")
    changed_by: str | None = Field(description="Who: the token's `sub` claim; null when it had none.")
    from_: BudgetSettingsBody | None = Field(alias="from", description="The settings before (null: none were set).")
    to: BudgetSettingsBody = Field(description="The settings after.")


class Budget(Answer):
    monthly_budget_usd: Amount | None = Field(description="Monthly budget in USD; null: none.")
    thresholds: list[Threshold] = Field(
        description="Alert thresholds, fractions of the budget; default [0.5, 0.8, 1.0]."
    )
    webhook_url: str | None = Field(description=WEBHOOK)
    timezone: str = Field(description="IANA zone the alerts count the budget's months in (set by PUT; default UTC).")
    month: BudgetMonth = Field(
        description=(
            "The current month, local to the `timezone` parameter, projected as /projection does over its "
            "default window (the last 30 days)."
        )
    )
    history: list[BudgetChange] = Field(description="The latest 50 changes of the settings, newest first.")


class BudgetStored(Answer):
    """PUT's answer: the settings as stored."""

    monthly_budget_usd: Amount | None
    thresholds: list[Threshold]
    webhook_url: str | None
    timezone: str


ANSWERS = (Budget, BudgetStored)
