"""Usuarios: by_user's ranking into the grid, «otros» pinned under it, the comparison beside
it when one is set; a row click adds the user to the slice. Search and CSV run in the browser."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from dash import Input, Output, State, no_update

from layouts import ids, slice as slice_layout, users
from layouts.grids import LOCALE_TEXT
from layouts.i18n import _
from queries.compare import earlier
from queries.filters import Filters
from queries.users import by_user, by_user_compared

__all__ = ["earlier"]  # the comparison's window, for tests and readers of this module

from . import common, grids as grid_tools
from .slice_clicks import with_value


@dataclass(frozen=True)
class Ranked:
    """by_user's answer; compared, users carry previous_cost_usd and others_previous is the
    earlier cost of everyone not listed (so the earlier column adds up too)."""

    users: pd.DataFrame
    total_users: int
    others: dict
    others_previous: float | None = None


def fetch(conn, f: Filters, limit: int) -> Ranked:
    """The top `limit` users; with f.compare, queries.users.by_user_compared: each listed user's
    earlier cost (whatever its rank there), and the earlier top users with no usage now appended
    with zeros (Δ −100 %: who stopped)."""
    if f.compare is None:
        got = by_user(conn, f, limit)
        return Ranked(_plain_ids(got.users), got.total_users, got.others)
    got = by_user_compared(conn, f, limit)
    return Ranked(_plain_ids(got.users), got.total_users, got.others, float(got.others["previous_cost_usd"]))


def _plain_ids(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with the row without a user as None (pandas may hold it as NaN)."""
    ids_ = [None if u is None or u != u else str(u) for u in df["user_id"]]
    return df.assign(user_id=pd.Series(ids_, index=df.index, dtype=object))


def register(app) -> None:
    app.callback(
        Output(ids.USERS_GRID, "rowData"),
        Output(ids.USERS_COUNT, "children"),
        Output(ids.USERS_TOTAL, "children"),
        Output(ids.SEC_USERS, "data-stamp"),
        Output(ids.USERS_GRID, "dashGridOptions"),
        Output(ids.USERS_GRID, "csvExportParams"),
        Output(ids.USERS_GRID, "columnDefs"),
        *common.FILTERS,
        Input(ids.USERS_LIMIT, "value"),
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
    )(update)
    grid_tools.browser_tools(app, ids.USERS_GRID, ids.USERS_EXPORT, ids.USERS_SEARCH, ids.USERS_MATCHES)
    # Drill-down: a user's row narrows the whole page to that user (as an agent's row does).
    app.callback(
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Input(ids.USERS_GRID, "cellClicked"),
        State(ids.USERS_GRID, "rowData"),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )(click_user)


def update(preset, start, end, source, granularity, tz, limit, token, currency=None, sl=None):
    """Rows for the grid ranked by cost (the grid re-sorts in the browser), «otros» pinned below."""
    n = users.limit_of(limit)
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    nothing = _(LOCALE_TEXT["noRowsToShow"])
    if scope.problem:
        title = scope.message.split(":")[0]
        return [], title, "", scope.stamp, users.grid_options(title, []), no_update, no_update
    f = scope.filters
    assert f is not None  # resolve() gives filters whenever there is no problem
    money = scope.money
    export, columns = users.csv_params(f, money), users.column_defs(money, compare=bool(f.compare))
    try:
        got = common.query(lambda conn: fetch(conn, f, n), f"page:users:{n}", f)
    except common.Unavailable as u:
        return [], u.detail, "", scope.stamp, users.grid_options(u.message, []), export, columns
    shown = int((got.users["executions"] > 0).sum()) if len(got.users) else 0  # not the appended earlier-only
    pinned = users.others_row(got.others, got.total_users - shown, money, got.others_previous)
    total_e8 = int(got.users["cost_e8"].sum()) + int(got.others["cost_e8"]) if shown else 0
    return (
        users.rows(got.users, money),
        users.count_line(shown, got.total_users),
        users.total_line(total_e8, money),
        scope.stamp,
        users.grid_options(nothing, pinned),
        export,
        columns,
    )


def click_user(cell, rows, sl):
    """A user's row (any cell): its user_id, or `none` for «Sin usuario»; «otros» filters nothing."""
    if not isinstance(cell, dict) or not isinstance(rows, list):
        return no_update
    row = next((r for r in rows if isinstance(r, dict) and r.get("row_key") == cell.get("rowId")), None)
    if row is None or row.get("row_key") == users.OTHERS_KEY:
        return no_update
    user = row.get("user_id")
    return with_value(sl, "userId", user if isinstance(user, str) else slice_layout.NONE)
