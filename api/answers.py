"""The API's answers, one typed model each: the single source of both the JSON body and its schema.

Python names are snake_case; the wire names are camelCase (alias generator). A route builds
its model with `model_construct` (the values come from our own queries: no validation on
the hot path, and a figure outside its documented range is still answered, never a 500),
and `dump` turns it into plain Python for orjson: fields in declaration order, ints stay
ints, None stays null, and a field left unset (actionType without groupBy) is left out.
The rows of a list (a time-series point, a model, an agent, a heatmap cell) are typed
dicts with the same configuration: a series can hold ~18,000 points, and a dict is built
in a fraction of a model's time (pydantic serializes both in Rust).
`openapi.py` takes the response schemas from `schemas()`; the constraints and descriptions
here are what the document says about each field.

Over 300 lines: one typed model per answer of the contract, each the single source of its
body and its schema; splitting them would scatter the shared configuration.
"""

from __future__ import annotations

from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,  # pydantic needs these on Python < 3.12
    get_args,
)

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, with_config
from pydantic.alias_generators import to_camel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from typing_extensions import TypedDict

from queries.filters import GRANULARITIES, SOURCES

# Wire forms: ISO-8601 strings built by the route (the exact text is part of the contract).
DateTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
Count = Annotated[int, Field(ge=0)]
Usd = Annotated[float, Field(ge=0)]
Source = Literal["all", "system", "byok"]
Granularity = Literal["hour", "day", "week", "month"]  # the applied one: never "auto"
# Spelled out for the type checker; kept equal to the parser's own lists.
assert get_args(Source) == tuple(SOURCES)
assert get_args(Granularity) == tuple(g for g in GRANULARITIES if g != "auto")


CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Answer(BaseModel):
    model_config = CONFIG

    def dump(self) -> dict[str, Any]:
        """The body as plain Python (camelCase keys), for orjson."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class ErrorDetail(Answer):
    code: str = Field(
        description=(
            "Stable machine code: invalid_timezone, invalid_date, date_out_of_range, zone_offset_out_of_range, "
            "incomplete_window, "
            "invalid_window, window_too_long, too_many_buckets, invalid_source, invalid_granularity, "
            "invalid_preset, invalid_groupBy, invalid_actionType, invalid_compare, invalid_limit, too_many_values, "
            "value_too_long, repeated_parameter (400); "
            "missing_token, invalid_token, token_expired (401); "
            "forbidden, org_mismatch (403); not_found (404); method_not_allowed (405); "
            "internal_error (500); database_unavailable, query_timeout (503)."
        )
    )
    message: str
    parameter: str | None = Field(description="The query parameter at fault; null when the error is not about one.")


class Error(Answer):
    error: ErrorDetail


_VALUES = Annotated[list[str], Field(max_length=50, description="Sorted, distinct values applied (OR).")]


@with_config(CONFIG)
class SliceEcho(TypedDict):
    """The filters applied (contract §3.1), by parameter name; absent filters are left out."""

    agent_id: NotRequired[_VALUES]
    user_id: NotRequired[_VALUES]
    provider: NotRequired[_VALUES]
    model: NotRequired[_VALUES]
    action_type: NotRequired[_VALUES]


class Sliced(Answer):
    """A data answer: it echoes the slice its figures are narrowed by (the route adds it)."""

    filters: SliceEcho = Field(
        description="The filters applied (an object of lists, absent filters left out; {} without any)."
    )


# The comparison (contract §3.2, docs/compare.md): with `compare`, rows and points gain these.
_EARLIER = "The same figure over the earlier window (compare only; 0 without usage there)."
PreviousUsd = Annotated[Usd, Field(description=_EARLIER)]
PreviousCount = Annotated[Count, Field(description=_EARLIER)]


class SummaryFigures(Answer):
    from_: DateTime = Field(alias="from", description="Window start, local, with offset.")
    to: DateTime = Field(description="Window end (exclusive), local, with offset.")
    timezone: str
    source: Source
    total_cost_usd: Usd
    total_tokens: Count
    total_input_tokens: Count
    total_output_tokens: Count
    total_cache_read_tokens: Count
    executions: Count
    unpriced_executions: Count = Field(description="Rows whose cost_usd is NULL (the provider reported no price).")
    estimated_unpriced_cost_usd: Usd = Field(
        description=(
            "Those rows priced from the catalogue and the overrides, at the price in force at the start of each "
            "row's UTC quarter-hour; rows of models with no price add nothing. Never part of totalCostUsd."
        )
    )


class SummaryPrevious(SummaryFigures):
    """The summary's figures over the earlier window of a comparison, with its own from and to."""


