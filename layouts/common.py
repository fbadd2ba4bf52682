"""Building blocks every section uses: the section card, a graph with its loading state,
skeletons and small empty states."""

from __future__ import annotations

from dash import dcc, html

from . import plotly_config, theme


def section(sec_id: str, title: str, description: str, body, tools=None, className: str = "") -> html.Section:
    """A titled card; `data-stamp` is set by the section's callback to the filters it shows."""
    head = html.Div(
        className="section-head",
        children=[
            html.Div([html.H2(title, className="section-title"), html.P(description, className="section-desc")]),
            html.Div(tools, className="section-tools") if tools is not None else None,
        ],
    )
    return html.Section(id=sec_id, className=f"panel {className}".strip(), children=[head, body], **{"data-stamp": ""})


def blank_figure(height: int) -> dict:
    """What a graph shows before its first answer: nothing, at its final height (no layout jump)."""
    return {
        "data": [],
        "layout": {
            "height": height,
            "template": theme.TEMPLATE,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        },
    }


def graph(graph_id: str, height: int, label: str) -> html.Div:
    """A chart at its final height, labelled for screen readers."""
    return html.Div(
        dcc.Graph(
            id=graph_id,
            figure=blank_figure(height),
            config=plotly_config.graph_config(),
            style={"height": f"{height}px"},
            className="chart",
        ),
        role="figure",
        **{"aria-label": label},
    )


def loading(children, **kw) -> dcc.Loading:
    """Keep the previous answer visible, dimmed, while the next one loads (no flicker)."""
    return dcc.Loading(
        children,
        type="dot",
        color=theme.BRAND,
        delay_show=120,
        delay_hide=0,
        overlay_style={"visibility": "visible", "opacity": 0.45, "transition": "opacity .15s"},
        parent_className="loading-parent",
        **kw,
    )


def skeleton(lines: int = 2) -> html.Div:
    return html.Div(
        [html.Div(className="skeleton skeleton-value")]
        + [html.Div(className="skeleton skeleton-line") for _ in range(lines)],
        className="skeleton-wrap",
    )


def empty_state(message: str, hint: str | None = None) -> html.Div:
    return html.Div(
        [html.Div(message, className="empty-title"), html.Div(hint, className="empty-hint") if hint else None],
        className="empty-state",
    )


def note(children, note_id: str | None = None) -> html.Div:
    kw = {"id": note_id} if note_id else {}
    return html.Div(children, className="chart-note", **kw)
