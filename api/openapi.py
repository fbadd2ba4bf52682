"""The OpenAPI 3.1 description of the API (served at /ai/org-usage/openapi.json).

The response schemas come from the answer models (answers.py); this module adds what is
not an answer's shape: the routes, their parameters, the security scheme and the errors.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from queries.filters import (
    COMPARES,
    GRANULARITIES,
    MAX_DATE as _MAX,
    MAX_HOURLY_DAYS,
    MAX_VALUE_CHARS,
    MAX_VALUES,
    MAX_YEARS,
    MIN_DATE as _MIN,
    PRESETS,
    SOURCES,
)
from queries.users import DEFAULT_LIMIT, MAX_LIMIT
from storage.schema import ACTION_TYPES

from . import answers, budget

BASE = "/ai/org-usage"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MIN_DATE, MAX_DATE = _MIN.isoformat(), _MAX.isoformat()  # the range parse_filters accepts


def _query(name: str, schema: dict, description: str, example=None) -> dict:
    """A query parameter; parse_filters takes an empty value as absent, so "" is documented too."""
    default = {"default": schema.pop("default")} if "default" in schema else {}
    if "enum" in schema or "format" in schema:
        schema = {"anyOf": [schema, {"const": ""}], **default}
    else:
        schema = {**schema, **default}
    p = {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
    if example is not None:
        p["example"] = example
    return p


PARAMETERS = {
    "timezone": _query(
        "timezone",
        {"type": "string", "default": "UTC", "maxLength": 64},
        "IANA time zone that buckets, days and heatmap cells are local to.",
        "America/New_York",
    ),
    "preset": _query(
        "preset",
        {"type": "string", "enum": list(PRESETS), "default": "30d"},
        "Window ending today (local), used when `from`/`to` are absent: the last 7, 30 or 90 days, "
        "or 1 January to now.",
    ),
    "from": _query(
        "from",
        {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        f"First local day of the window (inclusive), YYYY-MM-DD. Give it with `to`. Dates from "
        f"{MIN_DATE} to {MAX_DATE}; windows up to {MAX_YEARS} years; none before 1972-01-08 in Africa/Monrovia "
        "or 1979-10-02 in Pacific/Kiritimati (`zone_offset_out_of_range`: offsets off the quarter-hour).",
        "2026-10-01",
    ),
    "to": _query(
        "to",
        {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        "Last local day of the window (inclusive), YYYY-MM-DD. Give it with `from`.",
        "2026-10-31",
    ),
    "source": _query(
        "source",
        {"type": "string", "enum": list(SOURCES), "default": "all"},
        "Whose keys paid: the platform's (`system`), the customer's (`byok`) or both.",
    ),
    "sourceSystem": _query(
        "source",
        {"type": "string", "enum": list(SOURCES), "default": "system"},
        "Whose keys paid; cache savings default to the platform's keys (`system`).",
    ),
    "granularity": _query(
        "granularity",
        {"type": "string", "enum": list(GRANULARITIES), "default": "auto"},
        "Bucket size. `auto`: up to 7 days hour, 90 day, 365 week, longer month. Hourly buckets "
        f"are offered for windows up to {MAX_HOURLY_DAYS} days.",
    ),
    "groupBy": _query(
        "groupBy", {"type": "string", "enum": ["action"]}, "`action`: one point per bucket and action type."
    ),
    "compare": _query(
        "compare",
        {"type": "string", "enum": list(COMPARES)},
        "Compare with an earlier window (docs/compare.md): `previous` = the same number of local days just "
        "before `from`, `year` = the same local dates one year earlier (29 February -> 28 February); a window "
        "ending after now is compared with the earlier one cut at now moved back. Answers gain `previous` "
        "(summary, cache-savings) or previousCostUsd, previousTokens, previousExecutions (points by position, "
        f"rows by key). An earlier window before {MIN_DATE} or before such a zone's first day is a 400.",
    ),
    "xOrgId": {
        "name": "x-org-id",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "When given, must equal the token's `org_id` (else 403).",
    },
}
PARAMETERS["alertsLimit"] = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    "description": "At most this many events, newest first (1-500, default 50).",
}
PARAMETERS["usersLimit"] = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "description": f"At most this many users, by cost (1-{MAX_LIMIT}, default {DEFAULT_LIMIT}); the rest are `others`.",
}
WINDOW = ["timezone", "preset", "from", "to", "xOrgId"]


def _slice_param(name: str, item: dict, description: str) -> dict:
    """A repeatable filter (?name=a&name=b): OR within it, AND across filters (contract §3.1)."""
    schema = {"type": "array", "maxItems": MAX_VALUES, "items": {**item, "maxLength": MAX_VALUE_CHARS}}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "schema": schema,
        "description": description
        + f" Repeatable (OR); at most {MAX_VALUES} values of up to {MAX_VALUE_CHARS} characters. Echoed in `filters`.",
    }


SLICE_PARAMETERS = {
    "agentId": _slice_param("agentId", {"type": "string"}, "Only these agents; `none`: rows without an agent."),
    "userId": _slice_param("userId", {"type": "string"}, "Only these users; `none`: rows without a user."),
    "provider": _slice_param("provider", {"type": "string"}, "Only these providers."),
    "model": _slice_param("model", {"type": "string"}, "Only these models (any provider; add `provider` to pin one)."),
    "actionType": _slice_param(
        "actionType", {"type": "string", "enum": list(ACTION_TYPES) + [""]}, "Only these action types."
    ),
}
PARAMETERS.update(SLICE_PARAMETERS)
SLICE = list(SLICE_PARAMETERS)


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


RESPONSES = {
    "BadRequest": _error("A bad parameter (see `error.parameter`)."),
    "Unauthorized": _error("Missing, malformed, forged or expired token."),
    "Forbidden": _error("The token lacks the ai.agent:read policy, or names another org."),
    "InternalError": _error("An unexpected fault (logged server-side; no details are sent)."),
    "Unavailable": _error(
        "The database cannot be reached (database_unavailable) or the query ran "
        "past the time limit (query_timeout). Retry later."
    ),
}

ROUTES = [
    ("summary", "Summary", "Totals over the whole window.", ["source", "granularity", "compare"]),
    (
        "cache-savings",
        "CacheSavings",
        "Prompt-cache hit rate and estimated savings.",
        ["sourceSystem", "granularity", "compare"],
    ),
    (
        "projection",
        "Projection",
        "Month-end cost forecast for the month holding asOf = min(`to`, today), "
        "with an 80% interval; a past month answers its actual total (`closed`).",
        ["source", "granularity"],
    ),
    (
        "time-series",
        "TimeSeries",
        "Cost, tokens and executions per local bucket up to now, zero-filled; "
        "buckets that start after now are left out.",
        ["source", "granularity", "groupBy", "compare"],
    ),
    (
        "model-efficiency",
        "ModelEfficiency",
        "Usage per (provider, model), by cost descending.",
        ["source", "granularity", "compare"],
    ),
    (
        "by-agent",
        "ByAgent",
        "Usage per agent, by cost descending, with a cost sparkline.",
        ["source", "granularity", "compare"],
    ),
    (
        "by-user",
        "ByUser",
        "Usage per user: the top `limit` by cost with a cost sparkline each, the rest as `others`.",
        ["source", "granularity", "usersLimit", "compare"],
    ),
    ("heatmap", "Heatmap", "Usage by local day of week and hour; empty cells left out.", ["source", "granularity"]),
    (
        "anomalies",
        "Anomalies",
        "Local days of the window up to yesterday whose cost departs from a robust baseline that knows the "
        "day of the week, newest first, each with the agents, models and actions that explain it.",
        ["source", "granularity"],
    ),
]


def _operation(name: str, schema: str, summary: str, extra: list[str]) -> dict:
    return {
        "operationId": name.replace("-", "_"),
        "summary": summary,
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in WINDOW + extra + SLICE],
        "responses": {
            "200": {
                "description": summary,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
            },
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": {"$ref": "#/components/responses/Forbidden"},
            "500": {"$ref": "#/components/responses/InternalError"},
            "503": {"$ref": "#/components/responses/Unavailable"},
        },
    }


@lru_cache(maxsize=1)
def _base_document() -> dict:
    paths = {
        f"{BASE}/{name}": {"get": _operation(name, schema, summary, extra)} for name, schema, summary, extra in ROUTES
    }
    paths.update(budget.openapi_paths(BASE))
    alerts = _operation("alerts", "Alerts", "The org's alert events, newest first, with every delivery attempt.", [])
    alerts["parameters"] = [{"$ref": "#/components/parameters/alertsLimit"}, {"$ref": "#/components/parameters/xOrgId"}]
    paths[f"{BASE}/alerts"] = {"get": alerts}
    paths[f"{BASE}/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI description.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AI Usage API",
            "version": "1.0.0",
            "description": (
                "What an organization spends on AI, from its token usage logs. Every route takes the "
                "window parameters; the org is the one in the bearer token, never a parameter. "
                "An empty parameter value counts as absent. "
                'Errors answer `{"error": {"code", "message", "parameter"}}`.'
            ),
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "HS256 JWT with claims org_id, policies (must hold ai.agent:read) and exp.",
                }
            },
            "parameters": PARAMETERS,
            "schemas": answers.schemas(),
            "responses": RESPONSES,
        },
    }


def document(server_url: str | None = None) -> dict:
    """The OpenAPI document; server_url is where the app is mounted (a path prefix), if anywhere."""
    doc = copy.deepcopy(_base_document())
    if server_url and server_url != "/":
        doc["servers"] = [{"url": server_url.rstrip("/")}]
    return doc
