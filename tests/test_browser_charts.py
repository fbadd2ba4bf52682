"""Modelos, Ver datos and hostile names in real Chromium (issue 8, §3 and §4.3).

The page is served like tests/test_browser.py serves it (same data set) plus a few rows whose
model names are HTML: plotly must print them, never draw a link or a 90 px span. Screenshots
of the Modelos section in both views, the log-scale bubbles and a «Ver datos» table go to
test-artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support import dashboard_data
from support.db import copy_sqlite, insert_logs
from test_browser import ARTIFACTS, SECRET, chromium, page_factory, serving, stamp, wait_sections  # noqa: F401

from layouts import fmt
from layouts.figures.models import TICK_CHARS
from storage.engine import make_engine
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ORG = "org-hostile"
ORG_MANY = "org-many-models"  # twelve models with a latency: a key longer than the ten it shows whole
LINK = '<a href="https://evil.invalid">m</a>'
BIG = '<span style="font-size:90px">GRANDE</span>'


def hostile_rows(now: datetime) -> list[dict]:
    rows = []
    for d in range(6):
        for model, latency in ((LINK, 900), (BIG, 2000)):
            rows.append(
                {
                    "org_id": ORG,
                    "created_at": now - timedelta(days=d, hours=1),
                    "agent_id": None,
                    "user_id": None,
                    "action_type": "user_interaction",
                    "source": "system",
                    "provider": "openai",
                    "model": model,
                    "input_tokens": 9000,
                    "output_tokens": 900,
                    "cache_read_tokens": 0,
                    "cache_write_tokens": 0,
                    "cost_usd": 2.5,
                    "latency_ms": latency,
                }
            )
    return rows


def many_model_rows(now: datetime) -> list[dict]:
    """Twelve models with long names, each with a latency, the n-th costing (13 − n) × 48.27 dollars
    a day for 6 days (totals of four digits, «US$ 3.475,44», as a real top model's)."""
    return [
        {
            "org_id": ORG_MANY,
            "created_at": now - timedelta(days=d, hours=2),
            "agent_id": None,
            "user_id": None,
            "action_type": "user_interaction",
            "source": "system",
            "provider": "openai",
            "model": f"modelo-de-lenguaje-{n:02d}",
            "input_tokens": 1000,
            "output_tokens": 100,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cost_usd": round((13 - n) * 48.27, 2),
            "latency_ms": 100 * n,
        }
        for n in range(1, 13)
        for d in range(6)
    ]


@pytest.fixture(scope="module")
def served(tmp_path_factory, db_template):
    from app import create_app

    url = copy_sqlite(db_template("sqlite"), tmp_path_factory.mktemp("browser-charts"))  # migrated: a template copy
    engine = make_engine(url)
    dashboard_data.seed(engine, ORG)
    insert_logs(engine, hostile_rows(datetime.now(UTC).replace(microsecond=0)))
    insert_logs(engine, many_model_rows(datetime.now(UTC).replace(microsecond=0)))
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine)
    with serving(app) as base:
        yield f"{base}?token={mint_token(SECRET, ORG)}"
    engine.dispose()


SVG_FACTS = """gid => {
    const root = document.querySelector('#' + gid + ' .js-plotly-plot');
    const texts = [...root.querySelectorAll('svg text')];
    return {links: root.querySelectorAll('svg a').length,
            texts: texts.map(t => t.textContent.trim()),
            biggest: Math.max(0, ...[...root.querySelectorAll('svg text, svg tspan')].map(
                t => parseFloat(getComputedStyle(t).fontSize) || 0))};
}"""


def drawn(page, gid):
    """Wait for plotly to have drawn gid's chart: the section's data stamp can land before the
    asynchronously loaded plotly.js draws (a loaded machine showed it)."""
    page.wait_for_function(
        "gid => { const r = document.querySelector('#' + gid + ' .js-plotly-plot');"
        " return r && r.querySelector('svg text'); }",
        arg=gid,
    )


def models_ready(page, view):
    page.wait_for_function(
        "v => { const gd = document.querySelector('#models-bars .js-plotly-plot');"
        " return gd && gd.layout && gd.layout.meta && gd.layout.meta.view === v; }",
        arg=view,
    )
    wait_sections(page, stamp(), ["section-models"])


