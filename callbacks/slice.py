"""The slice (issue 9): the filter row, its chips, and the drill-down clicks, all meeting in the
store ids.FILTER_SLICE ({"agentId": [...], ...}, API names), which every section reads.

- options(): each multi-select's options from the window's data (no slice), with their cost;
- control(): the one writer of the row: a select changed, a chip's ✕, «Quitar filtros», or the
  store written elsewhere (a click, the URL, another section) brings selects and chips in line;
- the drill-down callbacks add one value to the store (allow_duplicate): a model bar or bubble,
  an action's donut slice, an agent's row; the System/BYOK split sets the source instead.
"""

from __future__ import annotations

from urllib.parse import unquote

from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from layouts import ids, slice as slice_layout
from queries.filters import MAX_VALUES
from queries.slice_options import slice_options

from . import common
from .slice_inputs import listed_values as _listed, names_table as _names, texts as _strs

SELECTS = {  # dropdown id -> the API names it writes
    ids.SLICE_AGENT: ("agentId",),
    ids.SLICE_USER: ("userId",),
    ids.SLICE_MODEL: ("provider", "model"),
    ids.SLICE_ACTION: ("actionType",),
}
API_NAMES = ("agentId", "userId", "provider", "model", "actionType")


def clean(sl) -> dict:
    """The store's value as the page writes it (forged shapes dropped), without empty lists;
    the comparison it carries (common.COMPARE) is kept: no slice change drops it."""
    params = common.slice_params(sl)
    if params is None:
        return {}
    out: dict = {api: list(dict.fromkeys(params[api]))[:MAX_VALUES] for api in API_NAMES if params.get(api)}
    compare = common.compare_param(sl)
    return {**out, common.COMPARE: compare} if compare else out


def to_selects(sl: dict) -> list[list[str]]:
    """The four dropdowns' values for a slice."""
    sl = clean(sl)
    return [
        sl.get("agentId", []),
        sl.get("userId", []),
        [f"provider:{p}" for p in sl.get("provider", [])] + [f"model:{m}" for m in sl.get("model", [])],
        sl.get("actionType", []),
    ]


def from_selects(agent, user, model, action) -> dict[str, list[str]]:
    pm = _strs(model)
    sl = {
        "agentId": _strs(agent),
        "userId": _strs(user),
        "provider": [v.split(":", 1)[1] for v in pm if v.startswith("provider:")],
        "model": [v.split(":", 1)[1] for v in pm if v.startswith("model:")],
        "actionType": _strs(action),
    }
    return clean(sl)


def with_value(sl, api: str, value) -> dict:
    """sl with value added to filter api (once)."""
    if not isinstance(value, str) or not value:
        return no_update
    sl = clean(sl)
    if value in sl.get(api, []):
        return no_update
    sl[api] = [*sl.get(api, []), value]
    return sl


