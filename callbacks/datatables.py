"""«Ver datos»: each chart's table, built only while its region is open (no query when closed).

One callback per chart: the toggle's clicks (odd = open) and the table's «stale» store in
(the filter bar as State), the table, aria-expanded and the button's text out. The one
clientside callback of callbacks/stale.py writes the open tables' stores when their inputs
move, so a closed table sends no request at all. The table runs the same query the chart's
callback runs and goes through the same selection (layouts/datatables.py).
"""

from __future__ import annotations

from dash import Input, Output, State

import queries
from layouts import datatables as dt, ids
from layouts.i18n import _

from . import common, stale
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


def _watched(extra) -> list:
    return [*common.FILTERS, *extra, common.CURRENCY, common.SLICE]


def views() -> list[stale.View]:
    """Each table's «stale» store, bumped when the table is open (its button's clicks odd)
    and one of its own inputs moved (callbacks/stale.py)."""
    return [
        (f"data-{chart}-stale", _watched(extra), State(f"data-{chart}-button", "n_clicks"), "odd")
        for chart, (extra, _f, _b) in CHARTS.items()
    ]


def register(app) -> None:
    for chart, (extra, fetch, build) in CHARTS.items():
        region = f"data-{chart}"
        app.callback(
            Output(region, "children"),
            Output(f"{region}-button", "aria-expanded"),
            Output(f"{region}-button", "children"),
            Input(f"{region}-stale", "data"),
            Input(f"{region}-button", "n_clicks"),
            *[stale.as_state(d) for d in common.FILTERS],
            *[stale.as_state(d) for d in extra],
            common.TOKEN,
            stale.as_state(common.CURRENCY),
            stale.as_state(common.SLICE),
        )(stale.skipping_first(_updater(chart, fetch, build, with_currency=True)))


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