class Summary(SummaryFigures, Sliced):
    previous: SummaryPrevious | None = Field(
        None, description="Only with `compare`: the same fields over the earlier window (its own from and to)."
    )


@with_config(CONFIG)
class CacheSavingsPoint(TypedDict):
    bucket: Annotated[DateTime, Field(description="Local start of the bucket's calendar period, with offset.")]
    partial: Annotated[bool, Field(description="Its period is not wholly inside the window up to now.")]
    cache_read_tokens: Count
    total_input_tokens: Count
    hit_rate: Annotated[float | None, Field(ge=0, le=1, description="null without input tokens in the bucket.")]
    estimated_savings_usd: float
    net_savings_usd: float


class CacheSavingsFigures(Answer):
    source: Source
    total_cache_read_tokens: Count
    total_input_tokens: Count
    hit_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(
        description="totalCacheReadTokens / totalInputTokens; null without input tokens."
    )
    estimated_savings_usd: float
    skipped_models_count: Count = Field(
        description=(
            "Distinct models in the window with no known price, or that wrote to the cache without a known "
            "cache-write price: their rows add nothing to the savings, resp. to the premium."
        )
    )
    cache_write_tokens: Count
    write_premium_usd: float = Field(
        description="Σ cache_write_tokens × (cache-write price − input price) of the row's model."
    )
    net_savings_usd: float = Field(description="estimatedSavingsUsd − writePremiumUsd.")


class CacheSavingsPrevious(CacheSavingsFigures):
    """The cache figures over the earlier window of a comparison (no points), with its bounds."""

    from_: DateTime = Field(alias="from", description="Earlier window start, local, with offset.")
    to: DateTime = Field(description="Earlier window end (exclusive, or cut at now moved back), local, with offset.")


class CacheSavings(CacheSavingsFigures, Sliced):
    points: list[CacheSavingsPoint] = Field(
        description="One per bucket of the applied granularity up to now, zero-filled, ascending."
    )
    previous: CacheSavingsPrevious | None = Field(
        None, description="Only with `compare`: the scalar figures over the earlier window, with its from and to."
    )


class Projection(Sliced):
    status: Literal["ok", "closed", "insufficient_data"] = Field(
        description=(
            "`closed`: asOf's month ended before today, and every figure is that whole month's actual cost; "
            "`insufficient_data`: fewer than 7 fitting days, figures null; `ok`: a forecast."
        )
    )
    as_of: Day = Field(description="The earlier of `to` and today (local dates): the forecast is of its month.")
    month_start: Day | None = Field(description="null with insufficient_data.")
    month_end: Day | None = Field(description="null with insufficient_data.")
    month_to_date_usd: Usd | None = Field(
        description="Actual cost from the month's first day to the end of asOf (up to now when asOf is today)."
    )
    projected_total_usd: Usd | None
    lower80: Usd | None
    upper80: float | None = Field(
        description=(
            "monthToDateUsd + S + t·se (contract §3): with a falling trend whose forecast sums below zero "
            "it can be under lower80, which never goes below monthToDateUsd."
        )
    )
    daily_points: Count = Field(
        description="Fitting days: days of the window up to asOf, today excluded, with at least one row."
    )


@with_config(CONFIG)
class TimeSeriesPoint(TypedDict):
    bucket: Annotated[DateTime, Field(description="Local start of the bucket's calendar period, with offset.")]
    action_type: NotRequired[Annotated[str | None, Field(description="Only with groupBy=action.")]]
    cost_usd: Usd
    tokens: Count
    executions: Count
    partial: Annotated[
        bool,
        Field(
            description=(
                "true when the bucket's calendar period is not wholly inside the window up to now: the bucket "
                "in progress, or one cut by the window's first or last day."
            )
        ),
    ]
    previous_cost_usd: NotRequired[Annotated[Usd, Field(description="compare: bucket i of the earlier window.")]]
    previous_tokens: NotRequired[PreviousCount]
    previous_executions: NotRequired[PreviousCount]


