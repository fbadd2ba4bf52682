"""Which API paths are routes, and which methods each takes: the JSON 404 and 405 and OPTIONS.

API paths are not normalised (a doubled or trailing slash or a dot segment is no route), and
never fall to the dashboard's page. OPTIONS and the methods no rule lists (TRACE, CONNECT,
made-up ones) are answered before routing (options_or_odd_method): Flask's automatic OPTIONS
would list as allowed every method of the API's catch-all rule.
"""

from __future__ import annotations

import posixpath
import re

import flask

from . import budget
from .errors import ApiError

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
ROUTES = (
    "summary",
    "cache-savings",
    "projection",
    "time-series",
    "model-efficiency",
    "by-agent",
    "by-user",
    "heatmap",
    "anomalies",
    "alerts",
    "openapi.json",
    budget.ROUTE,  # GET and PUT (api/budget.py)
)
NOT_NORMALISED = (
    "No such API route (paths are not normalised: no doubled or trailing slash, no dot segment); "
    "see openapi.json for the list."
)

READ_ALLOW = "GET, HEAD, OPTIONS"


def allow(path: str) -> str:
    """The methods a known route takes (its Allow header)."""
    return budget.ALLOW if path.endswith("/" + budget.ROUTE) else READ_ALLOW


def method_not_allowed_error() -> ApiError:
    path = flask.request.path
    only = "GET and PUT are" if path.endswith("/" + budget.ROUTE) else "GET is"
    return ApiError(405, "method_not_allowed", f"Only {only} allowed on {path}.", headers={"Allow": allow(path)})


def route_of(path: str, base: str) -> str | None:
    """The known route a path names exactly (e.g. "summary"), else None."""
    rest = path[len(base) + 1 :] if path.startswith(base + "/") else None
    return rest if rest in ROUTES else None


def options_or_odd_method(path: str, base: str) -> flask.Response | None:
    """OPTIONS and the methods no rule lists (TRACE, CONNECT, made-up ones) on an API path,
    answered before routing: Flask's automatic OPTIONS would list the catch-all's methods
    (every one) as allowed, and an unlisted method would fall to the not-normalised 404.
    A known route: OPTIONS 204 with its true Allow, another method 405; no route: 404."""
    method = flask.request.method
    if method in ALL_METHODS and method != "OPTIONS":
        return None
    if route_of(path, base) is None:
        return ApiError(404, "not_found", NOT_NORMALISED).response()
    if method == "OPTIONS":
        resp = flask.Response(status=204)
        resp.headers["Allow"] = allow(path)
        return resp
    return method_not_allowed_error().response()


def resolved(path: str) -> str:
    """The path with doubled slashes and dot segments resolved (and no trailing slash)."""
    return posixpath.normpath(re.sub("/{2,}", "/", path))


def is_api_path(path: str, base: str) -> bool:
    """True for a path under the API base, also once doubled slashes and dot segments are
    resolved: '/ai/org-usage//summary' is an API path (no route, so JSON 404), never the page."""
    return any(p == base or p.startswith(base + "/") for p in (path, resolved(path)))
