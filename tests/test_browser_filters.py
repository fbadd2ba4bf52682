"""The slice on the page (issue 9): a click on a model bar, an action's donut slice or an agent's
row narrows every section (their data-stamps carry the filter, a chip shows it); the chip's ✕
widens them again; the view is in the URL (reload restores it; pushed entries keep the opening token, «Copiar
enlace» leaves it out). Served like test_browser_sources.py (the page at the top level, ?token=)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from support import dashboard_data
from test_browser import ARTIFACTS, SECRET, TZ, chromium, page_factory, serving, stamp, wait_sections  # noqa: F401

from storage.engine import make_engine, migrate
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ORG = "org-slice"
SECTIONS = ["section-kpis", "section-trend", "section-actions", "section-models", "section-agents"]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('slice') / 'dashboard.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    dashboard_data.seed(engine, ORG)
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine)
    with serving(app) as base:
        yield base, mint_token(SECRET, ORG)
    engine.dispose()


def sliced(key: str) -> str:
    return f"{stamp()}|{key}"


def open_page(page_factory, app_url, query=""):
    base, token = app_url
    page = page_factory(width=1280, height=1000)
    page.goto(f"{base}?token={token}{query}")
    return page


def chips(page) -> list[str]:
    return page.locator("#slice-chips .slice-chip-text").all_inner_texts()


def wait_chips(page, expected: list[str]) -> None:
    """The chips read `expected` (in any order): they follow the store a round-trip later."""
    page.wait_for_function(
        """want => {
            const got = Array.from(document.querySelectorAll('#slice-chips .slice-chip-text')).map(e => e.innerText);
            return JSON.stringify(got.sort()) === JSON.stringify(want.slice().sort());
        }""",
        arg=expected,
    )


CLICK_POINT = """([sel, i]) => {
    // A point inside the i-th shape of sel that the browser hits on that shape (a donut's slice:
    // not the hole in its bounding box's centre).
    const el = document.querySelectorAll(sel)[i];
    const L = el.getTotalLength(), m = el.getScreenCTM(), box = el.getBoundingClientRect();
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    for (let t = 0.02; t < 1; t += 0.02) {
        const p = el.getPointAtLength(t * L);
        let x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
        const d = Math.hypot(cx - x, cy - y) || 1;
        x += (cx - x) / d * 4; y += (cy - y) / d * 4;
        const hit = document.elementFromPoint(x, y);
        if (hit === el || (hit && el.contains(hit))) { return [x, y]; }
    }
    return [cx, cy];
}"""


def click_shape(page, sel, i=0):
    page.locator(sel).nth(i).scroll_into_view_if_needed()
    x, y = page.evaluate(CLICK_POINT, [sel, i])
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def test_a_model_bar_narrows_the_page_and_its_chip_widens_it(page_factory, app_url):
    page = open_page(page_factory, app_url)
    wait_sections(page, stamp(), SECTIONS)
    top = page.evaluate("() => document.querySelector('#models-bars .js-plotly-plot')._fullData[0].customdata[0]")
    model = top[-1]
    click_shape(page, "#models-bars .bars .point path", 0)
    wait_sections(page, sliced(f"model={model}"), SECTIONS)
    wait_chips(page, [f"Modelo: {model}"])
    # The URL holds the view; the pushed entry keeps the token the page was opened with (no other),
    # so reloading it opens the same view, not the access message.
    page.wait_for_function("m => new URLSearchParams(location.search).get('model') === m", arg=model)
    q = parse_qs(urlsplit(page.url).query)
    assert q["model"] == [model] and q["token"] == [app_url[1]]
    bars = page.evaluate("() => document.querySelector('#models-bars .js-plotly-plot')._fullData[0].y.length")
    assert bars == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "slice-model-chip.png"))
    page.locator("#slice-chips .slice-chip-x").first.click()
    wait_sections(page, stamp(), SECTIONS)
    wait_chips(page, [])
    # Back: the filtered view again (the token stayed in memory).
    page.go_back()
    wait_sections(page, sliced(f"model={model}"), SECTIONS)
    wait_chips(page, [f"Modelo: {model}"])
    # A reload of that pushed entry: the same view, not the access message.
    page.reload()
    wait_sections(page, sliced(f"model={model}"), SECTIONS)
    wait_chips(page, [f"Modelo: {model}"])


def test_a_donut_slice_filters_by_its_action(page_factory, app_url):
    page = open_page(page_factory, app_url)
    wait_sections(page, stamp(), SECTIONS)
    # The stamp is written with the figure; Plotly draws it an instant later.
    page.wait_for_function(
        "() => { const g = document.querySelector('#actions-donut .js-plotly-plot');"
        " return !!(g && g._fullData && g._fullData[0] && g._fullData[0].customdata); }"
    )
    keys = page.evaluate(
        "() => document.querySelector('#actions-donut .js-plotly-plot')._fullData[0].customdata.map(c => c[c.length-1])"
    )
    click_shape(page, "#actions-donut .slice path.surface", 0)
    page.wait_for_function(
        "() => (document.getElementById('section-kpis').getAttribute('data-stamp') || '').includes('actionType=')"
    )
    key = page.get_attribute("#section-kpis", "data-stamp").split("actionType=")[1]
    assert key in keys
    wait_sections(page, sliced(f"actionType={key}"), SECTIONS)
    page.wait_for_function("() => document.querySelectorAll('#slice-chips .slice-chip').length === 1")
    assert chips(page)[0].startswith("Acción: ")


def test_an_agent_row_filters_by_its_agent_and_quitar_filtros_clears(page_factory, app_url):
    page = open_page(page_factory, app_url)
    wait_sections(page, stamp(), SECTIONS)
    first = page.locator("#agents-grid .ag-center-cols-container .ag-row[row-index='0']")
    name = first.locator(".agent-name").inner_text()
    first.locator(".ag-cell").first.click()
    page.wait_for_function(
        "() => (document.getElementById('section-kpis').getAttribute('data-stamp') || '').includes('agentId=')"
    )
    agent = page.get_attribute("#section-kpis", "data-stamp").split("agentId=")[1]
    wait_sections(page, sliced(f"agentId={agent}"), SECTIONS)
    wait_chips(page, [f"Agente: {name}"])
    assert page.locator("#agents-grid .ag-center-cols-container .ag-row").count() == 1
    page.locator("#slice-clear").click()
    wait_sections(page, stamp(), SECTIONS)


def test_a_filter_of_many_values_is_one_chip_whose_x_removes_them_all(page_factory, app_url):
    agents = [f"nadie-{i:02d}" for i in range(12)]
    query = "".join(f"&agentId={a}" for a in agents) + "&actionType=user_interaction"
    page = open_page(page_factory, app_url, query)
    wait_sections(page, sliced(f"actionType=user_interaction;agentId={','.join(agents)}"), SECTIONS)
    wait_chips(page, ["Agente: 12 valores", "Acción: Interacción de usuario"])
    assert page.locator("#status-banner").inner_text().strip() == (
        "Sin datos para Agente = nadie-00, nadie-01, nadie-02 y 9 más y Acción = Interacción de usuario en este periodo"
    )
    grouped = page.locator("#slice-chips .slice-chip").first
    assert grouped.get_attribute("title").startswith("nadie-00, nadie-01") and grouped.get_attribute("title").endswith(
        "nadie-09 y 2 más"
    )
    # Another chip's ✕ keeps the grouped chip's twelve values; the grouped chip's ✕ removes them all.
    page.locator("#slice-chips .slice-chip-x").nth(1).click()
    wait_sections(page, sliced(f"agentId={','.join(agents)}"), SECTIONS)
    wait_chips(page, ["Agente: 12 valores"])
    assert parse_qs(urlsplit(page.url).query)["agentId"] == agents
    grouped.locator(".slice-chip-x").click()
    wait_sections(page, stamp(), SECTIONS)
    wait_chips(page, [])
    assert "agentId" not in parse_qs(urlsplit(page.url).query)


def test_a_url_with_filters_reloads_into_the_same_view_and_the_copied_link_has_no_token(page_factory, app_url):
    agent = f"{ORG}-ag-ventas"
    query = f"&preset=90d&source=system&agentId={agent}&actionType=user_interaction&lang=es"
    page = open_page(page_factory, app_url, query)
    key = f"90d|system|auto|{TZ}|actionType=user_interaction;agentId={agent}"
    wait_sections(page, key, SECTIONS)
    wait_chips(page, ["Acción: Interacción de usuario", "Agente: Asistente de Ventas"])
    page.reload()
    wait_sections(page, key, SECTIONS)
    page.locator("#copy-link").click()
    page.wait_for_function("() => !!window.aiUsageLastLink")
    link = page.evaluate("() => window.aiUsageLastLink")
    q = parse_qs(urlsplit(link).query)
    assert "token" not in q
    assert q["agentId"] == [agent] and q["actionType"] == ["user_interaction"]
    assert q["preset"] == ["90d"] and q["source"] == ["system"] and q["lang"] == ["es"]


def test_a_value_matching_nothing_names_the_filter(page_factory, app_url):
    page = open_page(page_factory, app_url, "&agentId=nadie")
    wait_sections(page, sliced("agentId=nadie"), SECTIONS)
    assert "Sin datos para Agente = nadie en este periodo" in page.locator("#status-banner").inner_text()
