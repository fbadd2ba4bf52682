"""«CSV» of each chart's data: a click runs the chart's own query for the filters on screen and
sends the file (layouts/exports.py writes it; the grids export in the browser instead)."""

from __future__ import annotations

from dash import Input, Output, State, no_update

import queries
from layouts import exports, ids
from layouts.i18n import _

from . import common

CHARTS = {  # button id -> (the file's prefix key, fetch(conn, filters), rows(frame, money))
    ids.CSV_TREND: ("trend", lambda conn, f: queries.time_series(conn, f), exports.trend),
    ids.CSV_ACTIONS: ("actions", lambda conn, f: queries.time_series(conn, f, by_action=True), exports.actions),
    ids.CSV_MODELS: ("models", lambda conn, f: queries.model_efficiency(conn, f), exports.models),
    ids.CSV_HEATMAP: ("heatmap", lambda conn, f: queries.heatmap(conn, f), exports.heatmap),
}
# The filters on screen, read when the button is clicked (a filter change downloads nothing).
STATES = [State(i.component_id, i.component_property) for i in common.FILTERS]


def register(app) -> None:
    for button, (chart, fetch, build) in CHARTS.items():
        app.callback(
            Output(f"{button}-download", "data"),
            Output(f"{button}-status", "children"),
            Input(button, "n_clicks"),
            *STATES,
            State(ids.TOKEN, "data"),
            State(ids.CURRENCY, "data"),
            State(ids.FILTER_SLICE, "data"),
            prevent_initial_call=True,
        )(_downloader(chart, fetch, build))


def _downloader(chart, fetch, build):
    def download(n_clicks, preset, start, end, source, granularity, tz, token, currency=None, sl=None):
        """The chart's data as CSV for the filters on screen, and an empty status line; when they
        cannot be answered, no file and a status line that says why."""
        if not n_clicks:
            return no_update, no_update
        scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
        if scope.problem == "auth":
            return None, exports.failed(_(common.NO_ACCESS))
        if scope.problem or scope.filters is None:
            return None, exports.failed(scope.message or _(common.BAD_FILTERS))
        f = scope.filters
        try:
            frame = common.query(lambda conn: fetch(conn, f), f"page:csv:{chart}", f)
        except common.Unavailable as u:
            return None, exports.failed(u.message)
        header, rows = build(frame, scope.money)
        return exports.download(exports.PREFIXES[chart], f, header, rows), ""

    download.__name__ = f"download_{chart}"
    return download