def register(app) -> None:
    app.callback(
        Output(ids.SLICE_AGENT, "options"),
        Output(ids.SLICE_USER, "options"),
        Output(ids.SLICE_MODEL, "options"),
        Output(ids.SLICE_ACTION, "options"),
        Output(ids.SLICE_NAMES, "data"),
        *common.FILTERS,
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
    )(options)
    app.callback(
        Output(ids.FILTER_SLICE, "data"),
        Output(ids.SLICE_AGENT, "value"),
        Output(ids.SLICE_USER, "value"),
        Output(ids.SLICE_MODEL, "value"),
        Output(ids.SLICE_ACTION, "value"),
        Output(ids.SLICE_CHIPS, "children"),
        Output(ids.SLICE_CLEAR, "hidden"),
        Input(ids.SLICE_AGENT, "value"),
        Input(ids.SLICE_USER, "value"),
        Input(ids.SLICE_MODEL, "value"),
        Input(ids.SLICE_ACTION, "value"),
        Input(ids.SLICE_CLEAR, "n_clicks"),
        Input(ids.FILTER_SLICE, "data"),
        Input(ids.SLICE_NAMES, "data"),
        # New options: the selects shown again from the store (a value set before its option
        # existed is dropped by the dropdown; the store keeps it).
        Input(ids.SLICE_AGENT, "options"),
        Input(ids.SLICE_USER, "options"),
        Input(ids.SLICE_MODEL, "options"),
        Input(ids.SLICE_ACTION, "options"),
    )(control)
    # Drill-down: a click adds its value to the slice; the whole page narrows.
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
    # The view in the URL (assets/view_url.js): restored on load and on back/forward, pushed
    # as a history entry (without the token) when it changes; «Copiar enlace».
    app.clientside_callback(
        ClientsideFunction("view", "restore"),
        Output(ids.PRESET, "value", allow_duplicate=True),
        Output(ids.DATES, "start_date", allow_duplicate=True),
        Output(ids.DATES, "end_date", allow_duplicate=True),
        Output(ids.APPLIED_PRESET, "data", allow_duplicate=True),
        Output(ids.APPLIED_START, "data", allow_duplicate=True),
        Output(ids.APPLIED_END, "data", allow_duplicate=True),
        Output(ids.SOURCE, "value", allow_duplicate=True),
        Output(ids.GRANULARITY, "value", allow_duplicate=True),
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Output(ids.COMPARE, "value", allow_duplicate=True),
        Input(ids.URL, "search"),
        prevent_initial_call="initial_duplicate",
    )
    app.clientside_callback(
        ClientsideFunction("view", "push"),
        Input(ids.APPLIED_PRESET, "data"),
        Input(ids.APPLIED_START, "data"),
        Input(ids.APPLIED_END, "data"),
        Input(ids.SOURCE, "value"),
        Input(ids.GRANULARITY, "value"),
        Input(ids.FILTER_SLICE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("view", "copy"),
        Output(ids.COPY_LINK_STATUS, "children"),
        Input(ids.COPY_LINK, "n_clicks"),
        prevent_initial_call=True,
    )


def options(preset, start, end, source, granularity, tz, token, currency=None, sl=None):
    """The selects' options: the window's values with their cost (selected ones always listed)."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency)
    if scope.problem or scope.filters is None:
        return [], [], [], [], {}
    f, money = scope.filters, scope.money
    try:
        opts = common.query(lambda conn: slice_options(conn, f), "page:slice-options", f)
    except common.Unavailable:
        return no_update, no_update, no_update, no_update, no_update
    names = {"agentId": {str(v): str(n) for v, n in zip(opts["agentId"]["value"], opts["agentId"]["name"]) if v}}

    def listed(api: str, prefix: str = "") -> list[dict]:
        out = []
        for r in opts[api].itertuples(index=False):
            value = slice_layout.NONE if r.value is None else str(r.value)
            out.append(
                slice_layout.option(prefix + value, slice_layout.value_label(api, value, names), int(r.cost_e8), money)
            )
        return out

    agents, users, actions = listed("agentId"), listed("userId"), listed("actionType")
    models = listed("provider", "provider:") + listed("model", "model:")
    chosen = to_selects(sl or {})
    for opts_list, values in zip((agents, users, models, actions), chosen):
        have = {o["value"] for o in opts_list}
        for v in values:  # a value of the URL or a click that the window does not hold: still shown
            if v not in have:
                opts_list.append({"label": v.split(":", 1)[-1], "value": v, "search": v})
    return agents, users, models, actions, names


def control(agent, user, model, action, _clear, sl, names, *options):
    """Keep the store, the selects and the chips in line, whichever changed (a chip's ✕ writes
    the store in the browser: assets/view_url.js)."""
    trigger = ctx.triggered_id
    current = clean(sl)
    kept = {k: v for k, v in current.items() if k == common.COMPARE}  # no slice change drops it
    if trigger == ids.SLICE_CLEAR:
        new = dict(kept)
    elif any(f"{sel}.value" in ctx.triggered_prop_ids for sel in SELECTS):  # a person chose
        new = {**from_selects(agent, user, model, action), **kept}
        # A value the select does not list yet (the URL's, a click's) was not removed by anyone.
        listed = set()
        for opts in options:
            listed |= _listed(opts)
        for values, sel in zip(to_selects(current), SELECTS):
            for v in values:
                if v not in listed:
                    for api in SELECTS[sel]:
                        prefix = f"{api}:" if sel == ids.SLICE_MODEL else ""
                        if not prefix or v.startswith(prefix):
                            raw = v[len(prefix) :]
                            new.setdefault(api, [])
                            if raw not in new[api]:
                                new[api].append(raw)
    else:  # the store (a click, the URL, another helper) or the names: show what it holds
        new = current
    store = new if new != current or sl != new else no_update
    # A select gets its values once its options list them all (the options callback adds the
    # store's values): before that the dropdown would drop them, and its change clear the store.
    selects = []
    for values, opts in zip(to_selects(new), options):
        listed = _listed(opts)
        selects.append(values if all(v in listed for v in values) else no_update)
    return (
        store,
        *selects,
        slice_layout.chips(new, _names(names)),
        not any(new.get(api) for api in API_NAMES),
    )


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
