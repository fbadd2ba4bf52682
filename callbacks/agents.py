"""Agentes: the by-agent ranking into the grid; search and CSV export run in the browser."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, no_update

import queries
from layouts import agents, grids, ids
from layouts.i18n import _

from . import common


def register(app) -> None:
    app.callback(
        Output(ids.AGENTS_GRID, "rowData"),
        Output(ids.AGENTS_COUNT, "children"),
        Output(ids.SEC_AGENTS, "data-stamp"),
        Output(ids.AGENTS_GRID, "dashGridOptions"),
        Output(ids.AGENTS_GRID, "csvExportParams"),
        Output(ids.AGENTS_GRID, "columnDefs"),
        *common.FILTERS,
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
    )(update)
    # The grid exports what it shows (sort and search applied): AG Grid's exportDataAsCsv.
    app.clientside_callback(
        ClientsideFunction("dashboard", "exportCsv"),
        Output(ids.AGENTS_GRID, "exportDataAsCsv"),
        Input(ids.AGENTS_EXPORT, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("dashboard", "quickFilter"), Input(ids.AGENTS_SEARCH, "value"), prevent_initial_call=True
    )
    # The unit-cost columns step aside on a narrow grid once its rows are in (assets/dashboard.js).
    app.clientside_callback(ClientsideFunction("dashboard", "narrow"), Input(ids.AGENTS_GRID, "rowData"))
    # "26 filas" alone under a search that shows 4 would be wrong: say how many match.
    app.clientside_callback(
        ClientsideFunction("dashboard", "searchMatches"),
        Output(ids.AGENTS_MATCHES, "children"),
        Input(ids.AGENTS_GRID, "virtualRowData"),
        Input(ids.AGENTS_SEARCH, "value"),
        State(ids.AGENTS_GRID, "rowData"),
    )


def update(preset, start, end, source, granularity, tz, token, currency=None, sl=None):
    """Rows for the grid, ranked by cost (the grid re-sorts in the browser)."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    if scope.problem:
        title = scope.message.split(":")[0]
        return [], title, scope.stamp, agents.empty_message(title), no_update, no_update
    f = scope.filters
    assert f is not None  # resolve() gives filters whenever there is no problem
    export = agents.csv_params(f, scope.money)
    columns = agents.column_defs(scope.money)
    try:
        df = common.query(lambda conn: queries.by_agent(conn, f), "page:agents", f)
    except common.Unavailable as u:  # the empty grid must not read 'Sin datos en este periodo'
        return [], u.detail, scope.stamp, agents.empty_message(u.message), export, columns
    n = len(df)
    count = agents.row_count(n)
    message = agents.empty_message(_(grids.LOCALE_TEXT["noRowsToShow"]))
    return agents.rows(df, scope.money), count, scope.stamp, message, export, columns
