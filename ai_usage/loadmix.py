"""The load test's full refresh, shared by the load client (scripts/locustfile.py) and the
in-process CPU measure of the same questions (scripts/api_cpu.py): the 8 API answers of one
window, and the six zones its distinct questions are asked in; and the page's data callbacks
that the `mix` scenario's filter changes send, with what it fills them with. No import beyond
the standard library: the load client imports this after gevent has patched the process."""

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
# What the page sends for each input and state of a data callback, as a freshly opened page
# has them (filters come per change). A callback with an input or state not listed here is
# left out of a filter change: when the page grew the display currency (every data callback
# takes it), the mix scenario's filter changes silently sent nothing until it was listed.
FIXED_INPUTS: dict[str, object] = {
    "filter-applied-start.data": None,
    "filter-applied-end.data": None,
    "filter-granularity.value": "auto",
    "filter-slice.data": {},
    "display-currency.data": "USD",
    "session-theme.data": "light",
    "actions-metric.value": "cost_usd",
    "models-view.value": "cost",
    "models-scale.value": "linear",
    "models-latency.value": "p95",
    "users-limit.value": "50",
    "budget-version.data": 0,
    "slice-names.data": {},
    "advanced-collapse.is_open": True,
}


def data_callbacks(deps: list[dict]) -> list[dict]:
    """The server callbacks of the page's /_dash-dependencies that a filter change sends and
    FIXED_INPUTS (with the filters and the token) can fill."""
    return [d for d in deps if _is_data_callback(d)]


def _deps(items) -> list[str]:
    return [f"{d['id']}.{d['property']}" for d in items]


def _is_data_callback(dep: dict) -> bool:
    """A server-side callback a filter change sends (the applied preset is one of its inputs)
    whose every input and state we can fill."""
    known = set(FIXED_INPUTS) | {
        "filter-applied-preset.data",
        "filter-source.value",
        "session-timezone.data",
        "session-token.data",
    }
    inputs = _deps(dep.get("inputs", []))
    wanted = inputs + _deps(dep.get("state", []))
    return (
        dep.get("clientside_function") is None
        and "filter-applied-preset.data" in inputs
        and all(w in known for w in wanted)
    )


def _outputs(spec: str) -> list[dict] | dict:
    if spec.startswith(".."):
        parts = spec[2:-2].split("...")
        return [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]
    return dict(zip(("id", "property"), spec.rsplit(".", 1)))


def filter_change_body(dep: dict, values: dict) -> dict:
    """The body the page POSTs to /_dash-update-component for dep on a filter change."""

    def filled(items):
        return [{**d, "value": values[f"{d['id']}.{d['property']}"]} for d in items]

    return {
        "output": dep["output"],
        "outputs": _outputs(dep["output"]),
        "inputs": filled(dep["inputs"]),
        "state": filled(dep.get("state", [])),
        "changedPropIds": ["filter-applied-preset.data"],
    }
