"""The drill-down (issue 9): a click on a chart narrows the whole page to what it shows, by adding
one value to the slice (ids.FILTER_SLICE, allow_duplicate): a model's bar or bubble, an action's
donut slice or legend entry, an agent's row; the System/BYOK split sets the source instead.

Click keys travel percent-encoded in customdata (layouts.figures.common.click_key). A legend
entry of a Plotly donut has no clickData: assets/view_url.js turns its plotly_legendclick into the
clickData a click on its slice makes, so both go through the same callback.
"""

from __future__ import annotations

from urllib.parse import unquote

from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from layouts import actions as actions_layout, ids, slice as slice_layout, theme

from .slice import clean


def register(app) -> None:
    for graph in (ids.MODELS_BARS, ids.MODELS_BUBBLE):
        app.callback(
            Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
            Input(graph, "clickData"),
            State(ids.FILTER_SLICE, "data"),
            prevent_initial_call=True,
        )(click_model)
    app.callback(
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Input(ids.ACTIONS_DONUT, "clickData"),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )(click_action)
    app.callback(
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        *(Input(actions_layout.legend_id(a), "n_clicks") for a in theme.ACTIONS),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )(click_legend)
    app.callback(
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Input(ids.AGENTS_GRID, "cellClicked"),
        State(ids.AGENTS_GRID, "rowData"),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )(click_agent)
    app.callback(
        Output(ids.SOURCE, "value", allow_duplicate=True),
        Input(ids.SOURCE_SPLIT, "clickData"),
        prevent_initial_call=True,
    )(click_source)
    # The split's legend entries click like its slices (no Output: it only hooks the plot).
    app.clientside_callback(ClientsideFunction("view", "hookLegend"), Input(ids.SOURCE_SPLIT, "figure"))


def with_value(sl, api: str, value) -> dict:
    """sl with value added to filter api (once)."""
    if not isinstance(value, str) or not value:
        return no_update
    sl = clean(sl)
    if value in sl.get(api, []):
        return no_update
    sl[api] = [*sl.get(api, []), value]
    return sl


def _key(value):
    """A click's raw value, as layouts.figures.common.click_key encoded it."""
    return unquote(value) if isinstance(value, str) else None


def click_model(click, sl):
    """A model's bar or bubble: its raw (provider, model) are the last two of its customdata."""
    point = _point(click)
    cd = point.get("customdata") if point else None
    if not isinstance(cd, list) or len(cd) < 2:
        return no_update
    return with_value(sl, "model", _key(cd[-1]))


def click_action(click, sl):
    point = _point(click)
    cd = point.get("customdata") if point else None
    if not isinstance(cd, list) or not cd:
        return no_update
    return with_value(sl, "actionType", _key(cd[-1]))


def click_legend(*args):
    """An entry of the actions' colour legend (layouts/actions.py legend): its action type."""
    *clicks, sl = args
    trigger = ctx.triggered_id
    by_id = {actions_layout.legend_id(a): a for a in theme.ACTIONS}
    if trigger not in by_id or not any(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in clicks):
        return no_update
    return with_value(sl, "actionType", by_id[trigger])


def click_agent(cell, rows, sl):
    """An agent's row (any cell): its agent_id, or `none` for the row without an agent."""
    if not isinstance(cell, dict) or not isinstance(rows, list):
        return no_update
    row = next((r for r in rows if isinstance(r, dict) and r.get("row_key") == cell.get("rowId")), None)
    if row is None:
        return no_update
    agent = row.get("agent_id")
    return with_value(sl, "agentId", agent if agent is not None else slice_layout.NONE)


def click_source(click):
    point = _point(click)
    cd = point.get("customdata") if point else None
    if isinstance(cd, list) and cd and cd[-1] in ("system", "byok"):
        return cd[-1]
    return no_update


def _point(click) -> dict:
    if not isinstance(click, dict):
        return {}
    points = click.get("points")
    return points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
