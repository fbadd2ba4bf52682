"""«Comparar con» in the browser (contract §3.2, §4): choosing «Periodo anterior» puts the
deltas on the cards, the ghost line on Tendencia and «Mayores cambios» on the page; the URL
holds compare=previous and a reload keeps it; a «Mayores cambios» entry adds its chip.
Screenshots in light and dark (test-artifacts/compare-*.png). Served like test_browser_filters.py."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from support import dashboard_data
from support.db import insert_agents, insert_logs
from test_browser import ARTIFACTS, SECRET, TZ, chromium, page_factory, serving, stamp, wait_sections  # noqa: F401

from storage.engine import make_engine, migrate
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ORG = "org-compare"
SECTIONS = ["section-kpis", "section-trend", "section-changes"]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('compare') / 'dashboard.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    rows = dashboard_data.rows_for(ORG, datetime.now(UTC), days=75)  # the 30 days before the 30 days, too
    for i, r in enumerate(rows):
        if r["agent_id"] is not None:
            r["agent_id"] = f"{ORG}-{r['agent_id']}"
        if r["user_id"] and i % 4 == 0:
            r["user_id"] = "ana@example.com"
    insert_agents(engine, dashboard_data.agents_for(ORG))
    insert_logs(engine, rows)
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine)
    with serving(app) as base:
        yield base, mint_token(SECRET, ORG)
    engine.dispose()


def compared() -> str:
    return f"{stamp()}|compare=previous"


def trace_names(page) -> list[str]:
    return page.evaluate(
        "() => (document.querySelector('#trend-graph .js-plotly-plot')._fullData || []).map(t => t.name)"
    )


def test_periodo_anterior_shows_deltas_ghost_and_changes_and_survives_a_reload(page_factory, app_url):
    base, token = app_url
    page = page_factory(width=1280, height=1000)
    page.goto(f"{base}?token={token}")
    wait_sections(page, stamp(), SECTIONS[:2])
    assert page.locator("#section-changes").is_hidden() and page.locator(".kpi-delta").count() == 0
    page.select_option("#filter-compare", "previous")
    wait_sections(page, compared(), SECTIONS)
    # The cards: cost, tokens and cache with their change; the projection without.
    assert page.locator("#kpi-cost .kpi-delta").count() == 1
    assert page.locator("#kpi-tokens .kpi-delta").count() == 1 and page.locator("#kpi-cache .kpi-delta").count() == 1
    assert page.locator("#kpi-projection .kpi-delta").count() == 0
    assert "vs periodo anterior" in page.locator("#kpi-cost .kpi-delta").inner_text()
    assert "Periodo anterior (" in page.locator("#kpi-cost .kpi-delta").get_attribute("title")
    # The ghost line, drawn and named in the legend.
    assert trace_names(page)[1] == "Periodo anterior"
    assert page.locator("#trend-graph .legendtext", has_text="Periodo anterior").count() == 1
    # The view in the URL; a reload keeps it (the control shows it too).
    page.wait_for_function("() => new URLSearchParams(location.search).get('compare') === 'previous'")
    assert parse_qs(urlsplit(page.url).query)["compare"] == ["previous"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#section-kpis").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "compare-light.png"))
    page.locator("#section-changes").screenshot(path=str(ARTIFACTS / "compare-changes-light.png"))
    page.reload()
    wait_sections(page, compared(), SECTIONS)
    assert page.input_value("#filter-compare") == "previous"
    assert trace_names(page)[1] == "Periodo anterior"
    # A «Mayores cambios» entry: its filter joins the slice, its chip appears, the comparison stays.
    entry = page.locator("#section-changes .change-item[data-api='agentId']").first
    name = entry.locator(".change-name").inner_text()
    entry.click()
    page.wait_for_function("() => document.querySelectorAll('#slice-chips .slice-chip').length === 1")
    assert page.locator("#slice-chips .slice-chip-text").inner_text() == f"Agente: {name}"
    page.wait_for_function(
        """() => { const s = document.getElementById('section-kpis').getAttribute('data-stamp') || '';
                   return s.includes('agentId=') && s.endsWith('|compare=previous'); }"""
    )
    page.wait_for_function("() => new URLSearchParams(location.search).has('agentId')")
    q = parse_qs(urlsplit(page.url).query)
    assert q["compare"] == ["previous"] and q["agentId"]
    # The chip's ✕ leaves the comparison on.
    page.locator("#slice-chips .slice-chip-x").first.click()
    wait_sections(page, compared(), SECTIONS)
    # «Sin comparación» hides the panel and the deltas again, and the URL drops it.
    page.select_option("#filter-compare", "none")
    wait_sections(page, stamp(), SECTIONS)
    assert page.locator("#section-changes").is_hidden() and page.locator(".kpi-delta").count() == 0
    page.wait_for_function("() => !new URLSearchParams(location.search).has('compare')")
    # Back: the compared view again, control included.
    page.go_back()
    wait_sections(page, compared(), SECTIONS)  # the URL the page was reloaded on: Location saw no change
    assert page.input_value("#filter-compare") == "previous"
    assert page.locator("#kpi-cost .kpi-delta").count() == 1


def test_the_comparison_in_dark_and_a_bad_value_in_the_url(page_factory, app_url):
    base, token = app_url
    page = page_factory(width=1280, height=1000)
    page.goto(f"{base}?token={token}&theme=dark&compare=year")
    wait_sections(page, f"{stamp()}|compare=year", SECTIONS)
    assert "vs mismo periodo de" in page.locator("#kpi-cost .kpi-delta").inner_text()
    assert page.input_value("#filter-compare") == "year"
    page.select_option("#filter-compare", "previous")  # a year back holds no data here: a flat ghost
    wait_sections(page, compared(), SECTIONS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare-dark.png"))
    page.locator("#section-changes").screenshot(path=str(ARTIFACTS / "compare-changes-dark.png"))
    page.goto(f"{base}?token={token}&compare=weekly")
    wait_sections(page, f"{stamp()}|compare=weekly", SECTIONS[:2])
    banner = page.locator("#status-banner").inner_text()
    assert "Filtros no válidos" in banner and "Periodo anterior" in banner
    # The control shows no choice (it showed «Sin comparación», which a person could not pick:
    # a native select fires no change for the option it shows), so choosing it clears the value.
    assert page.input_value("#filter-compare") == ""
    page.select_option("#filter-compare", "none")
    wait_sections(page, stamp(), SECTIONS[:2])
    assert "Filtros no válidos" not in page.locator("#status-banner").inner_text()
    assert "compare" not in parse_qs(urlsplit(page.url).query)


def test_textdom_draws_data_as_text_and_only_what_it_allows(page_factory, app_url):
    """assets/textdom.js, in the browser: markup in a name stays text, and a tag or an attribute
    outside layouts/textdom.py's lists is not drawn (its clicks: the entry click above)."""
    base, token = app_url
    page = page_factory(width=1280, height=1000)
    page.goto(f"{base}?token={token}&compare=previous")
    wait_sections(page, compared(), SECTIONS)
    hostile = '<img src=x onerror="window.__pwned=1">=HYPERLINK("x")'
    out = page.evaluate(
        """name => {
            const draw = window.dash_clientside.textdom.draw;
            const stamp = draw({host: 'changes-entries', stamp: 's1', tree: {t: 'div', c: 'probe', k: [
                {t: 'span', c: 'probe-name', x: name, a: {title: name, onclick: 'window.__pwned=2', 'data-api': 'x'}},
                {t: 'script', x: 'window.__pwned=3'}, {t: 'img', a: {src: 'x'}}]}});
            const host = document.getElementById('changes-entries');
            return {stamp, text: host.querySelector('.probe-name').textContent,
                    title: host.querySelector('.probe-name').getAttribute('title'),
                    onclick: host.querySelector('.probe-name').getAttribute('onclick'),
                    tags: [...host.querySelectorAll('*')].map(e => e.tagName.toLowerCase())};
        }""",
        hostile,
    )
    assert out == {"stamp": "s1", "text": hostile, "title": hostile, "onclick": None, "tags": ["div", "span"]}
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    # No tree: the host is emptied.
    page.evaluate("() => window.dash_clientside.textdom.draw({host: 'changes-entries', stamp: 's2', tree: null})")
    assert page.locator("#changes-entries *").count() == 0
