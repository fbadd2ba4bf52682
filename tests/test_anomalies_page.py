"""The anomalies on the page, without a browser: the trend's markers (placed at the bucket that
shows each day, by an independent reading of the frame), the sentence that explains one, hostile
names escaped in Plotly text, and what a click on the list applies."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from support.figspec import valid

from layouts import anomalies as view, figures, i18n
from layouts.figures.anomalies import add_markers
from queries.anomalies import Anomaly, Contributor

TZ = "Europe/Madrid"
HOSTILE = "<b>Ventas</b> & <a href='x'>"


def _ts(freq: str, start: str, periods: int) -> pd.DataFrame:
    buckets = pd.date_range(start, periods=periods, freq=freq, tz=TZ)
    cost = [float(10 + (i * 7) % 5) for i in range(periods)]
    return pd.DataFrame({"bucket": buckets, "cost_usd": cost, "tokens": [100] * periods, "executions": [1] * periods})


def _anomaly(day: date, direction: str = "up", contributors=()) -> Anomaly:
    cost, expected = (42.0, 10.0) if direction == "up" else (2.0, 10.0)
    return Anomaly(day, cost, expected, 8.0 if direction == "up" else -5.0, direction, tuple(contributors))


def _traces(fig):
    return {t.name: t for t in valid(fig).data if t.name in ("Anomalía al alza", "Anomalía a la baja")}


@pytest.mark.parametrize(
    ("freq", "start", "periods", "granularity"),
    [("D", "2026-10-01", 40, "day"), ("h", "2026-10-24", 7 * 24, "hour"), ("W-MON", "2026-08-03", 20, "week")],
)
def test_markers_sit_on_the_bucket_that_shows_the_day(freq, start, periods, granularity):
    ts = _ts(freq, start, periods)
    found = [_anomaly(date(2026, 10, 25)), _anomaly(date(2026, 10, 27), "down")]
    fig = add_markers(figures.trend(ts, granularity), ts, found, {})
    traces = _traces(fig)
    assert traces["Anomalía al alza"].marker.symbol == "triangle-up"
    assert traces["Anomalía a la baja"].marker.symbol == "triangle-down"
    for a in found:
        # Independently: the buckets whose local start date is the day (the costliest), else
        # the last bucket that starts before it.
        local = ts["bucket"].dt.tz_convert(TZ)
        same = ts[local.dt.date == a.date]
        row = same.loc[same["cost_usd"].idxmax()] if len(same) else ts[local.dt.date <= a.date].iloc[-1]
        t = traces["Anomalía al alza" if a.direction == "up" else "Anomalía a la baja"]
        assert pd.Timestamp(t.x[0]).tz_localize(None) == row["bucket"].tz_localize(None)
        assert t.y[0] == pytest.approx(row["cost_usd"])


def test_the_hover_explains_and_escapes():
    ts = _ts("D", "2026-10-01", 40)
    c = (
        Contributor("agent", "ag-1", 25.5),
        Contributor("model", HOSTILE, 20.0),
        Contributor("action", "user_interaction", 10.0),
        Contributor("agent", None, 1.0),
    )
    fig = add_markers(figures.trend(ts, "day"), ts, [_anomaly(date(2026, 10, 20), contributors=c)], {"ag-1": HOSTILE})
    (t,) = _traces(fig).values()
    day, why = t.customdata[0]
    assert day == "Subida · mar 20 oct 2026"
    assert why == (
        "Costo 4,2× lo esperado: +US$ 25,50 del agente &lt;b&gt;Ventas&lt;/b&gt; &amp; &lt;a href='x'&gt;, "
        "+US$ 20,00 del modelo &lt;b&gt;Ventas&lt;/b&gt; &amp; &lt;a href='x'&gt;, "
        "+US$ 10,00 de la acción Interacción de usuario, +US$ 1,00 del uso sin agente"
    )
    assert "<b>" not in why and "<a" not in why


def test_a_drop_reads_negative_and_english_works():
    a = _anomaly(date(2026, 10, 20), "down", [Contributor("agent", "ag-1", -8.0)])
    assert view.explain(a, {}) == "Costo 0,2× lo esperado: −US$ 8,00 del agente ag-1"
    with i18n.use("en"):
        assert view.explain(a, {}) == "Cost 0.2× the expected: −$8.00 from agent ag-1"


def test_no_markers_on_an_empty_figure_or_without_anomalies():
    ts = _ts("D", "2026-10-01", 10)
    fig = figures.trend(ts, "day")
    assert not _traces(add_markers(fig, ts, [], {}))
    empty = figures.empty()
    assert add_markers(empty, ts, [_anomaly(date(2026, 10, 5))], {}) is empty


def test_a_click_applies_the_day_and_the_first_agent():
    found = [
        _anomaly(
            date(2026, 10, 20),
            contributors=[Contributor("action", "user_interaction", 30.0), Contributor("agent", None, 29.0)],
        ),
        _anomaly(date(2026, 10, 13), contributors=[Contributor("model", "gpt-4o", 12.0)]),
        _anomaly(date(2026, 10, 6)),
    ]
    assert view.click_data(found) == [
        {"date": "2026-10-20", "slice": {"key": "agentId", "value": "none"}},
        {"date": "2026-10-13", "slice": {"key": "model", "value": "gpt-4o"}},
        {"date": "2026-10-06", "slice": None},
    ]
    items = view.items(found, {})
    assert [i.id for i in items] == [{"type": view.ITEM, "index": n} for n in range(3)]
    assert view.items([], {})[0].children == "Sin anomalías en el periodo."
