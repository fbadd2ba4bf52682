"""Desglose por acción: stacked area over time and a donut; one shared colour legend."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from . import datatables, exports, ids, theme
from .common import graph, loading, section
from .filters import segmented
from .i18n import N_, _

HEIGHT = 320
METRICS = [("cost_usd", N_("Costo"), ""), ("tokens", N_("Tokens"), ""), ("executions", N_("Ejecuciones"), "")]


LEGEND_ITEM = ids.ACTIONS_LEGEND_ITEM  # + "-" + action type: a legend entry's button (callbacks/slice_clicks.py)


def legend_id(action: str) -> str:
    return f"{LEGEND_ITEM}-{action}"


def legend() -> html.Ul:
    """The five action types with their colour: the same everywhere on the page. Each entry is a
    button: a click narrows the page to that action type, like a click on its donut slice."""
    return html.Ul(
        className="legend-chips",
        children=[
            html.Li(
                html.Button(
                    [html.Span(className="chip-dot", style=theme.swatch(colour)), _(label)],
                    id=legend_id(action),
                    type="button",
                    className="chip chip-button",
                    title=_("Clic para filtrar"),
                    **{"aria-label": _("Filtrar por {action}").format(action=_(label))},
                ),
                className="chip",
            )
            for action, (label, colour) in theme.ACTIONS.items()
        ],
    )


def layout() -> html.Section:
    tools = html.Div(
        [
            segmented(ids.ACTIONS_METRIC, METRICS, "cost_usd", N_("Medida")),
            exports.button(ids.CSV_ACTIONS, _("desglose por acción")),
        ],
        className="tools-row",
    )
    body = html.Div(
        [
            legend(),
            loading(
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                graph(ids.ACTIONS_AREA, HEIGHT, _("Evolución por tipo de acción")),
                                datatables.toggle("actions-area", _("evolución por tipo de acción")),
                            ],
                            lg=8,
                        ),
                        dbc.Col(
                            [
                                graph(ids.ACTIONS_DONUT, HEIGHT, _("Reparto por tipo de acción")),
                                datatables.toggle("actions-donut", _("reparto por tipo de acción")),
                            ],
                            lg=4,
                        ),
                    ],
                    className="g-2",
                )
            ),
        ]
    )
    return section(
        ids.SEC_ACTIONS,
        _("Desglose por acción"),
        _("Qué tipo de llamada consume: evolución apilada y reparto del periodo."),
        body,
        tools,
    )
