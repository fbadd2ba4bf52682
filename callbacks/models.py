"""Modelos: model efficiency into the top-10 bars and the cost/latency bubbles."""
from __future__ import annotations

from dash import Output

import queries
from layouts import figures, ids, models

from . import common


def register(app) -> None:
    app.callback(
        Output(ids.MODELS_BARS, "figure"), Output(ids.MODELS_BUBBLE, "figure"), Output(ids.MODELS_NOTE, "children"),
        Output(ids.SEC_MODELS, "data-stamp"),
        *common.FILTERS, common.TOKEN,
    )(update)


def update(preset, start, end, source, granularity, tz, token):
    """One query (model_efficiency) feeds both charts and the note on models left out."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token)
    if scope.problem:
        blank = figures.empty(scope.message.split(":")[0], models.HEIGHT)
        return blank, blank, None, scope.stamp
    f = scope.filters
    try:
        df = common.query(lambda conn: queries.model_efficiency(conn, f))
    except common.Unavailable as u:
        blank = figures.empty(u.message, models.HEIGHT, u.detail)
        return blank, blank, None, scope.stamp
    note = models.models_note(figures.without_latency(df), len(df) - figures.models.TOP)
    return figures.models_bars(df, models.HEIGHT), figures.models_bubble(df, models.HEIGHT), note, scope.stamp
