"""Avanzado: heatmap, Sistema vs BYOK and cache savings, computed only while the section is open."""

from __future__ import annotations

import pandas as pd
from dash import ClientsideFunction, Input, Output, State
from dash.exceptions import PreventUpdate

import queries
from layouts import advanced, cache as cache_layout, figures, ids, theme
from storage.sources import KNOWN, SPLIT

from . import common, stale


def register(app) -> None:
    app.callback(
        Output(ids.HEATMAP, "figure"),
        Output(ids.SOURCE_SPLIT, "figure"),
        Output(ids.SOURCE_SPLIT_TABLE, "children"),
        Output(ids.CACHE_DETAIL, "children"),
        Output(ids.CACHE_TIMELINE, "figure"),
        Output(ids.CACHE_MODELS, "children"),
        Output(ids.SEC_ADVANCED, "data-stamp"),
        # Opening the section runs it; while open, its «stale» store does (callbacks/stale.py):
        # a filter change while it is collapsed sends it no request.
        Input(ids.ADVANCED_STALE, "data"),
        *[stale.as_state(d) for d in common.FILTERS],
        Input(ids.ADVANCED_COLLAPSE, "is_open"),
        common.TOKEN,
        stale.as_state(common.CURRENCY),
        stale.as_state(common.SLICE),
        stale.as_state(common.THEME),
    )(stale.skipping_first(common.themed(update)))
    app.clientside_callback(
        ClientsideFunction("dashboard", "toggleAdvanced"),
        Output(ids.ADVANCED_COLLAPSE, "is_open"),
        Output(ids.ADVANCED_TOGGLE, "aria-expanded"),
        Input(ids.ADVANCED_TOGGLE, "n_clicks"),
        State(ids.ADVANCED_COLLAPSE, "is_open"),
        prevent_initial_call=True,
    )


def view() -> stale.View:
    """The section's «stale» store: bumped while it is open and one of its inputs moves."""
    watched = [*common.FILTERS, common.CURRENCY, common.SLICE, common.THEME]
    return (ids.ADVANCED_STALE, watched, State(ids.ADVANCED_COLLAPSE, "is_open"), True)


def _split(conn, f) -> pd.DataFrame:
    """summary() once per source class, whatever the page's source filter. Rows whose source
    reads neither system nor byok (storage/sources.py) are «Otro», listed when there are
    some: the parts then add up to Todos."""
    rows = []
    for source in SPLIT:
        s = queries.summary(conn, f.with_source(source)).iloc[0]
        if source not in KNOWN and not int(s["executions"]):
            continue
        rows.append(
            {
                "source": source,
                "cost_usd": float(s["total_cost_usd"]),
                "tokens": int(s["total_tokens"]),
                "executions": int(s["executions"]),
            }
        )
    return pd.DataFrame(rows)


def update(preset, start, end, source, granularity, tz, is_open, token, currency=None, sl=None):
    """Four queries (cache economics: totals, timeline and models at once), only when the section
    is open (it is collapsed by default)."""
    if is_open is not True:  # the collapse's boolean; anything else (forged) opens nothing
        raise PreventUpdate
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    if scope.problem:
        msg = scope.message.split(":")[0]
        return (
            figures.empty(msg, advanced.HEATMAP_HEIGHT),
            figures.empty(msg, advanced.SPLIT_HEIGHT),
            None,
            None,
            figures.empty(msg, cache_layout.TIMELINE_HEIGHT),
            None,
            scope.stamp,
        )
    f = scope.filters
    assert f is not None  # resolve() gives filters whenever there is no problem
    try:
        heat, split, cache = common.query(
            lambda conn: (queries.heatmap(conn, f), _split(conn, f), queries.cache_economics(conn, f)),
            "page:advanced",
            f,
        )
    except common.Unavailable as u:
        return (
            figures.empty(u.message, advanced.HEATMAP_HEIGHT, u.detail),
            figures.empty(u.message, advanced.SPLIT_HEIGHT),
            None,
            None,
            figures.empty(u.message, cache_layout.TIMELINE_HEIGHT),
            None,
            scope.stamp,
        )
    c = common.cache_row(cache.total)
    return (
        figures.heatmap(heat, f.timezone, advanced.HEATMAP_HEIGHT, scope.money),
        figures.source_split(split, advanced.SPLIT_HEIGHT, scope.money),
        advanced.split_table(split, scope.money),
        advanced.cache_detail(c, theme.source_label(f.source), scope.money),
        figures.cache_timeline(cache.points, f.granularity, cache_layout.TIMELINE_HEIGHT, scope.money),
        cache_layout.models_table(cache.models, scope.money),
        scope.stamp,
    )
