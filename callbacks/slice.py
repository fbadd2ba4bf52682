"""The slice (issue 9): the filter row, its chips, and the drill-down clicks, all meeting in the
store ids.FILTER_SLICE ({"agentId": [...], ...}, API names), which every section reads.

- options(): each multi-select's options from the window's data (no slice), with their cost, into
  the store ids.SLICE_OPTIONS (and the agents' names into ids.SLICE_NAMES);
- control(): a person changed a select or pressed «Quitar filtros»: the slice from the selects;
- chips(): the chips and «Quitar filtros» from the slice;
- assets/view_url.js `show` (clientside, no Output): the selects' options and values from the
  slice and ids.SLICE_OPTIONS, set together (a value never reaches a dropdown before its option);
- the drill-down callbacks (callbacks/slice_clicks.py) add one value to the store.

No callback chain leads back into the slice from what reads it (docs/filters.md, «The slice
callbacks' input loop»): dash-renderer holds every callback whose Input a pending callback may
still change, through any chain of callbacks, so a loop through the slice made every section
wait for whatever else was running. `show` writes the selects with set_props, outside the
callback graph; tests/test_slice_graph.py checks the graph has no such chain.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from layouts import ids, slice as slice_layout
from queries.filters import MAX_VALUES
from queries.slice_options import slice_options, user_options

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


def register(app) -> None:
    app.callback(
        Output(ids.SLICE_OPTIONS, "data"),
        Output(ids.SLICE_NAMES, "data"),
        *common.FILTERS,
        common.TOKEN,
        common.CURRENCY,
        # The names the page holds: the same names are not written again, so the chips (whose
        # Input they are) do not go back to the server after every filter change.
        State(ids.SLICE_NAMES, "data"),
    )(options)
    app.callback(
        Output(ids.FILTER_SLICE, "data"),
        Input(ids.SLICE_AGENT, "value"),
        Input(ids.SLICE_USER, "value"),
        Input(ids.SLICE_MODEL, "value"),
        Input(ids.SLICE_ACTION, "value"),
        Input(ids.SLICE_CLEAR, "n_clicks"),
        State(ids.FILTER_SLICE, "data"),
        # What the selects list (State: new options are no reason to write the slice).
        State(ids.SLICE_AGENT, "options"),
        State(ids.SLICE_USER, "options"),
        State(ids.SLICE_MODEL, "options"),
        State(ids.SLICE_ACTION, "options"),
        prevent_initial_call=True,
    )(control)
    app.callback(
        Output(ids.SLICE_CHIPS, "children"),
        Output(ids.SLICE_CLEAR, "hidden"),
        Input(ids.FILTER_SLICE, "data"),
        Input(ids.SLICE_NAMES, "data"),
    )(chips)
    # The selects follow the slice and the options: set_props from the browser, no Output, so
    # that nothing in the callback graph leads from the options (or the slice) back to the slice.
    app.clientside_callback(
        ClientsideFunction("view", "show"),
        Input(ids.FILTER_SLICE, "data"),
        Input(ids.SLICE_OPTIONS, "data"),
        *(State(sel, "value") for sel in SELECTS),
        *(State(sel, "options") for sel in SELECTS),
    )
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
        Output(ids.LINK_NOTICE, "children"),
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


def options(preset, start, end, source, granularity, tz, token, currency=None, shown=None):
    """The selects' options: the window's values with their cost, by dropdown id, and the agents'
    names (the values the slice holds beyond these are added in the browser: `show`); the
    names are not sent when they equal `shown`, what the page holds."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency)
    if scope.problem or scope.filters is None:
        return {}, {}
    f, money = scope.filters, scope.money
    try:
        opts = common.query(lambda conn: slice_options(conn, f), "page:slice-options", f)
        users = window_users(f)
    except common.Unavailable:
        return no_update, no_update
    names = {"agentId": {str(v): str(n) for v, n in zip(opts["agentId"]["value"], opts["agentId"]["name"]) if v}}

    return {
        ids.SLICE_AGENT: listed(opts["agentId"], "agentId", money, names),
        # The users by cost, the first USER_OPTIONS only: an org has tens of thousands, and
        # 25k options (2 MB) froze the browser ~5 s on every filter change; typing searches
        # every user of the window (callbacks/slice_search.py).
        ids.SLICE_USER: listed(users.iloc[:USER_OPTIONS], "userId", money, names),
        ids.SLICE_MODEL: listed(opts["provider"], "provider", money, names, "provider:")
        + listed(opts["model"], "model", money, names, "model:"),
        ids.SLICE_ACTION: listed(opts["actionType"], "actionType", money, names),
    }, (no_update if names == shown else names)


USER_OPTIONS = 100  # users the Usuario select lists before anything is typed


def window_users(f):
    """Every user of f's window by cost (queries.slice_options.user_options), one cached answer
    for the select's first options and for its search (callbacks/slice_search.py)."""
    return common.query(lambda conn: user_options(conn, f), "page:slice-users", f)


def listed(frame, api: str, money, names: dict | None = None, prefix: str = "") -> list[dict]:
    """Options of one select from a queries.slice_options frame (value, cost_e8, …), in its order."""
    out = []
    for r in frame.itertuples(index=False):
        value = slice_layout.NONE if r.value is None else str(r.value)
        out.append(
            slice_layout.option(prefix + value, slice_layout.value_label(api, value, names), int(r.cost_e8), money)
        )
    return out


def _same(a: dict, b: dict) -> bool:
    def canon(d: dict) -> dict:
        return {k: sorted(v) if isinstance(v, list) else v for k, v in d.items()}

    return canon(a) == canon(b)


def control(agent, user, model, action, _clear, sl, *options):
    """A select changed (a person, or `show` bringing it in line with the slice) or «Quitar
    filtros» was pressed: the slice the selects say. A value of the slice that its select does
    not list (not shown yet) was removed by no one: it stays."""
    current = clean(sl)
    kept = {k: v for k, v in current.items() if k == common.COMPARE}  # no slice change drops it
    if ctx.triggered_id == ids.SLICE_CLEAR:
        new: dict = dict(kept)
    else:
        new = {**from_selects(agent, user, model, action), **kept}
        listed = set()
        for opts in options:
            listed |= _listed(opts)
        for values, sel in zip(to_selects(current), SELECTS):
            for v in values:
                if v in listed:
                    continue
                for api in SELECTS[sel]:
                    prefix = f"{api}:" if sel == ids.SLICE_MODEL else ""
                    if not prefix or v.startswith(prefix):
                        raw = v[len(prefix) :]
                        new.setdefault(api, [])
                        if raw not in new[api]:
                            new[api].append(raw)
    if _same(new, current) and sl == current:
        return no_update
    return new


def chips(sl, names):
    """One chip per applied value (names as text), and «Quitar filtros» while any is applied."""
    current = clean(sl)
    return slice_layout.chips(current, _names(names)), not any(current.get(api) for api in API_NAMES)
