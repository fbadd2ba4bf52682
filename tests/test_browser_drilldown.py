"""Every drill-down on the page, in Chromium: a click on a model's bar or bubble, an action's donut
slice or legend entry, an agent's row, the System/BYOK split (slice and legend) narrows every
section (their data-stamps carry it, a chip names it) and ✕ / «Quitar filtros» widen it again;
the dropdowns show values set by the URL or a click before their options exist; the copied link
(no token) opens the same view in a new page; a filter matching nothing names itself, for every
kind of filter, as text. Served like test_browser_filters.py (its module fixture, its own copy)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from test_browser import TZ, chromium, page_factory, stamp, wait_sections  # noqa: F401
from test_browser_filters import CLICK_POINT, ORG, SECTIONS, app_url, chips, click_shape, open_page, sliced, wait_chips  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
AGENT, AGENT_NAME = f"{ORG}-ag-ventas", "Asistente de Ventas"


def stamp_has(page, text: str) -> str:
    """Wait until the KPI section's stamp holds `text`; the stamp."""
    page.wait_for_function(
        "t => (document.getElementById('section-kpis').getAttribute('data-stamp') || '').includes(t)", arg=text
    )
    return page.get_attribute("#section-kpis", "data-stamp")


def hover_text(page, gid: str, shape: str, i: int = 0) -> str:
    """What the hover label of the i-th shape of graph gid says, hovered with the mouse."""
    sel = f"#{gid} {shape}"
    page.locator(sel).nth(i).scroll_into_view_if_needed()
    x, y = page.evaluate(CLICK_POINT, [sel, i])
    page.mouse.move(x, y)
    page.wait_for_function("g => (document.querySelector('#' + g + ' .hoverlayer') || {}).textContent", arg=gid)
    text = page.evaluate("g => document.querySelector('#' + g + ' .hoverlayer').textContent", gid)
    page.mouse.move(1, 1)
    return text


def select_texts(page, sel: str) -> list[str]:
    return page.locator(f"#{sel} .dash-dropdown-value-item").all_inner_texts()


def test_model_bar_and_bubble_narrow_the_page_and_chips_widen_it(page_factory, app_url):
    page = open_page(page_factory, app_url)
    wait_sections(page, stamp(), SECTIONS)
    assert "Clic para filtrar" in hover_text(page, "models-bars", ".bars .point path")
    assert "Clic para filtrar" in hover_text(page, "models-bubble", ".scatterlayer .point")
    # The bubble: its model (raw, last in customdata) narrows every section.
    model = page.evaluate(
        "() => { const t = document.querySelector('#models-bubble .js-plotly-plot')._fullData[0];"
        " return decodeURIComponent(t.customdata[0][t.customdata[0].length - 1]); }"
    )
    click_shape(page, "#models-bubble .scatterlayer .point", 0)
    wait_sections(page, sliced(f"model={model}"), SECTIONS)
    wait_chips(page, [f"Modelo: {model}"])
    page.wait_for_function(
        "m => [...document.querySelectorAll('#slice-model .dash-dropdown-value-item')]"
        ".some(e => e.innerText.startsWith(m))",
        arg=model,
    )
    # A bar of another model adds it (OR within the filter); the dropdown lists both.
    bars = page.evaluate(
        "() => document.querySelector('#models-bars .js-plotly-plot')._fullData[0].customdata"
        ".map(c => decodeURIComponent(c[c.length - 1]))"
    )
    assert bars == [model]  # the bars are narrowed too
    page.locator("#slice-chips .slice-chip-x").first.click()  # ✕: the whole page again
    wait_sections(page, stamp(), SECTIONS)
    wait_chips(page, [])
    assert select_texts(page, "slice-model") == []
    bars = page.evaluate(
        "() => document.querySelector('#models-bars .js-plotly-plot')._fullData[0].customdata"
        ".map(c => decodeURIComponent(c[c.length - 1]))"
    )
    other = next(m for m in bars if m != model)
    i = bars.index(other)
    click_shape(page, "#models-bars .bars .point path", i)
    wait_sections(page, sliced(f"model={other}"), SECTIONS)
    wait_chips(page, [f"Modelo: {other}"])
    page.locator("#slice-clear").click()  # «Quitar filtros»
    wait_sections(page, stamp(), SECTIONS)
    wait_chips(page, [])
    assert page.locator("#slice-clear").is_hidden()