def test_hostile_model_names_print_literally_in_both_models_charts(page_factory, served):
    page = page_factory()
    page.goto(served)
    wait_sections(page, stamp(), ["section-models"])
    for gid in ("models-bars", "models-bubble"):
        drawn(page, gid)
        facts = page.evaluate(SVG_FACTS, gid)
        assert facts["links"] == 0, gid  # no clickable <a> inside the plot
        assert facts["biggest"] < 20, gid  # no 90 px span drawn over the chart
    bars = page.evaluate(SVG_FACTS, "models-bars")["texts"]
    # The y ticks show the names as typed, clipped to TICK_CHARS (layouts/figures/models.py).
    assert fmt.clip(LINK, TICK_CHARS) in bars and fmt.clip(BIG, TICK_CHARS) in bars
    key = page.locator("#models-key").inner_text()
    assert LINK in key and BIG in key  # the bubbles' key (numbers on the chart) names them too
    # Hover labels are text too: hover every bubble, none draws a link or a giant span.
    points = page.locator("#models-bubble .js-plotly-plot .scatterlayer .point")
    seen = []
    for i in range(points.count()):
        points.nth(i).hover(force=True)
        page.wait_for_timeout(150)
        facts = page.evaluate(SVG_FACTS, "models-bubble")
        assert facts["links"] == 0 and facts["biggest"] < 20
        seen.append(page.evaluate("() => document.querySelector('#models-bubble .hoverlayer').textContent"))
    assert any(LINK in h for h in seen) and any(BIG in h for h in seen)


def test_models_views_scales_and_ver_datos(page_factory, served):
    page = page_factory(width=1280, height=1000)
    page.goto(served)
    wait_sections(page, stamp(), ["section-models"])
    section = page.locator("#section-models")
    section.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)
    section.screenshot(path=str(ARTIFACTS / "models-cost.png"))
    assert page.locator("#models-bars-title").inner_text() == "Los 10 modelos con más costo"
    # Ver datos is lazy: nothing in the region until it is opened.
    button = page.locator("#data-models-bars-button")
    assert button.get_attribute("aria-expanded") == "false" and page.locator("#data-models-bars").inner_html() == ""
    page.locator("#models-view label", has_text="Tokens").click()
    models_ready(page, "tokens")
    assert page.locator("#models-bars-title").inner_text() == "Los 10 modelos con más tokens"
    page.wait_for_timeout(300)
    section.screenshot(path=str(ARTIFACTS / "models-tokens.png"))
    page.locator("#models-scale label", has_text="Logarítmica").click()
    page.wait_for_function(
        "() => { const gd = document.querySelector('#models-bubble .js-plotly-plot');"
        " return gd && gd.layout.yaxis.type === 'log'; }"
    )
    wait_sections(page, stamp(), ["section-models"])
    page.wait_for_timeout(300)
    page.locator("#models-bubble").screenshot(path=str(ARTIFACTS / "models-bubbles-log.png"))
    button.click()
    table = page.locator("#data-models-bars table")
    table.wait_for()
    assert button.get_attribute("aria-expanded") == "true" and button.inner_text() == "Ocultar datos"
    assert table.locator("caption").inner_text().startswith("Tokens por tipo de token")
    assert table.locator("thead th[scope='col']").count() == 5
    assert LINK in table.locator("tbody th[scope='row']").all_inner_texts()
    page.wait_for_timeout(200)
    page.locator("#section-models").screenshot(path=str(ARTIFACTS / "models-ver-datos.png"))
    button.click()
    page.wait_for_function("() => document.getElementById('data-models-bars').innerHTML === ''")


