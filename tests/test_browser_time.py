"""The clock in the browser: nothing after now, partial buckets, the 1st-of-month projection.

The app is served with a fixed clock (the 1st of November, 10:30 in Madrid) over data that
ends at that instant, so "today" is the 1st whatever day the suite runs. Filters are set
the way the filter bar sets them (Dash's set_props on its components). Screenshots of a
range reaching into the future, YTD weekly and the 1st-of-month projection go to
test-artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support import dashboard_data
from support.db import copy_sqlite
from test_browser import ARTIFACTS, ORG, SECRET, TZ, chromium, graph, page_factory, serving, wait_sections  # noqa: F401

from storage.engine import make_engine
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOW = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # Sunday 1 November, 10:30 in Madrid


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, db_template):
    from app import create_app

    url = copy_sqlite(db_template("sqlite"), tmp_path_factory.mktemp("browser-time"))  # migrated: a template copy
    engine = make_engine(url)
    dashboard_data.seed(engine, ORG, now=NOW)
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine, clock=lambda: NOW)
    with serving(app) as base:
        yield f"{base}?token={mint_token(SECRET, ORG)}"
    engine.dispose()


def key(preset="30d", start="", end="", granularity="auto"):
    return "|".join([preset, *([start, end] if preset == "custom" else []), "all", granularity, TZ])


def open_page(page_factory, app_url):
    page = page_factory(width=1280, height=1000)
    page.goto(app_url)
    wait_sections(page, key())
    page.wait_for_selector("#trend-graph .js-plotly-plot")
    return page


def set_filters(page, **props):
    """Set filter-bar components as a click or a typed date would (one update each)."""
    for cid, value in props.items():
        page.evaluate("([id, v]) => dash_clientside.set_props(id, v)", [cid, value])


def trend_x(page) -> dict:
    """Per trace of the trend: name, x values as dates, and the mode."""
    return page.evaluate("""() => document.querySelector('#trend-graph .js-plotly-plot')._fullData.map(t => ({
        name: t.name, mode: t.mode, hoverinfo: t.hoverinfo,
        x: Array.from(t.x || []).filter(v => v !== null).map(v => String(v).slice(0, 10))}))""")


def shot(page, section: str, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(f"#{section}").screenshot(path=str(ARTIFACTS / name))


def test_a_range_into_the_future_draws_nothing_after_today(page_factory, app_url):
    page = open_page(page_factory, app_url)
    set_filters(
        page,
        **{
            "filter-preset": {"value": "custom"},
            "filter-dates": {"start_date": "2026-10-20", "end_date": "2026-11-15"},
        },
    )
    wait_sections(page, key("custom", "2026-10-20", "2026-11-15"))
    traces = trend_x(page)
    cost = traces[1]
    assert cost["name"] == "Costo (USD)" and max(cost["x"]) == "2026-11-01" and len(cost["x"]) == 13
    hollow = [t for t in traces if t["name"] == "Periodo parcial" and t["mode"] == "markers"]
    assert hollow and hollow[0]["x"] == ["2026-11-01"]  # today: in progress, hollow
    area = page.evaluate("""() => document.querySelector('#actions-area .js-plotly-plot')._fullData
        .flatMap(t => Array.from(t.x || []).filter(v => v !== null).map(v => String(v).slice(0, 10)))""")
    assert max(area) == "2026-11-01"
    spark = page.evaluate("""() => { const out = [];
        dash_ag_grid.getApi('agents-grid').forEachNode(n => out.push(n.data.sparkline.length)); return out; }""")
    assert spark and set(spark) == {13}  # sparklines stop today too, no trailing zeros
    assert page.locator("#agents-grid svg.sparkline circle.spark-partial").count() == len(spark)  # hollow today
    shot(page, "section-trend", "trend-future-range.png")
    shot(page, "section-agents", "agents-future-range.png")


def test_ytd_weekly_marks_its_first_and_last_weeks(page_factory, app_url):
    page = open_page(page_factory, app_url)
    set_filters(page, **{"filter-preset": {"value": "ytd"}, "filter-granularity": {"value": "week"}})
    wait_sections(page, key("ytd", granularity="week"))
    meta = graph(page, "trend-graph")["meta"]
    n = graph(page, "trend-graph")["traces"][1]["n"]
    assert meta["partial"] == [0, n - 1]  # the week cut by 1 January, the week in progress
    names = [t["name"] for t in graph(page, "actions-area")["traces"]]
    assert names.count("Periodo parcial") == 3  # two hatched slices and their hover
    shot(page, "section-trend", "trend-ytd-weekly.png")
    shot(page, "section-actions", "actions-ytd-weekly.png")


def test_first_of_the_month_projection_and_the_hover_on_today(page_factory, app_url):
    page = open_page(page_factory, app_url)
    meta = graph(page, "trend-graph")["meta"]["projection"]
    assert (meta["mode"], meta["current"], meta["shown"], meta["hidden"]) == ("band", True, 10, 19)
    note = page.locator("#trend-note").inner_text()
    assert "11 nov 2026" in note and "Los 19 días siguientes hasta el 30 nov 2026 no se dibujan" in note
    assert "Noviembre de 2026" in page.locator("#kpi-projection").inner_text()
    # Hover today's (last actual) point: the unified hover is titled with today, not tomorrow.
    box = page.evaluate("""() => {
        const gd = document.querySelector('#trend-graph .js-plotly-plot');
        const cost = gd._fullData[1], L = gd._fullLayout, i = cost.x.length - 1;
        const x = L.xaxis.d2p(cost.x[i]) + L._size.l, r = gd.getBoundingClientRect();
        return {x: r.left + x, y: r.top + L._size.t + L._size.h / 2};
    }""")
    page.mouse.move(box["x"], box["y"])
    page.wait_for_selector("#trend-graph .hoverlayer .legend", timeout=5000)
    title = page.locator("#trend-graph .hoverlayer .legend .legendtitletext").text_content()
    assert "1 nov 2026" in title.lower() and "2 nov" not in title.lower()
    body = page.locator("#trend-graph .hoverlayer .legend").text_content()
    # Today's cost next to today's projection, never tomorrow's value under today's title.
    assert "periodo en curso" in body and "Proyección del día" in body and "Proyección:" not in body
    shot(page, "section-trend", "trend-first-of-month-hover.png")
    page.mouse.move(0, 0)
    page.wait_for_timeout(200)
    shot(page, "section-trend", "trend-first-of-month.png")