def test_an_actions_donut_slice_and_a_legend_entry_filter_by_the_action(page_factory, app_url):
    page = open_page(page_factory, app_url)
    wait_sections(page, stamp(), SECTIONS)
    assert "Clic para filtrar" in hover_text(page, "actions-donut", ".slice path.surface")
    # The legend above both charts: a button per action type, «Clic para filtrar» on hover.
    entry = page.locator("#actions-legend-guardrail_check")
    assert entry.get_attribute("title") == "Clic para filtrar"
    entry.click()
    wait_sections(page, sliced("actionType=guardrail_check"), SECTIONS)
    wait_chips(page, ["Acción: Verificación de guardrails"])
    labels = page.evaluate("() => document.querySelector('#actions-donut .js-plotly-plot')._fullData[0].labels")
    assert labels == ["Verificación de guardrails"]
    page.locator("#slice-chips .slice-chip-x").first.click()
    wait_sections(page, stamp(), SECTIONS)
    wait_chips(page, [])
    # Keyboard: a legend entry is a button (Enter filters).
    page.locator("#actions-legend-title_generation").focus()
    page.keyboard.press("Enter")
    wait_sections(page, sliced("actionType=title_generation"), SECTIONS)
    # A donut slice adds its own action (AND across filters, OR within).
    keys = page.evaluate(
        "() => document.querySelector('#actions-donut .js-plotly-plot')._fullData[0].customdata.map(c => c[c.length-1])"
    )
    assert keys == ["title_generation"]
    page.locator("#slice-clear").click()
    wait_sections(page, stamp(), SECTIONS)
    click_shape(page, "#actions-donut .slice path.surface", 1)
    key = stamp_has(page, "actionType=").split("actionType=")[1]
    wait_sections(page, sliced(f"actionType={key}"), SECTIONS)
    assert len(chips(page)) == 1 and chips(page)[0].startswith("Acción: ")
    page.locator("#slice-clear").click()
    wait_sections(page, stamp(), SECTIONS)
    wait_chips(page, [])


def test_an_agent_row_and_the_system_byok_split_narrow_the_page(page_factory, app_url):
    page = open_page(page_factory, app_url)
    wait_sections(page, stamp(), SECTIONS)
    row = page.locator("#agents-grid .ag-center-cols-container .ag-row", has_text=AGENT_NAME)
    row.locator(".ag-cell").first.click()
    wait_sections(page, sliced(f"agentId={AGENT}"), SECTIONS)
    wait_chips(page, [f"Agente: {AGENT_NAME}"])
    page.wait_for_function(
        "n => [...document.querySelectorAll('#slice-agent .dash-dropdown-value-item')].some(e => e.innerText.startsWith(n))",
        arg=AGENT_NAME,
    )
    page.locator("#slice-chips .slice-chip-x").first.click()
    wait_sections(page, stamp(), SECTIONS)
    wait_chips(page, [])
    # Avanzado's System/BYOK split: a slice sets the source (the Origen filter), a legend entry too.
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    assert "Clic para filtrar" in hover_text(page, "advanced-source-split", ".slice path.surface")
    split = page.evaluate(
        "() => document.querySelector('#advanced-source-split .js-plotly-plot')._fullData[0].customdata"
        ".map(c => c[c.length-1])"
    )
    click_shape(page, "#advanced-source-split .slice path.surface", split.index("byok"))
    wait_sections(page, f"30d|byok|auto|{TZ}", [*SECTIONS, "section-advanced"])
    assert page.locator("#filter-source input[value='byok']").is_checked()
    page.locator("#filter-source label", has_text="Todos").click()  # the whole page again
    wait_sections(page, stamp(), [*SECTIONS, "section-advanced"])
    # Its legend entry: the same as its slice, and the slice stays drawn (no hide).
    page.locator("#advanced-source-split .legend .traces", has_text="Sistema").click()
    wait_sections(page, f"30d|system|auto|{TZ}", [*SECTIONS, "section-advanced"])
    assert page.locator("#filter-source input[value='system']").is_checked()
    hidden = page.evaluate(
        "() => document.querySelector('#advanced-source-split .js-plotly-plot')._fullLayout.hiddenlabels || []"
    )
    assert hidden == []


