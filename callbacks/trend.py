"""Tendencia: time series and projection into the dual-axis chart."""
from __future__ import annotations

from dash import Output

import queries
from layouts import figures, ids, trend

from . import common


def register(app) -> None:
    app.callback(
        Output(ids.TREND_GRAPH, "figure"), Output(ids.TREND_NOTE, "children"), Output(ids.SEC_TREND, "data-stamp"),
        *common.FILTERS, common.TOKEN,
    )(update)


def update(preset, start, end, source, granularity, tz, token):
    """Cost and tokens per bucket of the active granularity, projection overlaid."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token)
    if scope.problem:
        return figures.empty(scope.message.split(":")[0], trend.HEIGHT), "", scope.stamp
    f = scope.filters
    try:
        ts, proj = common.query(lambda conn: (queries.time_series(conn, f), queries.projection(conn, f)))
    except common.Unavailable as u:
        return figures.empty(u.message, trend.HEIGHT, u.detail), "", scope.stamp
    # A preset window ends today: its last bucket is still running.
    fig = figures.trend(ts, f.granularity, proj, trend.HEIGHT, partial_last=f.preset is not None)
    if not int(ts["executions"].sum()):
        return fig, "", scope.stamp
    return fig, trend.projection_note(proj.status, f.granularity, proj.month_end, proj.daily_points), scope.stamp
