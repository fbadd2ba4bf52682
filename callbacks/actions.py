"""Desglose por acción: the per-action time series into the stacked area and the donut."""

from __future__ import annotations

from dash import Input, Output

import queries
from layouts import actions, figures, ids

from . import common


def register(app) -> None:
    app.callback(
        Output(ids.ACTIONS_AREA, "figure"),
        Output(ids.ACTIONS_DONUT, "figure"),
        Output(ids.SEC_ACTIONS, "data-stamp"),
        *common.FILTERS,
        Input(ids.ACTIONS_METRIC, "value"),
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
        common.THEME,
    )(common.themed(update))


def update(preset, start, end, source, granularity, tz, metric, token, currency=None, sl=None):
    """Both charts from one query: time_series grouped by action type."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    metric = metric if isinstance(metric, str) and metric in figures.actions.METRICS else "cost_usd"
    if scope.problem:
        blank = figures.empty(scope.message.split(":")[0], actions.HEIGHT)
        return blank, blank, scope.stamp
    f = scope.filters
    assert f is not None  # resolve() gives filters whenever there is no problem
    try:
        df = common.query(lambda conn: queries.time_series(conn, f, by_action=True), "page:actions", f)
    except common.Unavailable as u:
        blank = figures.empty(u.message, actions.HEIGHT, u.detail)
        return blank, blank, scope.stamp
    return (
        figures.actions_area(df, metric, f.granularity, actions.HEIGHT, scope.money),
        figures.actions_donut(df, metric, actions.HEIGHT, scope.money),
        scope.stamp,
    )