def test_ver_datos_for_the_trend_and_the_heatmap(page_factory, served):
    page = page_factory(width=1280, height=1100)
    page.goto(served)
    wait_sections(page, stamp(), ["section-trend"])
    button = page.locator("#data-trend-button")
    button.click()
    table = page.locator("#data-trend table")
    table.wait_for()
    head = table.locator("thead th").all_inner_texts()
    assert head == ["Periodo", "Costo", "Tokens", "Ejecuciones"]
    assert table.locator("tbody tr").count() == 30 and table.locator("tfoot th").inner_text() == "Total"
    # The total row says the KPI card's cost (same window, same source).
    assert table.locator("tfoot td").first.inner_text() == page.locator("#kpi-cost .kpi-value").inner_text()
    page.locator("#section-trend").screenshot(path=str(ARTIFACTS / "trend-ver-datos.png"))
    # An open table follows the filters (the browser tells it, callbacks/stale.py): 7 days by hour.
    page.locator("#filter-preset label", has_text="7d").first.click()
    wait_sections(page, stamp("7d"), ["section-kpis", "section-trend"])
    page.wait_for_function("() => document.querySelectorAll('#data-trend tbody tr').length > 30")  # hours
    assert table.locator("tfoot td").first.inner_text() == page.locator("#kpi-cost .kpi-value").inner_text()
    page.locator("#filter-preset label", has_text="30d").first.click()
    page.wait_for_function("() => document.querySelectorAll('#data-trend tbody tr').length === 30")
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    page.locator("#data-heatmap-button").click()
    heat = page.locator("#data-heatmap table")
    heat.wait_for()
    assert heat.locator("thead th").all_inner_texts()[1:] == [
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    ]
    assert heat.locator("tbody th[scope='row']").count() == 24
    page.wait_for_timeout(300)
    page.locator("#section-advanced").screenshot(path=str(ARTIFACTS / "advanced-ver-datos.png"))


KEY_ROWS = """() => {
    const list = document.querySelector('#models-key .bubble-key-list');
    const box = list.getBoundingClientRect();
    return {bottom: box.bottom, scrolls: list.scrollHeight > list.clientHeight,
            rows: [...list.querySelectorAll('li')].map(li => {
                const r = li.getBoundingClientRect();
                return {text: li.textContent, top: r.top, bottom: r.bottom};
            })};
}"""


def test_the_bubbles_key_shows_ten_models_whole_and_cuts_the_eleventh(page_factory, served):
    """The key beside the bubbles lists every drawn model. Ten show whole (the bars' top 10);
    the eleventh shows cut, so a longer key tells it scrolls also where scrollbars stay hidden
    until used. Before, the key showed eight: a ninth bubble's number had no visible name."""
    page = page_factory(width=1280, height=1000)
    page.goto(served.split("?token=")[0] + "?token=" + mint_token(SECRET, ORG_MANY))
    wait_sections(page, stamp(), ["section-models"])
    page.wait_for_function("() => document.querySelectorAll('#models-key .bubble-key-list li').length === 12")
    key = page.evaluate(KEY_ROWS)
    rows = key["rows"]
    assert [r["text"].split("openai")[0] for r in rows] == [f"{n}modelo-de-lenguaje-{n:02d}" for n in range(1, 13)]
    assert all(r["bottom"] <= key["bottom"] + 0.5 for r in rows[:10])  # ten whole
    assert rows[10]["top"] < key["bottom"] < rows[10]["bottom"]  # the eleventh cut: there is more
    assert key["scrolls"]
    section = page.locator("#section-models")
    section.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 160)")
    page.wait_for_timeout(300)
    section.screenshot(path=str(ARTIFACTS / "models-key-twelve.png"))
    page.locator("#models-key .bubble-key-list").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    key = page.evaluate(KEY_ROWS)
    assert key["rows"][11]["bottom"] <= key["bottom"] + 0.5  # the last one scrolls into view


AXIS_TITLE = """() => { const gd = document.querySelector('#models-bars .js-plotly-plot');
    const svg = gd.querySelector('svg.main-svg').getBoundingClientRect();
    const t = gd.querySelector('.xtitle'), r = t.getBoundingClientRect();
    return {text: t.textContent, inside: r.left >= svg.left - 0.5 && r.right <= svg.right + 0.5}; }"""


