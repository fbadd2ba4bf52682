"""A figure in the page's theme: the dark template, and every light colour swapped for its dark
variant of the same meaning (theme.DARK).

Figures are built once, with the light palette (layouts/figures/*); `dress(fig, "dark")` is
the only place that knows the dark theme, so no builder takes a theme argument and no
chart is drawn twice. What it changes: the template; every colour value in the traces
and the layout (an `rgba()` keeps its alpha); `color:#…` inside annotation text (the
grey caption of a donut, an empty state's hint); the heatmap's ramp (token volume); and
the text on donut slices, re-chosen black or white for the dark slice colours.
"""

from __future__ import annotations

import re
from typing import Any

from . import plot, theme

THEMES = ("light", "dark")
_RGBA = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)")
_STYLE = re.compile(r"(color:\s*)(#[0-9a-fA-F]{6})\b")
_DARK_TEMPLATE = theme.DARK_TEMPLATE


def mode(value) -> str:
    """The theme a callback draws in: 'dark' or 'light' (anything the page would not send: light)."""
    return value if value in THEMES else "light"


def _hex(r: int, g: int, b: int) -> str:
    return f"#{r:02x}{g:02x}{b:02x}"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colour(value: str) -> str:
    """The dark variant of one colour value ('#4f46e5', 'rgba(79, 70, 229, 0.14)'); others as they are."""
    low = value.strip().lower()
    if low in theme.DARK:
        return theme.DARK[low]
    m = _RGBA.fullmatch(low)
    if m:
        dark = theme.DARK.get(_hex(*(int(v) for v in m.group(1, 2, 3))))
        if dark is not None:
            alpha = m.group(4)
            return "rgba({}, {}, {}, {})".format(*_rgb(dark), alpha) if alpha is not None else dark
    return value


def _walk(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _walk(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, key) for v in node]
    if isinstance(node, str):
        if key == "text":  # an annotation's HTML: only its inline colours
            return _STYLE.sub(lambda m: m.group(1) + colour(m.group(2)), node)
        if "color" in key or key in ("colors", "fgcolor", "bgcolor"):
            return colour(node)
    return node


def dress(fig: plot.Figure, theme_name: str) -> plot.Figure | dict:
    """fig as the page's theme draws it: light figures as built; a dark one as a new figure
    dict (the light one is left as it was)."""
    if mode(theme_name) == "light":
        return fig
    spec = fig
    layout = _walk({k: v for k, v in spec.get("layout", {}).items() if k != "template"})
    layout["template"] = _DARK_TEMPLATE
    data = [_walk(t) for t in spec.get("data", [])]
    for trace in data:
        if trace.get("type") == "heatmap":
            trace["colorscale"] = theme.DARK_HEATMAP_SCALE
        if trace.get("type") == "pie" and isinstance((trace.get("marker") or {}).get("colors"), list):
            fills = trace["marker"]["colors"]
            trace["insidetextfont"] = {
                **(trace.get("insidetextfont") or {}),
                "color": [theme.text_on(c) for c in fills],
            }
    return {"data": data, "layout": layout}


def dress_outputs(outputs, theme_name: str):
    """A callback's outputs with every figure in the theme (a tuple, or a single output)."""
    if mode(theme_name) == "light":
        return outputs
    if isinstance(outputs, plot.Figure):
        return dress(outputs, theme_name)
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(dress(o, theme_name) if isinstance(o, plot.Figure) else o for o in outputs)
    return outputs
