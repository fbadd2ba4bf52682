"""The JSON API under /ai/org-usage/: token check, filters, query, frame -> camelCase JSON.

Every route reads the org from the verified token (security.authenticate), validates the
window once (queries.parse_filters), runs one query function on a pooled connection and
turns its frame into its typed answer (api/bodies.py, api/answers.py). Faults map to the contract's error shape: bad input 400,
token 401/403, database down or too slow 503, and an unexpected bug 500 without details.
"""

from __future__ import annotations

import logging

import flask
import orjson
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from queries import freshness
from queries.bad_input import limit_param, quoted, single
from queries.filters import BadParameter, parse_filters
from queries.users import DEFAULT_LIMIT, MAX_LIMIT
from storage import execute
from web import context

from . import alerts as alerts_api, budget, compression, openapi, paths, security
from .bodies import (
    anomalies_body,
    by_agent_body,
    by_user_body,
    cache_savings_body,
    heatmap_body,
    model_efficiency_body,
    projection_body,
    summary_body,
    time_series_body,
)
from .errors import ApiError, answer_json, json_response

log = logging.getLogger("ai_usage.api")  # the name operators filter on, kept across the move

BASE = openapi.BASE  # "/ai/org-usage", under the app's routes prefix
GROUP_BY = ("action",)
RETRY_AFTER = "5"  # seconds: a database coming back is re-pinged by the pool on the next request


# ------------------------------------------------------------------ request handling


def _answer(build, default_source: str = "all", extra=None, compares: bool = True):
    """Authenticate, validate, query and serialize: the body of every figure route.

    compares=False: the route takes no `compare` (contract §3.2): the parameter is dropped
    before parsing, so the answer, its validation and its cache key are the plain ones."""
    req = flask.request
    claims = security.authenticate(req, context.settings().secret)
    params = req.args
    if not compares and "compare" in params:
        params = params.copy()
        params.poplist("compare")
    f = parse_filters(params, claims.org_id, now=context.now(), default_source=default_source)
    args = extra(req.args) if extra else ()
    # The answer's JSON bytes, from the answer cache while the org's data has not moved (one
    # connection at most, for the stamp's read and a miss's computation; none when the stamp
    # is shared and the answer cached); database failures leave as DatabaseFault.
    payload, key = freshness.cached_on(
        context.engine(),
        context.cache(),
        "api:" + build.__name__,
        f,
        lambda conn: orjson.dumps({**answer_json(build(conn, f, *args)), "filters": f.slice_echo}),
        extra=args,
        encode=bytes,
        decode=bytes,
    )
    compression.remember(key)  # its compressed bytes are cached too
    return json_response(payload)


def _group_by(params) -> tuple[bool]:
    value = single(params, "groupBy")
    if value is None or value == "":
        return (False,)
    if value.strip().lower() not in GROUP_BY:
        raise BadParameter(
            "groupBy", f"Unknown groupBy {quoted(value)}: use 'action' or leave it out.", "invalid_groupBy"
        )
    return (True,)


def _limit(params) -> tuple[int]:
    """by-user's `limit` (queries.bad_input.limit_param: 1 to MAX_LIMIT, default DEFAULT_LIMIT)."""
    return (limit_param(params, DEFAULT_LIMIT, MAX_LIMIT),)


DB_MESSAGES = {  # storage.execute's fault kind -> the API's (code, message)
    execute.TIMEOUT: (
        "query_timeout",
        "The query took longer than the configured time limit; narrow the window or retry.",
    ),
    execute.UNAVAILABLE: ("database_unavailable", "The database cannot be reached right now; retry in a few seconds."),
    # No client can fix it and it does not pass by itself: logged at ERROR (see storage.execute).
    execute.SCHEMA_MISSING: (
        "database_unavailable",
        "The database is not set up for the dashboard yet (its migrations have not run); "
        "retry once the operator has run them.",
    ),
}


def _db_error(exc: BaseException) -> ApiError | None:
    """503 for a database fault (storage.execute.classify: down, too slow, no schema); None for a bug."""
    kind = execute.classify(exc)
    if kind is None:
        return None
    code, message = DB_MESSAGES[kind]
    return ApiError(503, code, message, headers={"Retry-After": RETRY_AFTER})


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
        return _answer(projection_body, compares=False)

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

    @bp.get("/by-user")
    def by_user():
        """Usage per user (the top `limit` by cost, the rest as `others`) with a cost sparkline."""
        return _answer(by_user_body, extra=_limit)

    @bp.get("/heatmap")
    def heatmap():
        """Usage by day of week and hour."""
        return _answer(heatmap_body, compares=False)

    @bp.get("/anomalies")
    def anomalies():
        """Days whose cost departs from a weekday-aware baseline, with their contributors."""
        return _answer(anomalies_body, compares=False)

    budget.add_routes(bp)  # GET and PUT /budget

    @bp.get("/alerts")
    def alerts():
        """The org's alert events and their webhook deliveries (not cached: statuses move on their own)."""
        return alerts_api.alerts_route()

    @bp.get("/openapi.json")
    def openapi_json():
        """The OpenAPI description (no token needed)."""
        prefix = flask.current_app.extensions["ai_usage_api"]["prefix"]
        return json_response(openapi.document(flask.request.script_root + prefix))

    @bp.route("", methods=paths.ALL_METHODS, strict_slashes=False)
    @bp.route("/<path:rest>", methods=paths.ALL_METHODS)
    def not_found(rest: str = ""):
        """Unknown API route (JSON 404, not the dashboard's catch-all page), or a known one with a wrong method."""
        if rest in paths.ROUTES:
            raise paths.method_not_allowed_error()
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
            # _db_error answered, so classify(e) named a kind: the fault to log carries it.
            fault = e if isinstance(e, execute.DatabaseFault) else execute.DatabaseFault(str(execute.classify(e)), e)
            log.log(fault.log_level, "%s on %s: %s", err.code, flask.request.path, fault.summary())
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
        if not paths.is_api_path(path, base):
            return None
        odd = paths.options_or_odd_method(path, base)
        if odd is not None:
            return odd
        ours = (req.blueprint or "").startswith("ai_usage_api")
        if not ours or (path != paths.resolved(path) and path != base + "/"):
            return ApiError(404, "not_found", paths.NOT_NORMALISED).response()
        return None

    @server.errorhandler(MethodNotAllowed)
    def _method_not_allowed(e: MethodNotAllowed):
        # Routing fails before a blueprint is chosen, so this handler lives on the app.
        if not paths.is_api_path(flask.request.path, base):
            return e
        return paths.method_not_allowed_error().response()

    # gzip/brotli for the API's JSON and the page's payloads alike (Vary: Accept-Encoding).
    compression.install(server)
