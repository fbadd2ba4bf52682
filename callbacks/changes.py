"""«Mayores cambios»: by_agent, model_efficiency and by_user on the window and its earlier one
(queries.earlier), put side by side (queries.beside_rows); a click on an entry adds its filter
to the slice (ids.FILTER_SLICE), as the drill-down clicks do (callbacks/slice.py).

Users: the top USERS of each window by cost (queries.by_user reads sparklines for its top
only); a user outside both tops moved less than any user listed can have, or nearly so.
"""

from __future__ import annotations

import pandas as pd
from dash import ALL, Input, Output, State, ctx, no_update

import queries
from layouts import agents as agents_layout, changes, compare, ids, slice as slice_layout
from layouts.i18n import _

from . import common
from .slice_clicks import with_value

USERS = 200


def register(app) -> None:
    app.callback(
        Output(ids.SEC_CHANGES, "hidden"),
        Output(ids.CHANGES_BODY, "children"),
        Output(ids.CHANGES_KEYS, "data"),
        Output(ids.SEC_CHANGES, "data-stamp"),
        *common.FILTERS,
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
    )(update)
    app.callback(
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Input({"type": changes.ITEM, "index": ALL}, "n_clicks"),
        State(ids.CHANGES_KEYS, "data"),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )(click)


def _e8(usd) -> int:
    return round(float(usd) * 1e8)


def movers(agents: pd.DataFrame, models: pd.DataFrame, users: pd.DataFrame) -> list:
    """The three dimensions as changes.Mover lists (frames from beside_rows)."""
    out = []
    rows = []
    for r in agents.to_dict("records"):
        agent = None if pd.isna(r["agent_id"]) else str(r["agent_id"])
        name = str(r["name"]) if agent is not None and r.get("name") is not None else None
        label = name if agent is not None else _(agents_layout.NO_AGENT)
        value = agent if agent is not None else slice_layout.NONE
        rows.append(
            changes.Mover("agentId", value, label or value, "", _e8(r["cost_usd"]), _e8(r["previous_cost_usd"]))
        )
    out.append((changes.GROUPS[0][1], rows))
    by_model: dict[str, list] = {}  # the slice filters by model name: providers of one name add up
    for r in models.to_dict("records"):
        m = by_model.setdefault(str(r["model"]), [set(), 0, 0])
        m[0].add(str(r["provider"]))
        m[1] += _e8(r["cost_usd"])
        m[2] += _e8(r["previous_cost_usd"])
    rows = [changes.Mover("model", k, k, " · ".join(sorted(p)), c, pc) for k, (p, c, pc) in by_model.items()]
    out.append((changes.GROUPS[1][1], rows))
    rows = []
    for r in users.to_dict("records"):
        user = None if pd.isna(r["user_id"]) else str(r["user_id"])
        label = user if user is not None else _(slice_layout.NO_USER)
        value = user if user is not None else slice_layout.NONE
        rows.append(changes.Mover("userId", value, label, "", _e8(r["cost_usd"]), _e8(r["previous_cost_usd"])))
    out.append((changes.GROUPS[2][1], rows))
    return out


def update(preset, start, end, source, granularity, tz, token, currency=None, sl=None):
    """Hidden without a comparison (or without access); else the biggest movers of each dimension."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    f = scope.filters
    if scope.problem or f is None or not f.compare:
        return True, [], [], scope.stamp
    b = queries.earlier(f)
    assert b is not None  # a comparison has an earlier window

    def read(conn):
        return (
            queries.beside_rows(queries.by_agent(conn, f), queries.by_agent(conn, b), ["agent_id"]),
            queries.beside_rows(
                queries.model_efficiency(conn, f), queries.model_efficiency(conn, b), ["provider", "model"]
            ),
            queries.beside_rows(
                queries.by_user(conn, f, USERS).users, queries.by_user(conn, b, USERS).users, ["user_id"]
            ),
        )

    try:
        agents, models, users = common.query(read, "page:changes", f)
    except common.Unavailable as u:
        return False, changes.unavailable(u.message, u.detail), [], scope.stamp
    body, keys = changes.render(movers(agents, models, users), compare.period_name(f.compare, b), scope.money)
    return False, body, keys, scope.stamp


def click(clicks, keys, sl):
    """An entry's click: its [api, value] (by index, from the keys store) added to the slice."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not isinstance(keys, list):
        return no_update
    i = trigger.get("index")
    fired = ctx.triggered[0].get("value") if ctx.triggered else None
    if not fired or not isinstance(i, int) or not 0 <= i < len(keys):
        return no_update
    key = keys[i]
    if not (isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key)):
        return no_update
    return with_value(sl, key[0], key[1])
