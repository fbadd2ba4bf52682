"""Plotly figures as plain data: the figure JSON that dcc.Graph sends to plotly.js, built as
dicts and lists, without plotly.py's graph objects.

Why not `plotly.graph_objects`: a go.Figure validates every property as it is set and copies
it again to serialise it: plotly's validators are loaded on the first figure and kept (~9 MB
resident per worker), and each figure cost ~3.5 ms of CPU (docs/measurements.md, *a
thirty-fourth machine*, has the figures and `scripts/page_cpu.py`, which measures both).
That check belongs in the tests: they build a go.Figure from every figure they read
(tests/support/figspec.py), so a property plotly.js would not know still fails the suite,
and they check that the JSON Dash sends is the one plotly.py would write.

A Figure is a dict {"data": [...], "layout": {...}} (Dash serialises it as it is), with the
few methods the builders use: add_trace, add_traces, and `data` / `layout` as attributes.
A trace is a dict with its "type" (scatter, bar, pie, heatmap). Values may be lists,
numpy arrays or pandas Series: Dash's encoder (plotly.io.json) writes them, as it did.
"""

from __future__ import annotations

from typing import Any


class Figure(dict):
    """{"data": [trace, ...], "layout": {...}}: what plotly.js draws (a layout property set to
    None is left out, as a graph object leaves it unset)."""

    def __init__(self, data: list[dict] | None = None, layout: dict | None = None) -> None:
        super().__init__(data=list(data or []), layout=unset(layout or {}))

    @property
    def data(self) -> list[dict]:
        return self["data"]

    @data.setter
    def data(self, traces: list[dict]) -> None:
        self["data"] = list(traces)

    @property
    def layout(self) -> dict:
        return self["layout"]

    def add_trace(self, trace: dict) -> Figure:
        self["data"].append(trace)
        return self

    def add_traces(self, traces: list[dict]) -> Figure:
        self["data"].extend(traces)
        return self

    def to_plotly_json(self) -> dict:
        """The figure as Dash sends it (the name plotly's encoder looks for)."""
        return {"data": self["data"], "layout": self["layout"]}


_KEPT = frozenset({"meta", "template"})


def unset(props: dict) -> dict:
    """props without the properties set to None, at any depth of dicts (and of lists of dicts,
    like annotations): a graph object leaves such a property unset, where JSON would send
    null. `meta` is data and is kept whole, a template as it is (ours: no None in it, and
    shared by every figure); lists of values keep their None (a gap)."""
    out = {}
    for key, value in props.items():
        if value is None:
            continue
        if key not in _KEPT and isinstance(value, dict):
            value = unset(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            value = [unset(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out


def scatter(**props: Any) -> dict:
    return {"type": "scatter", **unset(props)}


def bar(**props: Any) -> dict:
    return {"type": "bar", **unset(props)}


def pie(**props: Any) -> dict:
    return {"type": "pie", **unset(props)}


def heatmap(**props: Any) -> dict:
    return {"type": "heatmap", **unset(props)}


def merge(current: Any, value: Any, key: str = "") -> Any:
    """value applied over current as plotly's update_layout applies it: a dict into a dict key
    by key; a list of dicts over a list of dicts already there: element by element when it is
    no longer (the i-th takes value[i % len(value)]), else the ones there are kept as they are
    and the rest appended (plotly 7 does so; tests/test_palette.py checks it against plotly);
    anything else replaces (a list of values: range, tickvals…). `meta` is data, not a compound
    property: replaced whole, as update_layout does. None in value leaves a property unset
    (plot.unset)."""
    if key == "meta":
        return value
    if isinstance(value, dict) and key not in _KEPT:
        value = unset(value)
    if isinstance(current, dict) and current and isinstance(value, dict):
        merged = dict(current)
        for k, v in value.items():
            merged[k] = merge(current.get(k), v, k)
        return merged
    if (
        isinstance(current, (list, tuple))
        and current
        and all(isinstance(c, dict) for c in current)
        and isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, dict) for v in value)
    ):
        if len(value) > len(current):
            return [*current, *(dict(v) for v in value[len(current) :])]
        return [merge(c, value[i % len(value)]) for i, c in enumerate(current)]
    return value
