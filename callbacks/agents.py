"""Agentes: the by-agent ranking into the grid; search and CSV export run in the browser."""

from __future__ import annotations

from dash import Output, no_update

import queries
from layouts import agents, grids, ids
from layouts.i18n import _

from . import common, grids as grid_tools


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
    grid_tools.browser_tools(app, ids.AGENTS_GRID, ids.AGENTS_EXPORT, ids.AGENTS_SEARCH, ids.AGENTS_MATCHES)


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
