"""«Ver datos»: each chart's table says the same numbers as its figure, built from the same
frame, with a caption and header cells; nothing is computed while the region is closed."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from support.figspec import valid

from layouts import datatables as dt, figures

TZ = "Europe/Madrid"


def tags(component, name):
    out = []

    def walk(c):
        if isinstance(c, (list, tuple)):
            for x in c:
                walk(x)
        elif hasattr(c, "to_plotly_json"):
            if type(c).__name__ == name:
                out.append(c)
            walk(getattr(c, "children", None))

    walk(component)
    return out


def assert_accessible(table, columns: int):
    assert len(tags(table, "Caption")) == 1 and tags(table, "Caption")[0].children
    heads = tags(tags(table, "Thead"), "Th")
    assert len(heads) == columns and all(h.scope == "col" for h in heads)
    rows = tags(tags(table, "Tbody"), "Tr")
    assert rows and all(tags(r, "Th")[0].scope == "row" for r in rows)


def series():
    b = pd.date_range("2026-06-01", periods=6, freq="D", tz=TZ)
    return pd.DataFrame(
        {
            "bucket": b,
            "cost_usd": [0.1, 0.2, 0.3, 1.25, 0.0, 7.0],
            "tokens": [1, 2, 3, 4, 0, 9],
            "executions": [1, 1, 1, 2, 0, 3],
        }
    )


def test_trend_table_totals_equal_the_figure():
    ts = series()
    fig = valid(figures.trend(ts, "day"))
    rows, total = dt.trend_rows(ts, "day")
    assert [r[1] for r in rows] == list(fig.data[1].y) and [r[2] for r in rows] == list(fig.data[0].y)
    assert total[1] == pytest.approx(sum(fig.data[1].y)) and total[2] == sum(fig.data[0].y)
    assert rows[0][0] == "lun 1 jun 2026"
    assert_accessible(dt.trend_table(ts, "day"), 4)


def action_frame():
    rows = []
    for i, b in enumerate(pd.date_range("2026-06-01", periods=3, freq="D", tz=TZ)):
        for a, v in (("user_interaction", 1.5 * (i + 1)), ("guardrail_check", 0.25), ("weird", 0.1)):
            rows.append({"bucket": b, "action_type": a, "cost_usd": v, "tokens": int(v * 100), "executions": 1})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("metric", ["cost_usd", "tokens", "executions"])
def test_action_tables_equal_the_area_and_the_donut(metric):
    df = action_frame()
    area = valid(figures.actions_area(df, metric, "day"))
    order, rows = dt.actions_area_rows(df, metric)
    for j, trace in enumerate(area.data):
        assert [r[1 + j] for r in rows] == pytest.approx(list(trace.y))
    assert [r[-1] for r in rows] == pytest.approx([sum(t.y[i] for t in area.data) for i in range(3)])
    pie = valid(figures.actions_donut(df, metric)).data[0]
    table = dt.actions_donut_table(df, metric)
    assert_accessible(table, 3)
    cells = [tags(r, "Th")[0].children for r in tags(tags(table, "Tbody"), "Tr")]
    assert cells == list(pie.labels)
    assert_accessible(dt.actions_area_table(df, metric, "day"), len(order) + 2)


def model_frame():
    return pd.DataFrame(
        [
            {
                "provider": "p",
                "model": name,
                "cost_usd": cost,
                "input_tokens": i * 1000 + 7,
                "output_tokens": 300 + i,
                "cache_read_tokens": 50 * i,
                "executions": 3 + i,
                "avg_latency_ms": np.nan if i == 2 else 100.0 * (i + 1),
                **{f"p{q}_latency_ms": np.nan if i == 2 else q * 10.0 + i for q in (50, 95, 99)},
            }
            for i, (name, cost) in enumerate([("a", 12.34567891), ("b", 0.01), ("c", 3.0), ("d", 0.0)])
        ]
    )


@pytest.mark.parametrize("view", ["cost", "tokens"])
def test_models_bars_table_is_the_bars(view):
    df = model_frame()
    prices = {
        ("p", "a"): (Decimal("3"), Decimal("0.3"), Decimal("15")),
        ("p", "b"): (Decimal(1), Decimal(1), Decimal(2)),
    }
    fig = valid(figures.models_bars(df, view=view, prices=prices))
    names, rows = dt.models_bars_rows(df, view, prices)
    by_name = {t.name: list(t.x) for t in fig.data}
    for j, name in enumerate(names):
        assert [r[1 + j] for r in rows] == pytest.approx(by_name.get(name, [0] * len(rows)), abs=1e-12)
    totals = [r[-1] for r in rows]
    if view == "cost":
        # Each row's segments add up to the model's cost exactly, and the total is the bar's end.
        for r in rows:
            assert sum(Decimal(str(v)) for v in r[1:-1]) == Decimal(str(r[-1])).quantize(Decimal("1e-8"))
        assert totals == [a.x for a in fig.layout.annotations]
    else:
        assert totals == [sum(r[1:-1]) for r in rows] == [a.x for a in fig.layout.annotations]
    assert_accessible(dt.models_bars_table(df, view, prices), len(names) + 2)


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_bubbles_table_lists_the_drawn_bubbles_with_their_numbers(scale):
    df = model_frame()
    fig = valid(figures.models_bubble(df, scale=scale))
    table = dt.bubbles_table(df, scale)
    rows = tags(tags(table, "Tbody"), "Tr")
    assert len(rows) == len(fig.data[0].x) == (3 if scale == "linear" else 2)  # no latency; log: no cost 0
    assert [tags(r, "Th")[0].children.split(".")[0] for r in rows] == list(fig.data[0].text)
    assert_accessible(table, 9)
    cells = [[c.children for c in tags(r, "Td")] for r in rows]
    # Unit economics: 12.34567891 over 3 executions; over 307 tokens (7 input + 300 output + 0 cache read).
    assert cells[0] == ["US$ 12,35", "3", "US$ 4,1152", "US$ 40,2139", "100 ms", "500 ms", "950 ms", "990 ms"]


@pytest.mark.parametrize("latency", ["avg", "p50", "p95"])
def test_bubbles_x_is_the_chosen_latency(latency):
    df = model_frame()
    fig = valid(figures.models_bubble(df, latency=latency))
    col = {"avg": "avg_latency_ms", "p50": "p50_latency_ms", "p95": "p95_latency_ms"}[latency]
    drawn = df[df["avg_latency_ms"].notna()].sort_values("cost_usd", ascending=False)
    assert list(fig.data[0].x) == list(drawn[col])
    assert fig.layout.meta["latency"] == latency


def test_heatmap_table_has_the_heatmaps_cells():
    heat = pd.DataFrame(
        {
            "dow": [0, 1, 6],
            "hour": [0, 13, 23],
            "tokens": [10, 1000, 100000],
            "cost_usd": [0.01, 1.5, 20.0],
            "executions": [1, 4, 9],
        }
    )
    z = valid(figures.heatmap(heat, TZ)).data[0].z
    rows = dt.heatmap_rows(heat)
    for h in range(24):
        for d in range(7):
            v = rows[h][1 + d]
            assert (z[h][d] is None) == (v == 0) and (v == 0 or 10 ** z[h][d] == pytest.approx(v))
    assert_accessible(dt.heatmap_table(heat, TZ), 8)


def test_split_table_matches_the_donut():
    split = pd.DataFrame(
        {"source": ["system", "byok"], "cost_usd": [3.0, 1.0], "tokens": [10, 90], "executions": [1, 1]}
    )
    pie = valid(figures.source_split(split)).data[0]
    table = dt.split_table(split)
    assert [tags(r, "Th")[0].children for r in tags(tags(table, "Tbody"), "Tr")] == list(pie.labels)
    assert_accessible(table, 4)


# ---------------------------------------------------------------- the callbacks: lazy, same query

SECRET = "datatables-test-secret-0123456789-abcd"


@pytest.fixture(scope="module")
def seeded(engine):
    """One org seeded once for the module (the session database is shared: keep it small)."""
    import uuid

    from support import dashboard_data

    from app import create_app
    from storage.settings import Settings

    org = f"org-dt-{uuid.uuid4().hex[:8]}"
    dashboard_data.seed(engine, org)
    return create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine), org


@pytest.mark.parametrize(
    "chart", ["trend", "actions-area", "actions-donut", "models-bars", "models-bubble", "heatmap", "split"]
)
def test_a_closed_region_queries_nothing_and_an_open_one_shows_its_table(seeded, engine, chart):
    import sqlalchemy as sa

    import callbacks.datatables as cd
    from web.auth import mint_token

    app, org_id = seeded
    extra, fetch, build = cd.CHARTS[chart]
    update = cd._updater(chart, fetch, build)
    args = ["30d", None, None, "all", "auto", TZ] + [
        {"actions-metric": "cost_usd", "models-view": "cost", "models-scale": "log"}[i.component_id] for i in extra
    ]
    token = mint_token(SECRET, org_id)
    statements = []

    def count(*a, **k):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with app.server.app_context():
            assert update(0, *args, token) == (None, "false", "Ver datos")
            assert update(2, *args, token)[0] is None and statements == []
            table, expanded, text = update(1, *args, token)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert statements and expanded == "true" and text == "Ocultar datos"
    assert_accessible(table, len(tags(tags(table, "Thead"), "Th")))
    with app.server.app_context():  # a hostile value for the extra input falls back, never a 500
        assert update(1, *args[:6], *[["x"]] * len(extra), token)[1] == "true"
