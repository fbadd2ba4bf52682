"""The page: session stores, header, filter bar, the seven sections, the access message."""

from __future__ import annotations

from dash import dcc, html

from . import (
    actions,
    advanced,
    agents,
    alerts,
    anomalies,
    budget,
    changes,
    filters,
    fmt,
    i18n,
    ids,
    kpis,
    models,
    slice,
    states,
    trend,
    users,
)
from .i18n import _


def layout() -> html.Div:
    """Build the page (a function: the default custom dates are today's on every load)."""
    return html.Div(
        className="app-root",
        children=[
            dcc.Location(id=ids.URL, refresh=False),
            # Memory only: an iframe in a browser that blocks third-party cookies still works,
            # and the token never lands in localStorage.
            dcc.Store(id=ids.TOKEN, storage_type="memory"),
            dcc.Store(id=ids.TIMEZONE, storage_type="memory"),
            dcc.Store(id=ids.THEME, storage_type="memory"),
            # The language the page was built in (callbacks/language.py): for tests and the browser.
            dcc.Store(id=ids.LANG, data=i18n.current(), storage_type="memory"),
            dcc.Store(id=ids.CURRENCY, storage_type="memory"),
            states.access_denied(),
            html.Div(
                id=ids.DASHBOARD,
                hidden=True,
                className="dashboard",
                children=[
                    filters.header(),
                    html.Div(
                        className="filterbar-wrap", children=[filters.filter_bar(), slice.row(filters.compare_select())]
                    ),
                    html.Main(
                        className="content",
                        children=[
                            html.Div(id=ids.BANNER, role="status"),
                            html.Div(id=ids.CURRENCY_NOTE, role="status"),
                            kpis.section(),
                            budget.layout(),  # Presupuesto (issue 10)
                            trend.layout(),
                            changes.layout(),  # «Mayores cambios»: with a comparison only
                            anomalies.layout(),
                            actions.layout(),
                            models.layout(),
                            agents.layout(),
                            users.layout(),  # Usuarios (issue 9)
                            advanced.layout(),
                            alerts.layout(),
                            html.Footer(
                                className="page-foot",
                                children=[
                                    html.Span(id=ids.ORG_LABEL),
                                    html.Span(
                                        [
                                            html.Span(fmt.USD.note(), id=ids.FOOT_CURRENCY),
                                            " " + _("Tokens: K = miles, M = millones."),
                                        ]
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
        ],
    )
