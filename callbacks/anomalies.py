"""Anomalías: the list of recent anomalous days, the markers' data for the trend, and the click
that narrows the page to a day and its first contributor (assets/anomalies.js, in the browser).

The anomalies of a question are computed once per data change: the list and the trend's
markers (callbacks/overview.py) share the answer cache's entry "page:anomalies".
"""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, html

from layouts import anomalies as view, ids
from queries.anomalies import Anomaly, agent_names, anomalies
from queries.filters import Filters

from . import common


def recent(f: Filters) -> tuple[list[Anomaly], dict[str, str]]:
    """f's anomalies (newest first) and the names of their agents; raises common.Unavailable."""
    return common.query(lambda conn: _both(conn, f), "page:anomalies", f)


def _both(conn, f: Filters) -> tuple[list[Anomaly], dict[str, str]]:
    found = anomalies(conn, f)
    return found, agent_names(conn, f.org_id, found)


def markers_or_none(f: Filters) -> tuple[list[Anomaly], dict[str, str]]:
    """recent(f), or nothing when the database cannot answer (the trend shows without markers)."""
    try:
        return recent(f)
    except common.Unavailable:
        return [], {}


def register(app) -> None:
    app.callback(
        Output(ids.ANOMALY_LIST, "children"),
        Output(ids.ANOMALY_DATA, "data"),
        Output(ids.SEC_ANOMALIES, "data-stamp"),
        *common.FILTERS,
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
    )(update)
    # A click: the day (custom dates through the filter bar's own controls, so applyFilters
    # validates and applies them) and the first contributor added to the slice.
    app.clientside_callback(
        ClientsideFunction("anomalies", "select"),
        Output(ids.PRESET, "value", allow_duplicate=True),
        Output(ids.DATES, "start_date", allow_duplicate=True),
        Output(ids.DATES, "end_date", allow_duplicate=True),
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Input({"type": view.ITEM, "index": ALL}, "n_clicks"),
        State(ids.ANOMALY_DATA, "data"),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )


def update(preset, start, end, source, granularity, tz, token, currency=None, sl=None):
    """The list (newest first) and what a click on each item applies; the slice narrows it as it
    narrows the trend's markers."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    if scope.problem:  # the banner says why (callbacks/overview.py)
        return [html.P(scope.message, className="anomaly-none")], [], scope.stamp
    f = scope.filters
    assert f is not None  # resolve() gives filters whenever there is no problem
    try:
        found, names = recent(f)
    except common.Unavailable as u:
        return [html.P(u.message, className="anomaly-none")], [], scope.stamp
    return view.items(found, names, scope.money), view.click_data(found), scope.stamp
