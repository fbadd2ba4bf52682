"""«Ver datos»: each chart's table, built only while its region is open (no query when closed).

One callback per chart: the toggle's clicks (odd = open) and the filter bar in, the
table, aria-expanded and the button's text out. The table runs the same query the
chart's callback runs and goes through the same selection (layouts/datatables.py).
"""

from __future__ import annotations

from dash import Input, Output

import queries
from layouts import datatables as dt, ids
from layouts.i18n import _

from . import common
from .advanced import _split
from .models import fetch as _models

CHARTS = {  # chart -> (extra Inputs, fetch(conn, filters), build(frame, filters, *extra, money))
    "trend": (
        [],
        lambda conn, f: queries.time_series(conn, f),
        lambda ts, f, money: dt.trend_table(ts, f.granularity, money),
    ),
    "actions-area": (
        [Input(ids.ACTIONS_METRIC, "value")],
        lambda conn, f: queries.time_series(conn, f, by_action=True),
        lambda df, f, metric, money: dt.actions_area_table(df, dt.fa_metric(metric), f.granularity, money),
    ),
    "actions-donut": (
        [Input(ids.ACTIONS_METRIC, "value")],
        lambda conn, f: queries.time_series(conn, f, by_action=True),
        lambda df, f, metric, money: dt.actions_donut_table(df, dt.fa_metric(metric), money),
    ),
    "models-bars": (
        [Input(ids.MODELS_VIEW, "value")],
        _models,
        lambda d, f, view, money: dt.models_bars_table(
            d[0], view if view in ("cost", "tokens") else "cost", d[1], money
        ),
    ),
    "models-bubble": (
        [Input(ids.MODELS_SCALE, "value")],
        lambda conn, f: queries.model_efficiency(conn, f),
        lambda df, f, scale, money: dt.bubbles_table(df, scale if scale in ("linear", "log") else "linear", money),
    ),
    "heatmap": ([], lambda conn, f: queries.heatmap(conn, f), lambda df, f, money: dt.heatmap_table(df, f.timezone)),
    "split": ([], _split, lambda df, f, money: dt.split_table(df, money)),
}


def register(app) -> None:
    for chart, (extra, fetch, build) in CHARTS.items():
        region = f"data-{chart}"
        app.callback(
            Output(region, "children"),
            Output(f"{region}-button", "aria-expanded"),
            Output(f"{region}-button", "children"),
            Input(f"{region}-button", "n_clicks"),
            *common.FILTERS,
            *extra,
            common.TOKEN,
            common.CURRENCY,
            common.SLICE,
        )(_updater(chart, fetch, build, with_currency=True))


def _updater(chart, fetch, build, with_currency: bool = False):
    def update(n_clicks, preset, start, end, source, granularity, tz, *rest):
        # The page sends the currency last (register); a caller without it gets USD.
        *extra, token, currency, sl = rest if with_currency else (*rest, None, None)
        if not (isinstance(n_clicks, int) and n_clicks % 2 == 1):
            return None, "false", _(dt.CLOSED)
        scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
        if scope.problem:
            return dt.unavailable(scope.message), "true", _(dt.OPEN)
        try:
            frame = common.query(lambda conn: fetch(conn, scope.filters), "page:data:" + chart, scope.filters)
        except common.Unavailable as u:
            return dt.unavailable(u.detail), "true", _(dt.OPEN)
        return build(frame, scope.filters, *extra, scope.money), "true", _(dt.OPEN)

    return update