class TimeSeries(Sliced):
    granularity: Granularity
    timezone: str
    points: list[TimeSeriesPoint]


_PCT = (
    "The {q}th percentile latency (ms) over the rows with a latency, null if none: within 1 % of the"
    " exact nearest-rank percentile (the latency at rank ceil({q}/100 · n) of the sorted latencies)."
)


@with_config(CONFIG)
class ModelUsage(TypedDict):
    provider: str
    model: str
    cost_usd: Usd
    input_tokens: Count
    output_tokens: Count
    cache_read_tokens: Count
    executions: Count
    avg_latency_ms: Annotated[float, Field(ge=0)] | None
    p50_latency_ms: Annotated[float | None, Field(description=_PCT.format(q="50"))]
    p95_latency_ms: Annotated[float | None, Field(description=_PCT.format(q="95"))]
    p99_latency_ms: Annotated[float | None, Field(description=_PCT.format(q="99"))]
    previous_cost_usd: NotRequired[PreviousUsd]
    previous_tokens: NotRequired[PreviousCount]
    previous_executions: NotRequired[PreviousCount]


class ModelEfficiency(Sliced):
    models: list[ModelUsage]


@with_config(CONFIG)
class AgentUsage(TypedDict):
    agent_id: Annotated[str | None, Field(description="null for rows not tied to an agent.")]
    name: Annotated[
        str | None,
        Field(description=("The agent's name; its id when the org has no such agent; null with agentId null.")),
    ]
    avatar_url: str | None
    cost_usd: Usd
    tokens: Count
    executions: Count
    sparkline: Annotated[
        list[Usd],
        Field(
            description=(
                "Cost per bucket of the applied granularity, in window order, up to now (buckets that start "
                "after now are left out)."
            )
        ),
    ]
    previous_cost_usd: NotRequired[PreviousUsd]
    previous_tokens: NotRequired[PreviousCount]
    previous_executions: NotRequired[PreviousCount]


class ByAgent(Sliced):
    agents: list[AgentUsage]


@with_config(CONFIG)
class UserUsage(TypedDict):
    user_id: Annotated[str | None, Field(description="null for rows without a user.")]
    cost_usd: Usd
    tokens: Count
    executions: Count
    sparkline: Annotated[
        list[Usd],
        Field(description="Cost per bucket of the applied granularity, in window order, up to now."),
    ]
    previous_cost_usd: NotRequired[PreviousUsd]
    previous_tokens: NotRequired[PreviousCount]
    previous_executions: NotRequired[PreviousCount]


@with_config(CONFIG)
class UsersOthers(TypedDict):
    """The users past the limit, as one row."""

    cost_usd: Usd
    tokens: Count
    executions: Count
    previous_cost_usd: NotRequired[
        Annotated[Usd, Field(description="compare: the earlier window's cost of every user not listed.")]
    ]
    previous_tokens: NotRequired[PreviousCount]
    previous_executions: NotRequired[PreviousCount]


class ByUser(Sliced):
    users: list[UserUsage] = Field(
        description=(
            "The top `limit` users by cost descending (ties: executions, then userId, no user last); with "
            "`compare`, followed by the users with usage only in the earlier window that are among its top "
            "`limit`, with zeros (docs/compare.md)."
        )
    )
    total_users: Count = Field(description="Distinct users of the window (rows without a user count as one).")
    others: UsersOthers = Field(
        description="The users past the limit: users + others add up to the window's totals (and, with compare, "
        "previous* to the earlier window's)."
    )


@with_config(CONFIG)
class HeatmapCell(TypedDict):
    dow: Annotated[int, Field(ge=0, le=6, description="Sunday = 0 … Saturday = 6.")]
    hour: Annotated[int, Field(ge=0, le=23)]
    tokens: Count
    cost_usd: Usd
    executions: Annotated[int, Field(ge=1)]


class Heatmap(Sliced):
    timezone: str
    cells: list[HeatmapCell]


