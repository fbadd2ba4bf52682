"""KPI cards, the status banner and the window label: summary, cache savings, projection."""
from __future__ import annotations

from dash import Output

import queries
from layouts import fmt, ids, kpis, states, theme
from layouts.filters import describe_granularity

from . import common

LABELS = [label for _, label in kpis.CARDS]


def register(app) -> None:
    app.callback(
        Output(ids.KPI_COST, "children"), Output(ids.KPI_TOKENS, "children"),
        Output(ids.KPI_CACHE, "children"), Output(ids.KPI_PROJECTION, "children"),
        Output(ids.BANNER, "children"), Output(ids.WINDOW_LABEL, "children"),
        Output(ids.SEC_KPIS, "data-stamp"),
        *common.FILTERS, common.TOKEN,
    )(update)


def _all(message: str, banner, window, key):
    return (*[kpis.unavailable(label, message) for label in LABELS], banner, window, key)


def update(preset, start, end, source, granularity, tz, token):
    """Answer the four cards for the current filters (three queries on one connection)."""
    scope = common.resolve(preset, start, end, source, granularity, tz, token)
    if scope.problem == "auth":
        return _all(common.NO_ACCESS, None, "", scope.stamp)
    if scope.problem:
        return _all(common.BAD_FILTERS, states.banner(scope.message, "warning", "Filtros no válidos."), "",
                    scope.stamp)
    f = scope.filters
    window = f"{fmt.window(f.start_date, f.end_date)} · {describe_granularity(f.requested_granularity, f.granularity)}"
    try:
        s, c, p = common.query(lambda conn: (queries.summary(conn, f), queries.cache_savings(conn, f),
                                             queries.projection(conn, f)))
    except common.Unavailable as u:
        return _all(u.message, states.db_unavailable(u.timeout), window, scope.stamp)
    s, c = s.iloc[0].to_dict(), c.iloc[0].to_dict()
    c["hit_rate"] = None if c["hit_rate"] is None or c["hit_rate"] != c["hit_rate"] else float(c["hit_rate"])
    return (kpis.cost_card(s), kpis.tokens_card(s), kpis.cache_card(c, theme.SOURCE_LABELS[f.source]),
            kpis.projection_card(p), None, window, scope.stamp)
