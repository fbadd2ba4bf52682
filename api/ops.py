"""Operations (contract §3.5): /healthz, /readyz and /metrics, beside the page and the API.

- `GET /healthz` (no token): 200 `{"status": "ok"}` while the process serves.
- `GET /readyz` (no token): 200 when the database answers and the rollups lag by less
  than READY_LAG_SECONDS (rollups on); else 503 with the reason (`database_unavailable`,
  `schema_missing`, `rollup_lag`) and a message. The lag is storage.rollup_tables.lag:
  0 while no committed row waits past the watermark, else the time since the rollups
  last held every committed row.
- `GET /metrics`: Prometheus text (storage.metrics, summed over the workers) plus
  gauges read from the database at scrape time (rollup lag, watermark, version). With
  AI_USAGE_METRICS_TOKEN set, only `Authorization: Bearer <that token>` gets it (401).
"""

from __future__ import annotations

import hmac
import logging
import math

import flask
from prometheus_client.core import CollectorRegistry, GaugeMetricFamily

from storage import execute, metrics, rollup_tables as rt
from web import context

from . import paths
from .errors import ApiError, json_response

log = logging.getLogger("ai_usage.ops")

READY_LAG_SECONDS = 60.0
MESSAGES = {
    execute.UNAVAILABLE: "The database cannot be reached.",
    execute.TIMEOUT: "The database did not answer within the statement time limit.",
    execute.SCHEMA_MISSING: "The database lacks the dashboard's tables: run `ai-usage init-db`.",
}


def _probe() -> tuple[rt.Lag | None, str | None]:
    """(the rollups' lag or None when rollups are off, None) or (None, the database fault's kind)."""
    settings = context.settings()
    try:
        with execute.connect(context.engine()) as conn:
            if not settings.use_rollups:
                conn.exec_driver_sql("SELECT 1").scalar()
                return None, None
            if not rt.available(conn):
                return None, execute.SCHEMA_MISSING
            return rt.lag(conn, context.now()), None
    except execute.DatabaseFault as fault:
        return None, fault.kind


def _unready(reason: str, message: str, **extra) -> flask.Response:
    resp = json_response({"status": "unready", "reason": reason, "message": message, **extra}, 503)
    resp.headers["Retry-After"] = "5"
    return resp


def readyz() -> flask.Response:
    lag, fault = _probe()
    if fault is not None:
        reason = "schema_missing" if fault == execute.SCHEMA_MISSING else "database_unavailable"
        return _unready(reason, MESSAGES[fault])
    if lag is None:
        return json_response({"status": "ready", "rollups": "off"})
    seconds = None if math.isinf(lag.seconds) else round(lag.seconds, 3)
    if seconds is None or seconds >= READY_LAG_SECONDS:
        behind = "never caught up" if seconds is None else f"{seconds:.0f} s behind"
        return _unready(
            "rollup_lag",
            f"The rollups are {behind} (ready below {READY_LAG_SECONDS:.0f} s): the leader's catch-up "
            "is not keeping up or not running (AI_USAGE_REFRESH_SECONDS, or `ai-usage refresh`).",
            rollupLagSeconds=seconds,
        )
    return json_response({"status": "ready", "rollupLagSeconds": seconds, "rollupWatermark": lag.watermark})


class _ScrapeTime:
    """Gauges read at scrape time (the same in every worker and instance: from the database)."""

    def __init__(self, lag: rt.Lag | None, fault: str | None):
        self.lag, self.fault = lag, fault

    def collect(self):
        up = GaugeMetricFamily("ai_usage_database_up", "1 when the database answered this scrape.")
        up.add_metric([], 0 if self.fault else 1)
        yield up
        if self.lag is None:
            return
        g = GaugeMetricFamily(
            "ai_usage_rollup_lag_seconds",
            "Seconds since the rollups last held every committed row (0: none waits past the watermark).",
        )
        g.add_metric([], self.lag.seconds)
        yield g
        g = GaugeMetricFamily("ai_usage_rollup_watermark", "Highest raw row id rolled up (gaps aside).")
        g.add_metric([], self.lag.watermark)
        yield g
        g = GaugeMetricFamily(
            "ai_usage_rollup_version", "Rollup state version (bumped by every refresh that changed it)."
        )
        g.add_metric([], self.lag.version)
        yield g
        if self.lag.newest_id is not None:
            g = GaugeMetricFamily(
                "ai_usage_rollup_pending_ids", "Newest raw row id minus the watermark (rows waiting, roughly)."
            )
            g.add_metric([], max(0, self.lag.newest_id - self.lag.watermark))
            yield g


def metrics_view() -> flask.Response:
    expected = context.settings().metrics_token
    if expected:
        header = flask.request.headers.get("Authorization") or ""
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            return ApiError(
                401,
                "invalid_token" if header else "missing_token",
                "/metrics needs 'Authorization: Bearer <AI_USAGE_METRICS_TOKEN>'.",
                headers={"WWW-Authenticate": 'Bearer realm="ai-usage-metrics"'},
            ).response()
    extra = CollectorRegistry(auto_describe=True)
    extra.register(_ScrapeTime(*_probe()))
    resp = flask.Response(metrics.render(extra), mimetype=None)
    resp.headers["Content-Type"] = metrics.CONTENT_TYPE
    resp.headers["Cache-Control"] = "no-store"
    return resp


def register(server: flask.Flask, prefix: str = "/") -> None:
    """Mount the three routes under the app's routes prefix (no token for the first two)."""
    base = prefix.rstrip("/")
    server.add_url_rule(f"{base}/healthz", "ai_usage_healthz", lambda: json_response({"status": "ok"}))
    server.add_url_rule(f"{base}/readyz", "ai_usage_readyz", readyz)
    server.add_url_rule(f"{base}/metrics", "ai_usage_metrics", metrics_view)
    ours = {f"{base}/healthz", f"{base}/readyz", f"{base}/metrics"}

    @server.before_request
    def _json_405() -> flask.Response | None:
        """A method they do not take: the API's JSON 405 (Werkzeug's is an HTML page), same Allow."""
        if flask.request.path in ours and flask.request.method not in ("GET", "HEAD", "OPTIONS"):
            return paths.method_not_allowed_error().response()
        return None
