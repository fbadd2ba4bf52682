"""«Mayores cambios»: each agent's, model's and user's cost in the window and in its earlier one
(queries.earlier, queries.cost_changes: costs only, every key of both windows, users included);
a click on an entry adds its filter to the slice (ids.FILTER_SLICE), as the drill-down clicks
do (callbacks/slice.py). The entries are a text-only tree (ids.CHANGES_VIEW) that
assets/textdom.js draws, and a click reaches the server as ids.CHANGES_CLICK (layouts/textdom.py
says why).
"""

from __future__ import annotations

import pandas as pd
from dash import Input, Output, State, no_update

import queries
from layouts import agents as agents_layout, changes, compare, ids, slice as slice_layout, textdom
from layouts.i18n import _

from . import common, drawn
from .slice_clicks import with_value


def register(app) -> None:
    app.callback(
        Output(ids.SEC_CHANGES, "hidden"),
        Output(ids.CHANGES_BODY, "children"),
        Output(ids.CHANGES_VIEW, "data"),
        Output(ids.CHANGES_KEYS, "data"),
        # Dash marks the section loading while this is pending; its data-stamp: callbacks/drawn.py
        Output(ids.SEC_CHANGES, "data-answered"),
        *common.FILTERS,
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
    )(update)
    drawn.register_draw(app, ids.CHANGES_VIEW, ids.SEC_CHANGES)  # the tree on the page, then the section's stamp
    app.callback(
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Input(ids.CHANGES_CLICK, "data"),
        State(ids.CHANGES_KEYS, "data"),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )(click)


def movers(agents: pd.DataFrame, names: dict[str, str], models: pd.DataFrame, users: pd.DataFrame) -> list:
    """The three dimensions as changes.Mover lists (frames from queries.cost_changes; names:
    agent id -> name, an id without one reads as itself)."""
    out = []
    rows = []
    for r in agents.to_dict("records"):
        agent = r["agent_id"]
        label = names.get(agent, agent) if agent is not None else _(agents_layout.NO_AGENT)
        value = agent if agent is not None else slice_layout.NONE
        rows.append(changes.Mover("agentId", value, label, "", int(r["cost_e8"]), int(r["previous_e8"])))
    out.append((changes.GROUPS[0][1], rows))
    by_model: dict[str, list] = {}  # the slice filters by model name: providers of one name add up
    for r in models.to_dict("records"):
        m = by_model.setdefault(str(r["model"]), [set(), 0, 0])
        m[0].add(str(r["provider"]))
        m[1] += int(r["cost_e8"])
        m[2] += int(r["previous_e8"])
    rows = [changes.Mover("model", k, k, " · ".join(sorted(p)), c, pc) for k, (p, c, pc) in by_model.items()]
    out.append((changes.GROUPS[1][1], rows))
    rows = []
    for r in users.to_dict("records"):
        user = r["user_id"]
        label = user if user is not None else _(slice_layout.NO_USER)
        value = user if user is not None else slice_layout.NONE
        rows.append(changes.Mover("userId", value, label, "", int(r["cost_e8"]), int(r["previous_e8"])))
    out.append((changes.GROUPS[2][1], rows))
    return out


def update(preset, start, end, source, granularity, tz, token, currency=None, sl=None):
    """Hidden without a comparison (or without access); else the biggest movers of each dimension:
    (hidden, empty state or [], the entries' textdom view, the keys of its entries, the stamp as
    the section's data-answered)."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    f = scope.filters
    if scope.problem or f is None or not f.compare:
        return True, [], _entries(scope.stamp), [], scope.stamp
    b = queries.earlier(f)
    assert b is not None  # a comparison has an earlier window

    def read(conn):
        agents = queries.cost_changes(conn, f, b, ["agent_id"])
        names = queries.agent_names(conn, f.org_id, [a for a in agents["agent_id"] if a is not None])
        models = queries.cost_changes(conn, f, b, ["provider", "model"])
        # Every user of both windows is compared; the page needs a handful of them.
        users = queries.biggest_changes(queries.cost_changes(conn, f, b, ["user_id"]), changes.TOP)
        return agents, names, models, users

    try:
        agents, names, models, users = common.query(read, "page:changes", f)
    except common.Unavailable as u:
        return (
            False,
            changes.unavailable(u.message, u.detail),
            _entries(scope.stamp),
            [],
            scope.stamp,
        )
    tree, keys = changes.render(movers(agents, names, models, users), compare.period_name(f.compare, b), scope.money)
    return False, [], _entries(scope.stamp, tree), keys, scope.stamp


def _entries(stamp: str, tree: textdom.Node | None = None) -> dict:
    """The entries' textdom view (None: none drawn), stamped for the section once drawn."""
    return textdom.view(ids.CHANGES_LIST, stamp, tree)


def click(clicked, keys, sl):
    """An entry's click ({"i": its index, "n": clicks so far}, from assets/textdom.js): its
    [api, value] (by index, from the keys store) added to the slice."""
    if not isinstance(clicked, dict) or not isinstance(keys, list):
        return no_update
    i = clicked.get("i")
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(keys):
        return no_update
    key = keys[i]
    if not (isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key)):
        return no_update
    return with_value(sl, key[0], key[1])
