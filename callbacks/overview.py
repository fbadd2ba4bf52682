"""KPI cards and Tendencia in one callback: both need the month-end projection, computed once.

Also the status banner (bad filters, database down) and the window label of the header.

With a comparison (scope.filters.compare, contract §3.2) the same questions are asked of
the earlier window (queries.earlier) on the same connection: the cost, tokens and cache
cards gain their change (layouts/compare.py; the projection has none) and Tendencia its
ghost line (layouts/figures/ghost.py), bucket by bucket (queries.align_points).
"""

from __future__ import annotations

from dash import Output

import queries
from layouts import compare, figures, fmt, ids, kpis, slice, states, theme, trend
from layouts.figures import anomalies as anomaly_markers, ghost
from layouts.filters import describe_granularity
from layouts.i18n import _

from . import anomalies, common

LABELS = [label for _slot, label in kpis.CARDS]


def register(app) -> None:
    app.callback(
        Output(ids.KPI_COST, "children"),
        Output(ids.KPI_TOKENS, "children"),
        Output(ids.KPI_CACHE, "children"),
        Output(ids.KPI_PROJECTION, "children"),
        Output(ids.TREND_GRAPH, "figure"),
        Output(ids.TREND_NOTE, "children"),
        Output(ids.BANNER, "children"),
        Output(ids.WINDOW_LABEL, "children"),
        Output(ids.SEC_KPIS, "data-stamp"),
        Output(ids.SEC_TREND, "data-stamp"),
        *common.FILTERS,
        common.TOKEN,
        common.CURRENCY,
        common.SLICE,
        common.THEME,
    )(common.themed(update))


def _nothing(message: str, hint, banner, window: str, key: str) -> tuple:
    message = _(message)
    cards = [kpis.unavailable(label, message) for label in LABELS]
    return (*cards, figures.empty(message, trend.HEIGHT, hint), "", banner, window, key, key)


def update(preset, start, end, source, granularity, tz, token, currency=None, sl=None):
    """Summary, cache savings, projection and the time series on one connection."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency, sl)
    if scope.problem == "auth":  # e.g. the token expired while the page was open
        return _nothing(common.NO_ACCESS, None, states.session_expired(), "", scope.stamp)
    if scope.problem:
        banner = states.banner(scope.message, "warning", _("Filtros no válidos."))
        return _nothing(common.BAD_FILTERS, None, banner, "", scope.stamp)
    f, money = scope.filters, scope.money
    assert f is not None  # resolve() gives filters whenever there is no problem
    window = f"{fmt.window(f.start_date, f.end_date)} · {describe_granularity(f.requested_granularity, f.granularity)}"
    b = queries.earlier(f)  # the comparison's earlier window (None without one)
    try:
        s, c, p, ts, prev = common.query(
            lambda conn: (
                queries.summary(conn, f),
                queries.cache_savings(conn, f),
                queries.projection(conn, f),
                queries.time_series(conn, f),
                (queries.summary(conn, b), queries.cache_savings(conn, b), queries.time_series(conn, b)) if b else None,
            ),
            "page:overview",
            f,
        )
    except common.Unavailable as u:
        return _nothing(u.message, u.detail, states.db_unavailable(u.timeout), window, scope.stamp)
    s, c = s.iloc[0].to_dict(), common.cache_row(c)
    # Partial buckets (in progress, cut by the window) come marked in ts["partial"].
    fig = figures.trend(ts, f.granularity, p, trend.HEIGHT, money)
    if prev is not None and b is not None and f.compare:
        name = compare.period_name(f.compare, b)
        fig = ghost.add_previous(fig, queries.align_points(ts, prev[2]), prev[2], f.granularity, name, money)
    fig = anomaly_markers.add_markers(fig, ts, *anomalies.markers_or_none(f), money)  # ▲▼ on anomalous days
    drawn = (fig.layout.get("meta") or {}).get("projection") if not figures.is_empty(fig) else None
    note = trend.projection_note(p, f.granularity, drawn, money) if s["executions"] else ""
    banner = None if s["executions"] else states.no_usage(theme.source_label(f.source) if f.source != "all" else None)
    if not s["executions"] and f.slice_items:  # the slice emptied the page: say which filter
        banner = states.banner(slice.emptied(f.slice_echo, _slice_names(f)), "info")
    cards = [kpis.cost_card(s, money), kpis.tokens_card(s), kpis.cache_card(c, theme.source_label(f.source), money)]
    if prev is not None and b is not None and f.compare:
        cards = _with_deltas(cards, s, c, prev, f.compare, b, money)
    return (
        *cards,
        kpis.projection_card(p, money),
        fig,
        note,
        banner,
        window,
        scope.stamp,
        scope.stamp,
    )


def _slice_names(f) -> dict:
    """The agents' names for the emptied-page banner, as the chips show them (ids when unreadable)."""
    if not f.agent_ids:
        return {}
    try:
        names = common.query(lambda conn: queries.agent_names(conn, f.org_id, f.agent_ids), "page:overview:names", f)
    except common.Unavailable:
        return {}
    return {"agentId": names}


def _with_deltas(cards: list, s: dict, c: dict, prev: tuple, how: str, b, money: fmt.Money) -> list:
    """The cost, tokens and cache cards with their change against the earlier window."""
    ps, pc = prev[0].iloc[0].to_dict(), common.cache_row(prev[1])
    if not (s["executions"] or ps["executions"]):
        return cards  # nothing in either window: «Sin datos», no «sin cambios»
    e8 = round(float(s["total_cost_usd"]) * 1e8), round(float(ps["total_cost_usd"]) * 1e8)
    lines = [
        compare.delta(compare.COST, *e8, how, b, fmt.usd(ps["total_cost_usd"], money=money)),
        compare.delta(
            compare.TOKENS,
            int(s["total_tokens"]),
            int(ps["total_tokens"]),
            how,
            b,
            _("{n} tokens").format(n=fmt.integer(ps["total_tokens"])),
        ),
        compare.delta(compare.RATE, c["hit_rate"], pc["hit_rate"], how, b, fmt.percent(pc["hit_rate"])),
    ]
    return [compare.with_delta(card, line) for card, line in zip(cards, lines, strict=True)]
