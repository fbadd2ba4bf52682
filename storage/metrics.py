"""The process's Prometheus metrics: one definition each, bumped from any layer.

It sits in storage, the bottom layer, so that the refresh (ingest), the answer cache
(queries or api), the request hooks (web) and the alert deliveries can all count here
without an import pointing up. /metrics (api/ops.py) renders them.

Under gunicorn (`serve --workers N`) PROMETHEUS_MULTIPROC_DIR is set before any worker
imports this module: prometheus-client then keeps each value in a per-process file, and
render() sums the workers (counters and histograms add up; the leader gauge counts the
live workers that lead, which is 1 on the leading instance). Without it (one process,
tests) the values live in this process.

The answer cache calls cache_lookup(hit, store) per lookup; hit ratio in PromQL:
  sum(rate(ai_usage_answer_cache_lookups_total{result="hit"}[5m]))
    / sum(rate(ai_usage_answer_cache_lookups_total[5m]))
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds: a cached answer (~1 ms) up to the statement time limit's neighbourhood.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REFRESH_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0)

HTTP_REQUESTS = Counter(
    "ai_usage_http_requests",
    "HTTP requests answered, by route template (not the raw path), method and status.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "ai_usage_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by route template, method and status.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
ROLLUP_REFRESHES = Counter(
    "ai_usage_rollup_refreshes",
    "Background rollup catch-up rounds by outcome: rolled_up, up_to_date, skipped (another "
    "process held the refresh lock), failed.",
    ["outcome"],
)
ROLLUP_REFRESH_SECONDS = Histogram(
    "ai_usage_rollup_refresh_duration_seconds",
    "Duration of the background rollup catch-up rounds, by outcome.",
    ["outcome"],
    buckets=REFRESH_BUCKETS,
)
ROLLUP_ROWS = Counter("ai_usage_rollup_rows", "Raw rows added to the rollups by this server's catch-up.")
LEADER = Gauge(
    "ai_usage_leader",
    "1 in the process that holds the leader lock (runs the catch-up and the alert evaluation).",
    multiprocess_mode="livesum",
)
CACHE_LOOKUPS = Counter(
    "ai_usage_answer_cache_lookups",
    "Answer cache lookups by store (local, redis) and result (hit, miss).",
    ["store", "result"],
)
DATA_STAMPS = Counter(
    "ai_usage_data_stamps",
    "Data stamps a cached answer asked for, by how it got one: read by its own statement, or shared "
    "(another answer's read that began after it asked: queries/batches.py).",
    ["read"],
)
ALERT_DELIVERIES = Counter(
    "ai_usage_alert_deliveries",
    "Alert notifications sent, by channel (e.g. webhook, email) and outcome (delivered, failed, retried).",
    ["channel", "outcome"],
)


def cache_lookup(hit: bool, store: str = "local") -> None:
    """Count one answer-cache lookup (the hit ratio is hits / lookups)."""
    CACHE_LOOKUPS.labels(store=store, result="hit" if hit else "miss").inc()


def data_stamp(shared: bool) -> None:
    """Count one data stamp an answer got: shared with another answer's read, or its own."""
    DATA_STAMPS.labels(read="shared" if shared else "own").inc()


def alert_delivery(channel: str, outcome: str) -> None:
    """Count one alert notification attempt."""
    ALERT_DELIVERIES.labels(channel=channel, outcome=outcome).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render(extra: CollectorRegistry | None = None) -> bytes:
    """The text exposition of every process's metrics, then extra's (gauges read at scrape time)."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        out = generate_latest(registry)
    else:
        out = generate_latest(REGISTRY)
    return out + (generate_latest(extra) if extra is not None else b"")