def test_on_a_phone_the_bars_totals_read_whole(page_factory, served):
    """Each bar's total sits past its end; on a 390 px phone the plot is ~100 px wide, and the
    longest bars' totals ran past the chart's edge («US$ 1.6…»). The right margin now holds the
    longest total, so every one reads whole, in both views. The axis title reads whole too
    («Costo (USD) por tipo de token, con precios de catálogo» ran past both edges)."""
    page = page_factory(width=390, height=844)
    page.goto(served.split("?token=")[0] + "?token=" + mint_token(SECRET, ORG_MANY))
    wait_sections(page, stamp(), ["section-models"])
    drawn(page, "models-bars")
    inside = """() => { const gd = document.querySelector('#models-bars .js-plotly-plot');
        const edge = gd.querySelector('svg.main-svg').getBoundingClientRect().right;
        return [...gd.querySelectorAll('.annotation-text')].map(t => [t.textContent,
                t.getBoundingClientRect().right <= edge + 0.5]); }"""
    totals = page.evaluate(inside)
    assert [t for t, _ in totals][:2] == ["US$ 3.475,44", "US$ 3.185,82"] and all(ok for _, ok in totals), totals
    title = page.evaluate(AXIS_TITLE)
    assert title["text"] == "Costo (USD)" and title["inside"], title
    page.locator("#models-view label", has_text="Tokens").click()
    models_ready(page, "tokens")
    totals = page.evaluate(inside)
    assert len(totals) == 10 and all(ok for _, ok in totals), totals
    title = page.evaluate(AXIS_TITLE)
    assert title["text"] == "Tokens por tipo" and title["inside"], title


def test_at_768_px_the_models_tools_and_key_fit(page_factory, served):
    page = page_factory(width=768, height=1000)
    page.goto(served)
    wait_sections(page, stamp(), ["section-models"])
    section = page.locator("#section-models")
    # Below the sticky filter bar, so the screenshot shows the section's own toggles.
    section.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 160)")
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    assert section.evaluate("el => el.scrollWidth <= el.clientWidth")
    section.screenshot(path=str(ARTIFACTS / "models-768.png"))


def test_hidden_views_ask_nothing_and_shown_ones_follow_the_filters(page_factory, served):
    """«Acumulado» and Avanzado query only while shown (callbacks/stale.py): while both are
    hidden a filter change sends their callbacks no request; once shown, every change asks
    each of them once, and Avanzado's figures answer for the new filters."""
    page = page_factory(width=1280, height=1100)
    asked: list[tuple[str, int]] = []  # (the request's outputs, its status) per callback request

    def answered(response):
        if "/_dash-update-component" in response.url:
            asked.append((response.request.post_data or "", response.status))

    page.on("response", answered)

    def count(output):
        return [status for body, status in asked if output in body]

    page.goto(served)
    wait_sections(page, stamp(), ["section-kpis", "section-trend", "section-models"])
    page.wait_for_timeout(500)  # the first round's last requests
    asked.clear()
    page.locator("#filter-preset label", has_text="7d").first.click()
    wait_sections(page, stamp("7d"), ["section-kpis", "section-trend", "section-models", "section-agents"])
    page.wait_for_timeout(500)
    assert any("kpi-cost.children" in body for body, _s in asked)  # the change asked the shown sections
    assert count("advanced-heatmap.figure") == [] and count("trend-cumulative.figure") == []
    # Shown: opening each runs it once.
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp("7d"), ["section-advanced"])
    page.locator("#trend-view label", has_text="Acumulado").click()
    page.wait_for_function(
        """() => { const gd = document.querySelector('#trend-cumulative .js-plotly-plot');
                   return gd && gd.layout.meta && gd.layout.meta.view === 'cumulative'; }"""
    )
    page.wait_for_timeout(500)
    asked.clear()
    page.locator("#filter-preset label", has_text="30d").first.click()
    wait_sections(page, stamp("30d"), ["section-kpis", "section-advanced"])  # Avanzado answers for 30d
    page.wait_for_function(
        "() => !document.querySelector('#trend-cumulative-wrap [data-dash-is-loading=\"true\"]')", polling=200
    )
    page.wait_for_timeout(500)
    assert count("advanced-heatmap.figure") == [200] and count("trend-cumulative.figure") == [200]
    # Hidden again: «Por periodo» and a closed Avanzado ask nothing more.
    page.locator("#trend-view label", has_text="Por periodo").click()
    page.locator("#advanced-toggle").click()
    page.wait_for_function("() => document.getElementById('advanced-toggle').getAttribute('aria-expanded') === 'false'")
    page.wait_for_timeout(500)
    asked.clear()
    page.locator("#filter-source label", has_text="Sistema").first.click()
    wait_sections(page, "30d|system|auto|" + stamp().split("|")[-1], ["section-kpis", "section-trend"])
    page.wait_for_timeout(500)
    assert count("advanced-heatmap.figure") == [] and count("trend-cumulative.figure") == []
