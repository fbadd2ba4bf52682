"""«Ver datos»: each chart's table, built only while its region is open (no query when closed).

One callback per chart: the toggle's clicks (odd = open) and the table's «stale» store in
(the filter bar as State), the table, aria-expanded and the button's text out. One
clientside callback writes the open tables' stores when their inputs move, so a closed
table sends no request at all. The table runs the same query the chart's callback runs
and goes through the same selection (layouts/datatables.py).
"""

from __future__ import annotations

import json

from dash import Input, Output, State

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


# A filter change reaches an open table only: the browser bumps the table's «stale» store
# when it is open and sends nothing when it is closed (a closed table used to cost one
# request per filter change, each holding one of the browser's six connections). One
# clientside callback serves every table (seven used to run on each filter change, each a
# round of Dash's callback bookkeeping in the browser): a table is bumped when it is open
# and one of its own inputs moved (each region listed with its inputs as "id.prop").
STALE_JS = """function () {
    const ctx = window.dash_clientside.callback_context, nu = window.dash_clientside.no_update;
    const moved = new Set((ctx.triggered || []).map(t => t.prop_id));
    const now = Date.now();
    return %s.map(([region, watched]) => {
        const n = ctx.states[region + "-button.n_clicks"];
        return typeof n === "number" && n %% 2 === 1 && watched.some(w => moved.has(w)) ? now : nu;
    });
}"""


def _watched(extra) -> list:
    return [*common.FILTERS, *extra, common.CURRENCY, common.SLICE]


def _prop(dep) -> str:
    return f"{dep.component_id}.{dep.component_property}"


def _as_state(dep):
    return State(dep.component_id, dep.component_property)


def register(app) -> None:
    regions = [(f"data-{chart}", [_prop(d) for d in _watched(extra)]) for chart, (extra, _f, _b) in CHARTS.items()]
    inputs = list({_prop(d): d for chart in CHARTS.values() for d in _watched(chart[0])}.values())
    app.clientside_callback(
        STALE_JS % json.dumps(regions),
        *[Output(f"{region}-stale", "data") for region, _w in regions],
        *[Input(d.component_id, d.component_property) for d in inputs],
        *[State(f"{region}-button", "n_clicks") for region, _w in regions],
        prevent_initial_call=True,
    )
    for chart, (extra, fetch, build) in CHARTS.items():
        region = f"data-{chart}"
        app.callback(
            Output(region, "children"),
            Output(f"{region}-button", "aria-expanded"),
            Output(f"{region}-button", "children"),
            Input(f"{region}-button", "n_clicks"),
            Input(f"{region}-stale", "data"),
            *[_as_state(d) for d in common.FILTERS],
            *[_as_state(d) for d in extra],
            common.TOKEN,
            _as_state(common.CURRENCY),
            _as_state(common.SLICE),
        )(_skipping_stale(_updater(chart, fetch, build, with_currency=True)))


def _skipping_stale(update):
    """update without the «stale» store's value (it only says when to run)."""

    def run(n_clicks, _stale, *rest):
        return update(n_clicks, *rest)

    run.__name__, run.__doc__, run.__wrapped__ = update.__name__, update.__doc__, update  # type: ignore[attr-defined]
    return run


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