def test_the_dropdowns_show_the_urls_values_before_and_after_their_options(page_factory, app_url):
    # A value of the window (with its name and cost once the options come) and one the window
    # does not hold (its own text): both shown, both kept in the slice.
    page = open_page(page_factory, app_url, f"&agentId={AGENT}&model=gpt-4o-mini&userId=nadie")
    key = f"{stamp()}|agentId={AGENT};model=gpt-4o-mini;userId=nadie"
    wait_sections(page, key, SECTIONS)
    wait_chips(page, [f"Agente: {AGENT_NAME}", "Modelo: gpt-4o-mini", "Usuario: nadie"])
    page.wait_for_function(
        """() => {
            const t = s => [...document.querySelectorAll('#' + s + ' .dash-dropdown-value-item')].map(e => e.innerText);
            const a = t('slice-agent'), m = t('slice-model'), u = t('slice-user');
            return a.length === 1 && a[0].startsWith('Asistente de Ventas · US$')
                && m.length === 1 && m[0].startsWith('gpt-4o-mini · US$') && u.length === 1 && u[0] === 'nadie';
        }"""
    )
    # Removing a value in its dropdown removes it from the page; the others stay.
    page.locator("#slice-model").click()
    page.locator(".dash-dropdown-option", has_text="gpt-4o-mini").first.click()
    page.keyboard.press("Escape")
    wait_sections(page, f"{stamp()}|agentId={AGENT};userId=nadie", SECTIONS)
    wait_chips(page, [f"Agente: {AGENT_NAME}", "Usuario: nadie"])
    assert select_texts(page, "slice-model") == []


def test_the_copied_link_opens_the_same_view_in_a_new_page(page_factory, app_url):
    base, token = app_url
    page = open_page(page_factory, app_url, "&preset=90d")
    wait_sections(page, stamp("90d"), SECTIONS)
    page.locator("#actions-legend-user_interaction").click()
    wait_sections(page, f"{stamp('90d')}|actionType=user_interaction", SECTIONS)
    row = page.locator("#agents-grid .ag-center-cols-container .ag-row", has_text=AGENT_NAME)
    row.locator(".ag-cell").first.click()
    key = f"{stamp('90d')}|actionType=user_interaction;agentId={AGENT}"
    wait_sections(page, key, SECTIONS)
    page.wait_for_function("a => new URLSearchParams(location.search).get('agentId') === a", arg=AGENT)
    page.locator("#copy-link").click()
    page.wait_for_function("() => !!window.aiUsageLastLink")
    link = page.evaluate("() => window.aiUsageLastLink")
    q = parse_qs(urlsplit(link).query)
    assert "token" not in q and token not in link
    assert q["agentId"] == [AGENT] and q["actionType"] == ["user_interaction"] and q["preset"] == ["90d"]
    assert page.locator("#copy-link-status").inner_text() == "Enlace copiado (sin el token)"
    # The panel opens it with its own token: the same view, chips and dropdowns.
    other = page_factory(width=1280, height=1000)
    other.goto(f"{link}&token={token}")
    wait_sections(other, key, SECTIONS)
    wait_chips(other, ["Acción: Interacción de usuario", f"Agente: {AGENT_NAME}"])
    assert other.locator("#filter-preset input[value='90d']").is_checked()


EMPTY = [  # query -> the banner's words
    ("&agentId=nadie", "Agente = nadie"),
    ("&agentId=none&actionType=user_interaction", "Agente = Sin agente y Acción = Interacción de usuario"),
    ("&userId=nadie", "Usuario = nadie"),
    ("&provider=nadie", "Proveedor = nadie"),
    ("&model=nadie", "Modelo = nadie"),
    ("&userId=u1&actionType=document_indexing", "Usuario = u1 y Acción = Indexación de documentos"),
    ("&provider=anthropic&model=gpt-4o-mini", "Proveedor = anthropic y Modelo = gpt-4o-mini"),
    ("&model=a&model=b", "Modelo = a, b"),
    (f"&agentId={AGENT}&userId=nadie", f"Agente = {AGENT_NAME} y Usuario = nadie"),  # an agent by its name, as its chip
]


def test_a_filter_matching_nothing_names_itself_for_every_kind(page_factory, app_url):
    page = page_factory(width=1280, height=1000)
    base, token = app_url
    for query, words in EMPTY:
        page.goto(f"{base}?token={token}{query}")
        page.wait_for_function(
            "w => (document.getElementById('status-banner') || {}).innerText?.includes(w)", arg=words, timeout=30_000
        )
        banner = page.locator("#status-banner").inner_text()
        assert f"Sin datos para {words} en este periodo" in banner, (query, banner)
    # Hostile values are text: in the banner, the chips and the dropdowns, nothing is markup.
    hostile = "<b>negrita</b><img src=x onerror=alert(1)>"
    page.goto(f"{base}?token={token}&agentId={hostile.replace('&', '%26')}")
    page.wait_for_function("() => (document.getElementById('status-banner') || {}).innerText?.includes('negrita')")
    assert f"Sin datos para Agente = {hostile} en este periodo" in page.locator("#status-banner").inner_text()
    wait_chips(page, [f"Agente: {hostile}"])
    page.wait_for_function(
        "h => [...document.querySelectorAll('#slice-agent .dash-dropdown-value-item')].some(e => e.innerText === h)",
        arg=hostile,
    )
    assert page.locator("#status-banner b, #slice-row b, #status-banner img, #slice-row img").count() == 0
