"""The OpenAPI 3.1 description of the API (served at /ai/org-usage/openapi.json)."""
from __future__ import annotations

import copy
from functools import lru_cache

from queries.filters import GRANULARITIES, MAX_DATE as _MAX, MIN_DATE as _MIN, PRESETS, SOURCES

BASE = "/ai/org-usage"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MIN_DATE, MAX_DATE = _MIN.isoformat(), _MAX.isoformat()  # the range parse_filters accepts

INT = {"type": "integer", "minimum": 0}
USD = {"type": "number", "minimum": 0}


def _nullable(schema: dict, description: str | None = None) -> dict:
    s = dict(schema)
    s["type"] = [s["type"], "null"]
    if description:
        s["description"] = description
    return s


def _obj(properties: dict, optional=()) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in properties if k not in optional],
        "properties": properties,
    }


def _query(name: str, schema: dict, description: str, example=None) -> dict:
    p = {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
    if example is not None:
        p["example"] = example
    return p


PARAMETERS = {
    "timezone": _query(
        "timezone", {"type": "string", "default": "UTC", "maxLength": 64},
        "IANA time zone that buckets, days and heatmap cells are local to.", "America/New_York"),
    "preset": _query(
        "preset", {"type": "string", "enum": list(PRESETS), "default": "30d"},
        "Window ending today (local), used when `from`/`to` are absent: the last 7, 30 or 90 days, "
        "or 1 January to now."),
    "from": _query(
        "from", {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        f"First local day of the window (inclusive), YYYY-MM-DD. Give it with `to`. Dates from "
        f"{MIN_DATE} to {MAX_DATE}; windows up to 3 years.", "2026-10-01"),
    "to": _query(
        "to", {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        "Last local day of the window (inclusive), YYYY-MM-DD. Give it with `from`.", "2026-10-31"),
    "source": _query(
        "source", {"type": "string", "enum": list(SOURCES), "default": "all"},
        "Whose keys paid: the platform's (`system`), the customer's (`byok`) or both."),
    "sourceSystem": _query(
        "source", {"type": "string", "enum": list(SOURCES), "default": "system"},
        "Whose keys paid; cache savings default to the platform's keys (`system`)."),
    "granularity": _query(
        "granularity", {"type": "string", "enum": list(GRANULARITIES), "default": "auto"},
        "Bucket size. `auto`: up to 7 days hour, 90 day, 365 week, longer month. Hourly buckets "
        "are offered for windows up to 92 days."),
    "groupBy": _query(
        "groupBy", {"type": "string", "enum": ["action"]},
        "`action`: one point per bucket and action type."),
    "xOrgId": {
        "name": "x-org-id", "in": "header", "required": False, "schema": {"type": "string"},
        "description": "When given, must equal the token's `org_id` (else 403).",
    },
}
WINDOW = ["timezone", "preset", "from", "to", "xOrgId"]

SCHEMAS = {
    "Error": _obj({
        "error": _obj({
            "code": {"type": "string", "description": (
                "Stable machine code: invalid_timezone, invalid_date, date_out_of_range, incomplete_window, "
                "invalid_window, window_too_long, too_many_buckets, invalid_source, invalid_granularity, "
                "invalid_preset, invalid_groupBy (400); missing_token, invalid_token, token_expired (401); "
                "forbidden, org_mismatch (403); not_found (404); method_not_allowed (405); "
                "internal_error (500); database_unavailable, query_timeout (503).")},
            "message": {"type": "string"},
            "parameter": {"type": ["string", "null"],
                          "description": "The query parameter at fault; null when the error is not about one."},
        }),
    }),
    "Summary": _obj({
        "from": {"type": "string", "format": "date-time", "description": "Window start, local, with offset."},
        "to": {"type": "string", "format": "date-time", "description": "Window end (exclusive), local, with offset."},
        "timezone": {"type": "string"},
        "source": {"type": "string", "enum": list(SOURCES)},
        "totalCostUsd": USD,
        "totalTokens": INT,
        "totalInputTokens": INT,
        "totalOutputTokens": INT,
        "totalCacheReadTokens": INT,
        "executions": INT,
    }),
    "CacheSavings": _obj({
        "source": {"type": "string", "enum": list(SOURCES)},
        "totalCacheReadTokens": INT,
        "totalInputTokens": INT,
        "hitRate": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                    "description": "totalCacheReadTokens / totalInputTokens; null without input tokens."},
        "estimatedSavingsUsd": {"type": "number"},
        "skippedModelsCount": INT,
    }),
    "Projection": _obj({
        "status": {"type": "string", "enum": ["ok", "closed", "insufficient_data"], "description": (
            "`closed`: asOf's month ended before today, and every figure is that whole month's actual cost; "
            "`insufficient_data`: fewer than 7 fitting days, figures null; `ok`: a forecast.")},
        "asOf": {"type": "string", "format": "date",
                 "description": "The earlier of `to` and today (local dates): the forecast is of its month."},
        "monthStart": {"type": ["string", "null"], "format": "date", "description": "null with insufficient_data."},
        "monthEnd": {"type": ["string", "null"], "format": "date", "description": "null with insufficient_data."},
        "monthToDateUsd": _nullable(USD, "Actual cost from the month's first day to the end of asOf "
                                         "(up to now when asOf is today)."),
        "projectedTotalUsd": _nullable(USD),
        "lower80": _nullable(USD),
        "upper80": _nullable(USD),
        "dailyPoints": {**INT, "description": "Fitting days: days of the window up to asOf, today excluded, "
                                              "with at least one row."},
    }),
    "TimeSeriesPoint": _obj({
        "bucket": {"type": "string", "format": "date-time",
                   "description": "Local start of the bucket's calendar period, with offset."},
        "actionType": {"type": "string", "description": "Only with groupBy=action."},
        "costUsd": USD,
        "tokens": INT,
        "executions": INT,
        "partial": {"type": "boolean", "description": (
            "true when the bucket's calendar period is not wholly inside the window up to now: the bucket "
            "in progress, or one cut by the window's first or last day.")},
    }, optional=("actionType",)),
    "TimeSeries": _obj({
        "granularity": {"type": "string", "enum": [g for g in GRANULARITIES if g != "auto"]},
        "timezone": {"type": "string"},
        "points": {"type": "array", "items": {"$ref": "#/components/schemas/TimeSeriesPoint"}},
    }),
    "ModelUsage": _obj({
        "provider": {"type": "string"},
        "model": {"type": "string"},
        "costUsd": USD,
        "inputTokens": INT,
        "outputTokens": INT,
        "cacheReadTokens": INT,
        "executions": INT,
        "avgLatencyMs": {"type": ["number", "null"], "minimum": 0},
    }),
    "ModelEfficiency": _obj({
        "models": {"type": "array", "items": {"$ref": "#/components/schemas/ModelUsage"}},
    }),
    "AgentUsage": _obj({
        "agentId": {"type": ["string", "null"], "description": "null for rows not tied to an agent."},
        "name": {"type": "string"},
        "avatarUrl": {"type": ["string", "null"]},
        "costUsd": USD,
        "tokens": INT,
        "executions": INT,
        "sparkline": {"type": "array", "items": USD,
                      "description": "Cost per bucket of the applied granularity, in window order, up to "
                                     "now (buckets that start after now are left out)."},
    }),
    "ByAgent": _obj({
        "agents": {"type": "array", "items": {"$ref": "#/components/schemas/AgentUsage"}},
    }),
    "HeatmapCell": _obj({
        "dow": {"type": "integer", "minimum": 0, "maximum": 6, "description": "Sunday = 0 … Saturday = 6."},
        "hour": {"type": "integer", "minimum": 0, "maximum": 23},
        "tokens": INT,
        "costUsd": USD,
        "executions": {"type": "integer", "minimum": 1},
    }),
    "Heatmap": _obj({
        "timezone": {"type": "string"},
        "cells": {"type": "array", "items": {"$ref": "#/components/schemas/HeatmapCell"}},
    }),
}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


RESPONSES = {
    "BadRequest": _error("A bad parameter (see `error.parameter`)."),
    "Unauthorized": _error("Missing, malformed, forged or expired token."),
    "Forbidden": _error("The token lacks the ai.agent:read policy, or names another org."),
    "InternalError": _error("An unexpected fault (logged server-side; no details are sent)."),
    "Unavailable": _error("The database cannot be reached (database_unavailable) or the query ran "
                          "past the time limit (query_timeout). Retry later."),
}

ROUTES = [
    ("summary", "Summary", "Totals over the whole window.", ["source", "granularity"]),
    ("cache-savings", "CacheSavings", "Prompt-cache hit rate and estimated savings.", ["sourceSystem", "granularity"]),
    ("projection", "Projection", "Month-end cost forecast for the month holding asOf = min(`to`, today), "
                                 "with an 80% interval; a past month answers its actual total (`closed`).",
     ["source", "granularity"]),
    ("time-series", "TimeSeries", "Cost, tokens and executions per local bucket up to now, zero-filled; "
                                  "buckets that start after now are left out.",
     ["source", "granularity", "groupBy"]),
    ("model-efficiency", "ModelEfficiency", "Usage per (provider, model), by cost descending.",
     ["source", "granularity"]),
    ("by-agent", "ByAgent", "Usage per agent, by cost descending, with a cost sparkline.", ["source", "granularity"]),
    ("heatmap", "Heatmap", "Usage by local day of week and hour; empty cells left out.", ["source", "granularity"]),
]


def _operation(name: str, schema: str, summary: str, extra: list[str]) -> dict:
    return {
        "operationId": name.replace("-", "_"),
        "summary": summary,
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in WINDOW + extra],
        "responses": {
            "200": {"description": summary,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": {"$ref": "#/components/responses/Forbidden"},
            "500": {"$ref": "#/components/responses/InternalError"},
            "503": {"$ref": "#/components/responses/Unavailable"},
        },
    }


@lru_cache(maxsize=1)
def _base_document() -> dict:
    paths = {f"{BASE}/{name}": {"get": _operation(name, schema, summary, extra)}
             for name, schema, summary, extra in ROUTES}
    paths[f"{BASE}/openapi.json"] = {"get": {
        "operationId": "openapi",
        "summary": "This document.",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI description.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AI Usage API",
            "version": "1.0.0",
            "description": (
                "What an organization spends on AI, from its token usage logs. Every route takes the "
                "window parameters; the org is the one in the bearer token, never a parameter. "
                "Errors answer `{\"error\": {\"code\", \"message\", \"parameter\"}}`."),
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "HS256 JWT with claims org_id, policies (must hold ai.agent:read) and exp."}},
            "parameters": PARAMETERS,
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }


def document(server_url: str | None = None) -> dict:
    """The OpenAPI document; server_url is where the app is mounted (a path prefix), if anywhere."""
    doc = copy.deepcopy(_base_document())
    if server_url and server_url != "/":
        doc["servers"] = [{"url": server_url.rstrip("/")}]
    return doc
