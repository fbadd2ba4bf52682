"""The JSON API under /ai/org-usage/: token check, filters, query, frame -> camelCase JSON.

Every route reads the org from the verified token (security.authenticate), validates the
window once (queries.parse_filters), runs one query function on a pooled connection and
turns its frame into JSON with plain numbers (ints stay ints, NaN becomes null) and local
ISO-8601 times with their offset. Faults map to the contract's error shape: bad input 400,
token 401/403, database down or too slow 503, and an unexpected bug 500 without details.
"""
from __future__ import annotations

import logging
import posixpath
import re
from typing import Any

import flask
import pandas as pd
import sqlalchemy as sa
from flask_compress import Compress
from werkzeug.exceptions import HTTPException, MethodNotAllowed

import queries
from queries.filters import BadParameter, Filters, parse_filters
from storage import engine as db
from web import context

from . import openapi, security
from .errors import ApiError, json_response

log = logging.getLogger("ai_usage.api")  # the name operators filter on, kept across the move

BASE = openapi.BASE  # "/ai/org-usage", under the app's routes prefix
GROUP_BY = ("action",)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
ROUTES = ("summary", "cache-savings", "projection", "time-series", "model-efficiency", "by-agent", "heatmap",
          "openapi.json")
NOT_NORMALISED = ("No such API route (paths are not normalised: no doubled or trailing slash, no dot segment); "
                  "see openapi.json for the list.")
RETRY_AFTER = "5"  # seconds: a database coming back is re-pinged by the pool on the next request


# ------------------------------------------------------------------ JSON helpers


def num(v) -> float | None:
    """A float for JSON; None for NULL/NaN."""
    return None if v is None or pd.isna(v) else float(v)


def integer(v) -> int:
    return int(v)


def text(v) -> str | None:
    """A string for JSON; None for NULL/NaN (pandas 3 keeps missing strings as NaN)."""
    return None if v is None or pd.isna(v) else str(v)


def iso(ts) -> str:
    """ISO-8601 with the UTC offset, e.g. 2026-11-01T01:00:00-05:00."""
    if isinstance(ts, pd.Timestamp):
        ts = ts.to_pydatetime()
    return ts.isoformat()


def day(d) -> str | None:
    return None if d is None else d.isoformat()


# ------------------------------------------------------------------ frames -> bodies


def summary_body(conn, f: Filters) -> dict:
    r = queries.summary(conn, f).iloc[0]
    return {
        "from": iso(f.start_utc.astimezone(f.tz)),
        "to": iso(f.end_utc.astimezone(f.tz)),
        "timezone": f.timezone,
        "source": f.source,
        "totalCostUsd": num(r["total_cost_usd"]),
        "totalTokens": integer(r["total_tokens"]),
        "totalInputTokens": integer(r["total_input_tokens"]),
        "totalOutputTokens": integer(r["total_output_tokens"]),
        "totalCacheReadTokens": integer(r["total_cache_read_tokens"]),
        "executions": integer(r["executions"]),
    }


def cache_savings_body(conn, f: Filters) -> dict:
    r = queries.cache_savings(conn, f).iloc[0]
    return {
        "source": f.source,
        "totalCacheReadTokens": integer(r["total_cache_read_tokens"]),
        "totalInputTokens": integer(r["total_input_tokens"]),
        "hitRate": num(r["hit_rate"]),
        "estimatedSavingsUsd": num(r["estimated_savings_usd"]),
        "skippedModelsCount": integer(r["skipped_models_count"]),
    }


def projection_body(conn, f: Filters) -> dict:
    p = queries.projection(conn, f)
    return {
        "status": p.status,
        "asOf": day(p.as_of),
        "monthStart": day(p.month_start),
        "monthEnd": day(p.month_end),
        "monthToDateUsd": num(p.month_to_date_usd),
        "projectedTotalUsd": num(p.projected_total_usd),
        "lower80": num(p.lower80),
        "upper80": num(p.upper80),
        "dailyPoints": integer(p.daily_points),
    }