@with_config(CONFIG)
class AnomalyContributor(TypedDict):
    kind: Literal["agent", "model", "action"]
    id: Annotated[str | None, Field(description="The agent id, model or action type; null: rows without an agent.")]
    delta_usd: Annotated[
        float,
        Field(
            description=(
                "The day's cost of this agent, model or action minus its expected (the median of the same "
                "weekday over the 8 weeks before): positive for an anomaly up, negative for one down."
            )
        ),
    ]


@with_config(CONFIG)
class AnomalyDay(TypedDict):
    date: Annotated[Day, Field(description="The local day (of `timezone`).")]
    cost_usd: Usd
    expected_usd: Annotated[
        Usd,
        Field(
            description=(
                "The baseline: the level of the 8 weeks before (Theil–Sen line of the cost divided by its "
                "weekday factor) times the day's weekday factor."
            )
        ),
    ]
    score: Annotated[
        float,
        Field(description="Robust z: (costUsd − expectedUsd) / robust scale; |score| ≥ 3.5 is an anomaly."),
    ]
    direction: Literal["up", "down"]
    contributors: Annotated[
        list[AnomalyContributor],
        Field(
            max_length=5,
            description="Up to 5 agents, models or actions that explain the departure, largest |deltaUsd| first.",
        ),
    ]


class Anomalies(Sliced):
    anomalies: list[AnomalyDay] = Field(
        description=(
            "Local days of the window up to yesterday whose cost departs from the expected cost, newest first; "
            "a day needs 28 days of history with data before it to be judged."
        )
    )


# Alerts (contract §3.4): the org's outbox events and their delivery attempts.
AlertType = Literal["budget_threshold", "projected_overrun", "anomaly", "test"]
AlertStatus = Literal["pending", "delivered", "failed", "undeliverable"]


@with_config(CONFIG)
class AlertDelivery(TypedDict):
    attempted_at: DateTime
    http_status: Annotated[int | None, Field(description="The receiver's HTTP status; null when none came.")]
    error: Annotated[
        str | None,
        Field(
            description=(
                "Why the attempt failed (timeout, reset, refused URL, a non-2xx status); for an undeliverable "
                "event, why nothing was sent. null on success."
            )
        ),
    ]


@with_config(CONFIG)
class AlertEvent(TypedDict):
    id: Annotated[str, Field(description="The event id, also the webhook body's `id` on every attempt.")]
    type: AlertType
    month: Annotated[str, Field(description="YYYY-MM, local to the budget's timezone.")]
    key: Annotated[str, Field(description="What makes it fire once: the threshold, the anomaly's date, or the id.")]
    created_at: DateTime
    status: Annotated[
        AlertStatus,
        Field(
            description=(
                "pending (to be tried, or retried with backoff), delivered (a 2xx answer), failed (no 2xx within "
                "24 h), undeliverable (no webhook URL or no signing secret: never sent)."
            )
        ),
    ]
    attempts: Count
    next_attempt_at: Annotated[DateTime | None, Field(description="When a pending event is tried next.")]
    threshold: Annotated[float | None, Field(description="budget_threshold: the fraction of the budget crossed.")]
    payload: Annotated[dict[str, Any], Field(description="The webhook body sent, as JSON.")]
    deliveries: Annotated[list[AlertDelivery], Field(description="Every attempt, oldest first.")]


class Alerts(Answer):
    alerts: Annotated[list[AlertEvent], Field(description="The org's alert events, newest first.")]


ANSWERS = (
    Error,
    Summary,
    CacheSavings,
    Projection,
    TimeSeries,
    ModelEfficiency,
    ByAgent,
    ByUser,
    Heatmap,
    Anomalies,
    Alerts,
)


class _NoFieldTitles(GenerateJsonSchema):
    """Titles repeat the property names; the document keeps only the models' names."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def schemas(ref_template: str = "#/components/schemas/{model}") -> dict[str, dict]:
    """Every answer's JSON Schema (serialization side, camelCase), nested models included, by model name."""
    from .budget_answers import ANSWERS as BUDGET

    _, top = models_json_schema(
        [(m, "serialization") for m in (*ANSWERS, *BUDGET)], ref_template=ref_template, schema_generator=_NoFieldTitles
    )
    return top["$defs"]
