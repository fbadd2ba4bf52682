"""The page's figures are plain data (layouts/plot.py); tests read them through plotly.py.

`valid(fig)` is a go.Figure built from a builder's figure. Building it validates every
property (plotly raises ValueError on a property or a value plotly.js would not take): the
schema check the builders no longer pay for at run time. It also checks that the JSON Dash
sends for the plain figure is the JSON plotly.py writes for the validated one, so what the
test reads (fig.data[0].x, fig.layout.yaxis2.range, as when the builders returned
go.Figure) is what the browser gets.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

from layouts import plot

_ZERO_FRACTION = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.0+")


def _plain(node):
    """JSON as plotly.js reads it: plotly.py's typed arrays ({"dtype": "f8", "bdata": base64},
    how a validated figure writes a numpy array) as the lists they hold, and a date's zero
    fraction of a second (a validated figure writes '2026-11-09T00:00:00.000000') left out."""
    if isinstance(node, dict):
        if set(node) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"}):
            values = np.frombuffer(base64.b64decode(node["bdata"]), dtype=np.dtype(node["dtype"]))
            if "shape" in node:
                values = values.reshape([int(n) for n in str(node["shape"]).split(",")])
            return values.tolist()
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        whole = _ZERO_FRACTION.fullmatch(node)
        return whole.group(1) if whole else node
    return node


def sent(fig) -> dict:
    """The figure as Dash sends it to the browser (its JSON, read back, typed arrays as lists)."""
    return _plain(json.loads(to_json_plotly(fig)))


def valid(fig) -> go.Figure:
    """fig (a plain figure, light or dressed dark) validated by plotly.py, its JSON unchanged by it."""
    assert isinstance(fig, (plot.Figure, dict)) and not isinstance(fig, go.Figure), type(fig)
    checked = go.Figure(fig)
    assert sent(fig) == sent(checked), "the plain figure's JSON differs from plotly.py's"
    return checked
