"""What the Agentes and Usuarios grids do in the browser: CSV export, search, the match count
and the unit-cost columns stepping aside (assets/dashboard.js), wired alike for both."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State


def browser_tools(app, grid: str, export: str, search: str, matches: str) -> None:
    """Wire `grid`'s CSV button, search box and match count (ids) to the browser's functions."""
    # The grid exports what it shows (sort and search applied): AG Grid's exportDataAsCsv.
    app.clientside_callback(
        ClientsideFunction("dashboard", "exportCsv"),
        Output(grid, "exportDataAsCsv"),
        Input(export, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("dashboard", "quickFilter"), Input(search, "value"), prevent_initial_call=True
    )
    # A narrow grid hides its ranked columns and pins its names once its rows are in (narrowColumns).
    app.clientside_callback(ClientsideFunction("dashboard", "narrow"), Input(grid, "rowData"))
    # "26 filas" alone under a search that shows 4 would be wrong: say how many match.
    app.clientside_callback(
        ClientsideFunction("dashboard", "searchMatches"),
        Output(matches, "children"),
        Input(grid, "virtualRowData"),
        Input(search, "value"),
        State(grid, "rowData"),
    )
