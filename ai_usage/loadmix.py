"""The load test's full refresh, shared by the load client (scripts/locustfile.py) and the
in-process CPU measure of the same questions (scripts/api_cpu.py): the 8 API answers of one
window, and the six zones its distinct questions are asked in. Constants only: the load client
imports this after gevent has patched the process."""

from __future__ import annotations

ZONES = ["UTC", "America/New_York", "Europe/Madrid", "Asia/Kathmandu", "Asia/Kolkata", "America/Sao_Paulo"]
CALLS: list[tuple[str, dict[str, str]]] = [
    ("summary", {}),
    ("cache-savings", {}),
    ("projection", {}),
    ("time-series", {}),
    ("time-series", {"groupBy": "action"}),
    ("model-efficiency", {}),
    ("by-agent", {}),
    ("heatmap", {}),
]