def time_series_body(conn, f: Filters, by_action: bool) -> dict:
    df = queries.time_series(conn, f, by_action=by_action)
    points = []
    for r in df.to_dict("records"):
        p: dict[str, Any] = {"bucket": iso(r["bucket"])}
        if by_action:
            p["actionType"] = text(r["action_type"])
        p.update(costUsd=num(r["cost_usd"]), tokens=integer(r["tokens"]), executions=integer(r["executions"]),
                 partial=bool(r["partial"]))
        points.append(p)
    return {"granularity": f.granularity, "timezone": f.timezone, "points": points}


def model_efficiency_body(conn, f: Filters) -> dict:
    df = queries.model_efficiency(conn, f)
    return {"models": [
        {
            "provider": text(r["provider"]),
            "model": text(r["model"]),
            "costUsd": num(r["cost_usd"]),
            "inputTokens": integer(r["input_tokens"]),
            "outputTokens": integer(r["output_tokens"]),
            "cacheReadTokens": integer(r["cache_read_tokens"]),
            "executions": integer(r["executions"]),
            "avgLatencyMs": num(r["avg_latency_ms"]),
        }
        for r in df.to_dict("records")
    ]}


def by_agent_body(conn, f: Filters) -> dict:
    df = queries.by_agent(conn, f)
    return {"agents": [
        {
            "agentId": text(r["agent_id"]),
            "name": text(r["name"]),
            "avatarUrl": text(r["avatar_url"]),
            "costUsd": num(r["cost_usd"]),
            "tokens": integer(r["tokens"]),
            "executions": integer(r["executions"]),
            "sparkline": [num(v) for v in r["sparkline"]],
        }
        for r in df.to_dict("records")
    ]}


def heatmap_body(conn, f: Filters) -> dict:
    df = queries.heatmap(conn, f)
    return {"timezone": f.timezone, "cells": [
        {
            "dow": integer(r["dow"]),
            "hour": integer(r["hour"]),
            "tokens": integer(r["tokens"]),
            "costUsd": num(r["cost_usd"]),
            "executions": integer(r["executions"]),
        }
        for r in df.to_dict("records")
    ]}


# ------------------------------------------------------------------ request handling


def _answer(build, default_source: str = "all", extra=None):
    """Authenticate, validate, query and serialize: the body of every figure route."""
    req = flask.request
    claims = security.authenticate(req, context.settings().secret)
    f = parse_filters(req.args, claims.org_id, now=context.now(), default_source=default_source)
    args = extra(req.args) if extra else ()
    with context.engine().connect() as conn:
        body = build(conn, f, *args)
    return json_response(body)


def _group_by(params) -> tuple[bool]:
    value = params.get("groupBy")
    if value is None or value == "":
        return (False,)
    if value.strip().lower() not in GROUP_BY:
        raise BadParameter("groupBy", f"Unknown groupBy {value!r}: use 'action' or leave it out.", "invalid_groupBy")
    return (True,)


def _schema_problem(exc: BaseException) -> bool:
    msg = str(getattr(exc, "orig", exc))
    return isinstance(exc, sa.exc.OperationalError) and msg.startswith(("no such table", "no such column"))


def _db_error(exc: BaseException) -> ApiError | None:
    """503 for a database that is down, unreachable, or too slow; None for other errors."""
    retry = {"Retry-After": RETRY_AFTER}
    if db.is_timeout(exc):
        return ApiError(503, "query_timeout",
                        "The query took longer than the configured time limit; narrow the window or retry.",
                        headers=retry)
    if _schema_problem(exc):
        return None  # a database without our tables is a deployment bug (500), not an outage
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError,
                        sa.exc.TimeoutError)) or getattr(exc, "connection_invalidated", False):
        return ApiError(503, "database_unavailable",
                        "The database cannot be reached right now; retry in a few seconds.", headers=retry)
    return None


def _method_not_allowed_error() -> ApiError:
    return ApiError(405, "method_not_allowed", f"Only GET is allowed on {flask.request.path}.",
                    headers={"Allow": "GET, HEAD, OPTIONS"})


def _resolved(path: str) -> str:
    """The path with doubled slashes and dot segments resolved (and no trailing slash)."""
    return posixpath.normpath(re.sub("/{2,}", "/", path))


def is_api_path(path: str, base: str) -> bool:
    """True for a path under the API base, also once doubled slashes and dot segments are
    resolved: '/ai/org-usage//summary' is an API path (no route, so JSON 404), never the page."""
    return any(p == base or p.startswith(base + "/") for p in (path, _resolved(path)))


