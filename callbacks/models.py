"""Modelos: model efficiency into the top-10 bars (cost or tokens), the bubbles and their key."""

from __future__ import annotations

from dash import Input, Output

import queries
from layouts import figures, ids, models, textdom
from layouts.figures import models as fm
from layouts.i18n import _
from queries.token_prices import token_prices

from . import common, drawn


def register(app) -> None:
    app.callback(
        Output(ids.MODELS_BARS, "figure"),
        Output(ids.MODELS_BUBBLE, "figure"),
        Output(ids.MODELS_NOTE, "children"),
        Output(ids.MODELS_KEY_VIEW, "data"),
        Output(ids.MODELS_BARS_TITLE, "children"),
        # Dash marks the section loading while this is pending; its data-stamp: callbacks/drawn.py
        Output(ids.SEC_MODELS, "data-answered"),
        *common.FILTERS,
        Input(ids.MODELS_VIEW, "value"),
        Input(ids.MODELS_SCALE, "value"),
        Input(ids.MODELS_LATENCY, "value"),
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
        common.THEME,
    )(common.themed(update))
    drawn.register_draw(app, ids.MODELS_KEY_VIEW, ids.SEC_MODELS)  # the tree on the page, then the section's stamp


def update(preset, start, end, source, granularity, tz, view, scale, latency, token, currency=None, sl=None):
    """One query (model_efficiency) and the prices feed both charts, the key and the note: (bars,
    bubbles, note, the key's textdom view — whose stamp the section gets once it is drawn — the
    bars' title, and the stamp as the section's data-answered)."""
    view = view if isinstance(view, str) and view in fm.VIEWS else "cost"
    scale = scale if isinstance(scale, str) and scale in fm.SCALES else "linear"
    latency = latency if isinstance(latency, str) and latency in fm.LATENCIES else "avg"
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    if scope.problem:
        blank = figures.empty(scope.message.split(":")[0], models.HEIGHT)
        return blank, blank, None, _key(scope.stamp), _(models.TITLES[view]), scope.stamp
    f = scope.filters
    try:
        df, prices = common.query(lambda conn: fetch(conn, f), "page:models", f)
    except common.Unavailable as u:
        blank = figures.empty(u.message, models.HEIGHT, u.detail)
        return blank, blank, None, _key(scope.stamp), _(models.TITLES[view]), scope.stamp
    lat = df[df["avg_latency_ms"].notna()] if len(df) else df
    zero = int((lat["cost_usd"] <= 0).sum()) if scale == "log" and len(lat) else 0
    note = models.models_note(figures.without_latency(df), len(df) - fm.TOP, zero)
    return (
        figures.models_bars(df, models.HEIGHT, view, prices, scope.money),
        figures.models_bubble(df, models.HEIGHT, scale, latency, scope.money),
        note,
        _key(scope.stamp, models.bubble_key(fm.bubble_models(df, scale), scope.money)),
        _(models.TITLES[view]),
        scope.stamp,
    )


def _key(stamp: str, tree: textdom.Node | None = None) -> dict:
    return textdom.view(ids.MODELS_KEY, stamp, tree)


def fetch(conn, f):
    df = queries.model_efficiency(conn, f)
    return df, token_prices(conn, zip(df["provider"], df["model"]))
