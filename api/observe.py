"""Every request, page and API alike: a request id, one JSON access-log line, and its metrics.

- Request id: the incoming `X-Request-Id` when it is sane (1–128 characters of
  letters, digits and `._:@/+=-`, as proxies and load balancers make them), else a new
  random one; echoed as `X-Request-Id` on every response.
- Access log: one JSON object per line on the `ai_usage.access` logger: time (UTC),
  request_id, method, route (the matched route template), path (never the query string,
  which may carry the page's token; at most PATH_CHARS characters of it), status,
  duration_ms, org (when the request carried a valid token), pid (the worker). Never a
  header or a token.
- Metrics (storage.metrics): requests and latency per route template, method and
  status. The template (`/ai/org-usage/summary`, `/<path:path>`, `unmatched`), never the
  raw path, so a scan of random URLs adds no series.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime

import flask

from storage import metrics
from web import auth

access_log = logging.getLogger("ai_usage.access")
PATH_CHARS = 2048  # of a request's path in its access-log line

REQUEST_ID = "X-Request-Id"
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
UNMATCHED = "unmatched"  # no route (a 404 before routing, or a method not allowed)


def request_id(incoming: str | None) -> str:
    """The incoming id if sane, else a new one (32 hex digits)."""
    if incoming and SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def route_of(request: flask.Request) -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def log_line(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def install(server: flask.Flask) -> None:
    """Register the hooks first, so that they see every request (even one another hook answers)
    and time it to the end (their after_request runs last, after compression)."""

    def _start() -> None:
        g = flask.g
        g.ai_usage_started = time.perf_counter()
        g.ai_usage_request_id = request_id(flask.request.headers.get(REQUEST_ID))

    def _finish(resp: flask.Response) -> flask.Response:
        g, req = flask.g, flask.request
        started = g.get("ai_usage_started") or time.perf_counter()
        rid = g.get("ai_usage_request_id") or request_id(req.headers.get(REQUEST_ID))
        seconds = time.perf_counter() - started
        resp.headers[REQUEST_ID] = rid
        route, status = route_of(req), str(resp.status_code)
        metrics.HTTP_REQUESTS.labels(route=route, method=req.method, status=status).inc()
        metrics.HTTP_SECONDS.labels(route=route, method=req.method, status=status).observe(seconds)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                log_line(
                    time=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    request_id=rid,
                    method=req.method,
                    route=route,
                    path=clip(req.path),
                    status=resp.status_code,
                    duration_ms=round(seconds * 1000, 1),
                    org=auth.request_org(),
                    pid=os.getpid(),
                )
            )
        return resp

    server.before_request_funcs.setdefault(None, []).insert(0, _start)
    server.after_request_funcs.setdefault(None, []).insert(0, _finish)  # run in reverse: ours last


def clip(path: str) -> str:
    """The path as logged: at most PATH_CHARS characters (a request line may be up to 1 MiB
    long, ai_usage.http_limits), the cut said with how long it was."""
    if len(path) <= PATH_CHARS:
        return path
    return f"{path[:PATH_CHARS]}…[{len(path):,} characters]"


def configure_access_log(stream) -> None:
    """Serving: the JSON lines alone on stream (one per request), not through the root handler."""
    for h in list(access_log.handlers):
        access_log.removeHandler(h)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
