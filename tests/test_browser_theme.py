"""The page's theme (`?theme=light|dark|auto`, contract §4) in real Chromium.

Dark: the page, the cards, the filter bar, the grid and every chart in the dark palette
(layouts/theme.py DARK_*), the contrast audit (tests/contrast_audit.js) passing as in light,
Avanzado open and the access page too. Auto: follows the emulated prefers-color-scheme, and
redraws when it changes. Screenshots: /work/shots-theme/ when it exists (else test-artifacts/).
"""

from __future__ import annotations

import functools
import operator
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401
    ARTIFACTS,
    TZ,
    chromium,
    page_factory,
    served,
    stamp,
    wait_sections,
)

from layouts import theme

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def warm_imports():
    """What a served process imports at start-up (app.start_up): the projection's statsmodels,
    imported lazily here, took 35 s on the first request on a loaded 2-core machine."""
    import scipy.special  # noqa: F401
    import statsmodels.tools.tools  # noqa: F401


AUDIT = (Path(__file__).parent / "contrast_audit.js").read_text()
SHOTS = Path("/work/shots-theme") if Path("/work/shots-theme").is_dir() else ARTIFACTS
CHARTS = ["trend-graph", "actions-area", "actions-donut", "models-bars", "models-bubble"]
ADVANCED_CHARTS = ["advanced-heatmap", "advanced-source-split"]


def rgb(hex_colour: str) -> str:
    """'#171d2b' -> 'rgb(23, 29, 43)', as getComputedStyle answers."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def drawn(page, gid: str) -> dict:
    """What plotly drew: the template's text colour, the trace colours, the heatmap's scale."""
    # The section's data stamp can land before plotly.js (loaded asynchronously) has drawn.
    page.wait_for_function(
        "gid => { const gd = document.querySelector('#' + gid + ' .js-plotly-plot'); return !!(gd && gd._fullLayout); }",
        arg=gid,
    )
    return page.evaluate(
        """gid => {
        const gd = document.querySelector('#' + gid + ' .js-plotly-plot');
        const fl = gd._fullLayout, lines = gd._fullData.map(t => (t.line && t.line.color) || null);
        return {font: fl.font.color, hover: fl.hoverlabel.bgcolor, lines,
                markers: gd._fullData.map(t => (t.marker && (t.marker.colors || t.marker.color)) || null),
                scale: gd._fullData.filter(t => t.type === 'heatmap').map(t => t.colorscale)[0] || null};
    }""",
        gid,
    )


def open_page(page_factory, served, query: str, scheme: str | None = None, width: int = 1280):
    page = page_factory(width=width, height=900)
    if scheme:
        page.emulate_media(color_scheme=scheme)
    page.goto(f"{served.app_url}?token={served.token}{query}")
    wait_sections(page, stamp())
    return page


def open_advanced(page):
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    page.wait_for_timeout(400)  # the collapse animation


def test_dark_theme_reaches_page_grid_and_every_chart(page_factory, served):
    page = open_page(page_factory, served, "&theme=dark")
    assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == rgb("#0f1420")
    assert page.evaluate("getComputedStyle(document.querySelector('.kpi-card')).backgroundColor") == rgb(
        theme.DARK_SURFACE
    )
    # The grid's dark mode (AG Grid theme modes): its background is the dark card's.
    grid_bg = page.evaluate("getComputedStyle(document.querySelector('#agents-grid .ag-root-wrapper')).backgroundColor")
    assert grid_bg == rgb(theme.DARK_SURFACE)
    open_advanced(page)
    for gid in CHARTS + ADVANCED_CHARTS:
        d = drawn(page, gid)
        assert d["font"] == theme.DARK_INK and d["hover"] == theme.DARK_SURFACE, (gid, d)
    trend = drawn(page, "trend-graph")
    assert trend["lines"][:2] == [theme.DARK_PALETTE["tokens"], theme.DARK_PALETTE["cost"]]
    donut = drawn(page, "actions-donut")["markers"][0]
    assert donut == [theme.DARK_PALETTE[f"action:{a}"] for a in theme.ACTIONS][: len(donut)]
    assert drawn(page, "advanced-heatmap")["scale"] == theme.DARK_HEATMAP_SCALE
    # No light data colour is left on any chart.
    light = {c.lower() for c in theme.PALETTE.values()}
    for gid in CHARTS + ADVANCED_CHARTS:
        d = drawn(page, gid)
        used = {
            c.lower()
            for c in d["lines"]
            + functools.reduce(operator.iadd, [m if isinstance(m, list) else [m] for m in d["markers"]], [])
            if isinstance(c, str) and c.startswith("#")
        }
        assert not used & light, (gid, used & light)
    page.locator("#filter-preset label", has_text="Personalizado").click()
    page.locator("#filter-dates").fill("99/99/2026")
    page.locator("#filter-dates").press("Tab")  # the notice shows too
    page.locator("#filter-notice:not(:empty)").wait_for()
    assert page.evaluate(AUDIT) == []
    page.screenshot(path=str(SHOTS / "dark-1280-full.png"), full_page=True)
    page.locator("#filter-dates-wrapper").click()  # the date picker's calendar, dark
    page.locator(".dash-datepicker-content").wait_for()
    assert page.evaluate(AUDIT) == []
    page.screenshot(path=str(SHOTS / "dark-datepicker.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 520})


def test_dark_collapsed_advanced_and_narrow(page_factory, served):
    page = open_page(page_factory, served, "&theme=dark", width=768)
    assert page.evaluate(AUDIT) == []
    page.screenshot(path=str(SHOTS / "dark-768-full.png"), full_page=True)


def test_dark_access_page(page_factory, served):
    page = page_factory()
    page.goto(f"{served.app_url}?theme=dark")
    page.locator("#access-denied").wait_for(state="visible")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == rgb("#0f1420")
    assert page.evaluate(AUDIT) == []
    page.screenshot(path=str(SHOTS / "dark-access.png"))


def test_light_is_the_default_and_explicit(page_factory, served):
    for query in ("", "&theme=light", "&theme=%3Cscript%3E"):  # anything else: light
        page = open_page(page_factory, served, query)
        assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == "light"
        assert drawn(page, "trend-graph")["font"] == theme.INK
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == rgb("#f5f6fa")
    open_advanced(page)
    assert page.evaluate(AUDIT) == []
    page.screenshot(path=str(SHOTS / "light-1280-full.png"), full_page=True)


def test_auto_follows_the_system_scheme_live(page_factory, served):
    page = open_page(page_factory, served, "&theme=auto", scheme="dark")
    assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == "dark"
    assert drawn(page, "trend-graph")["font"] == theme.DARK_INK
    page.emulate_media(color_scheme="light")  # the system switches while the page is open
    page.wait_for_function("document.documentElement.getAttribute('data-bs-theme') === 'light'")
    page.wait_for_function(
        """ink => { const gd = document.querySelector('#trend-graph .js-plotly-plot');
                   return gd && gd._fullLayout.font.color === ink; }""",
        arg=theme.INK,
    )
    wait_sections(page, stamp())
    assert page.evaluate(AUDIT) == []
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(
        """ink => { const gd = document.querySelector('#trend-graph .js-plotly-plot');
                   return gd && gd._fullLayout.font.color === ink; }""",
        arg=theme.DARK_INK,
    )
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == rgb("#0f1420")