def routes_prefix(server: flask.Flask) -> str:
    """The Dash app's routes_pathname_prefix ("/" unless mounted under a path), read from its routes."""
    for rule in server.url_map.iter_rules():
        if rule.rule.endswith("/_dash-layout"):
            return rule.rule[: -len("_dash-layout")]
    return "/"


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("ai_usage_api", __name__)

    @bp.get("/summary")
    def summary():
        """Totals over the window."""
        return _answer(summary_body)

    @bp.get("/cache-savings")
    def cache_savings():
        """Prompt-cache hit rate and savings (platform keys by default)."""
        return _answer(cache_savings_body, default_source="system")

    @bp.get("/projection")
    def projection():
        """Month-end cost forecast."""
        return _answer(projection_body)

    @bp.get("/time-series")
    def time_series():
        """Cost, tokens and executions per bucket."""
        return _answer(time_series_body, extra=_group_by)

    @bp.get("/model-efficiency")
    def model_efficiency():
        """Usage per provider and model."""
        return _answer(model_efficiency_body)

    @bp.get("/by-agent")
    def by_agent():
        """Usage per agent with a cost sparkline."""
        return _answer(by_agent_body)

    @bp.get("/heatmap")
    def heatmap():
        """Usage by day of week and hour."""
        return _answer(heatmap_body)

    @bp.get("/openapi.json")
    def openapi_json():
        """The OpenAPI description (no token needed)."""
        prefix = flask.current_app.extensions["ai_usage_api"]["prefix"]
        return json_response(openapi.document(flask.request.script_root + prefix))

    @bp.route("", methods=ALL_METHODS, strict_slashes=False)
    @bp.route("/<path:rest>", methods=ALL_METHODS)
    def not_found(rest: str = ""):
        """Unknown API route (JSON 404, not the dashboard's catch-all page), or a known one with a wrong method."""
        if rest in ROUTES:
            raise _method_not_allowed_error()
        raise ApiError(404, "not_found", "No such API route; see openapi.json for the list.")

    @bp.errorhandler(ApiError)
    def _api_error(e: ApiError):
        return e.response()

    @bp.errorhandler(BadParameter)
    def _bad_parameter(e: BadParameter):
        return ApiError(400, e.code, e.message, e.parameter).response()

    @bp.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        code = (e.name or "error").lower().replace(" ", "_")
        return ApiError(e.code or 500, code, e.description or e.name).response()

    @bp.errorhandler(Exception)
    def _unexpected(e: Exception):
        err = _db_error(e)
        if err is not None:
            log.warning("%s on %s: %s", err.code, flask.request.path, str(e).splitlines()[0] if str(e) else e)
            return err.response()
        log.exception("Unexpected error on %s", flask.request.path)
        return ApiError(500, "internal_error", "An unexpected error occurred; it has been logged.").response()

    return bp


def register(server: flask.Flask, prefix: str | None = None) -> None:
    """Mount the API under `<prefix>ai/org-usage/` (prefix: the Dash app's routes prefix) and compress."""
    prefix = routes_prefix(server) if prefix is None else prefix
    base = prefix.rstrip("/") + BASE
    server.extensions["ai_usage_api"] = {"prefix": prefix.rstrip("/"), "base": base}
    server.register_blueprint(blueprint(), url_prefix=base)

    @server.before_request
    def _api_paths_are_never_the_page():
        # Werkzeug routes '/ai/org-usage//summary' to the page's catch-all and
        # '//ai/org-usage/summary' to the route: API paths are not normalised, a path
        # that is not written exactly as a route is no route.
        req = flask.request
        path = req.environ.get("PATH_INFO") or "/"  # request.path drops leading slashes
        ours = (req.blueprint or "").startswith("ai_usage_api")
        if is_api_path(path, base) and (not ours or (path != _resolved(path) and path != base + "/")):
            return ApiError(404, "not_found", NOT_NORMALISED).response()
        return None

    @server.errorhandler(MethodNotAllowed)
    def _method_not_allowed(e: MethodNotAllowed):
        # Routing fails before a blueprint is chosen, so this handler lives on the app.
        if not is_api_path(flask.request.path, base):
            return e
        return _method_not_allowed_error().response()

    # gzip/brotli for the API's JSON and the page's payloads alike (Vary: Accept-Encoding).
    Compress(server)
