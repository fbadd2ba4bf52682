"""A phone or a narrow panel in real Chromium: the grids keep their names readable and the
filter bar stops covering the screen.

- Agentes and Usuarios: past the unit costs (hidden first) and p95 (next), a grid still too
  narrow pins its name column to the left and scrolls the numbers sideways under it (at 600 px
  an agent's name showed 6 characters, «Velet…»). A wide window gets everything back, unpinned.
- The grids' tools wrap inside their panel (at 390 px «Exportar CSV» was cut at its edge).
- The filter bar is sticky, but taller than a quarter of the window (368 of 844 px on a 390 px
  phone) it scrolls away with the page (assets/filterbar.js), and sticks again on a larger window.
"""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, chromium, page_factory, served, stamp, wait_sections  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GRID = """gid => {
    const g = document.getElementById(gid);
    const names = [...g.querySelectorAll('.ag-pinned-left-cols-container .ag-row .ag-cell')];
    const scroll = g.querySelector('.ag-body-horizontal-scroll-viewport');
    return {pinned: names.length,
            pinnedWidths: names.map(c => Math.round(c.getBoundingClientRect().width)),
            headers: [...g.querySelectorAll('.ag-header-cell')].map(h => h.getAttribute('col-id')),
            scrolls: scroll ? scroll.scrollWidth > scroll.clientWidth + 1 : false};
}"""


def open_at(page_factory, served, width, height):
    page = page_factory(width=width, height=height)
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp(), ["section-agents", "section-users"])
    page.wait_for_function("() => document.querySelectorAll('#users-grid .ag-row').length > 0")
    return page


def settled(page, gid, pinned):
    """Wait for narrowColumns (run on the grid's size events) to have pinned or unpinned gid."""
    page.wait_for_function(
        "([gid, pinned]) => (document.querySelectorAll('#' + gid + ' .ag-pinned-left-cols-container .ag-row').length > 0)"
        " === pinned",
        arg=[gid, pinned],
        timeout=15_000,
        polling=200,
    )
    return page.evaluate(GRID, gid)


def test_on_a_phone_the_grids_pin_their_names_and_a_wide_window_unpins_them(page_factory, served):
    page = open_at(page_factory, served, 390, 844)
    agents = settled(page, "agents-grid", True)
    assert agents["pinned"] > 0 and min(agents["pinnedWidths"]) >= 170  # names: ~20 characters beside the avatar
    assert agents["headers"][0] == "name" and "p95_latency_ms" not in agents["headers"]  # p95 stepped aside
    assert not {"cost_per_execution_usd", "cost_per_1k_tokens_usd"} & set(agents["headers"])
    assert agents["scrolls"]  # the numbers scroll sideways under the pinned names
    users = settled(page, "users-grid", True)
    assert users["pinned"] > 0 and min(users["pinnedWidths"]) >= 150 and users["headers"][0] == "label"
    # The grids' tools (search, «Mostrar», Exportar CSV) wrap inside their panel, none cut at its edge.
    outside = page.evaluate("""() => [...document.querySelectorAll('.grid-tools > *')].filter(el => {
        const panel = el.closest('.panel').getBoundingClientRect(), box = el.getBoundingClientRect();
        return box.width > 0 && (box.right > panel.right + 0.5 || box.left < panel.left - 0.5);
    }).map(el => el.textContent || el.className)""")
    assert outside == []
    # New rows re-run the narrowing without the grid's width (dashboard.narrow, on rowData): the
    # centre's range plus the pinned names is the width, so the grid stays as it is.
    page.locator("#filter-preset label", has_text="7d").first.click()
    wait_sections(page, stamp("7d"), ["section-agents", "section-users"])
    page.wait_for_timeout(500)
    again = settled(page, "agents-grid", True)
    assert again["headers"] == agents["headers"] and min(again["pinnedWidths"]) >= 170
    page.locator("#section-agents").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "narrow-390-agents.png"))
    # The same page on a wide window: every column back, nothing pinned, no sideways scroll.
    page.set_viewport_size({"width": 1280, "height": 900})
    agents = settled(page, "agents-grid", False)
    assert {"p95_latency_ms", "cost_per_execution_usd", "cost_per_1k_tokens_usd"} <= set(agents["headers"])
    assert not agents["scrolls"]
    assert settled(page, "users-grid", False)["pinned"] == 0


def test_at_768_px_p95_steps_aside_before_the_agent_names_shrink(page_factory, served):
    page = open_at(page_factory, served, 768, 1000)
    agents = settled(page, "agents-grid", False)
    assert "p95_latency_ms" not in agents["headers"] and "tokens" in agents["headers"]
    assert not agents["scrolls"]
    width = page.evaluate(
        "() => Math.round(document.querySelector(\"#agents-grid .ag-header-cell[col-id='name']\")"
        ".getBoundingClientRect().width)"
    )
    assert width >= 170


FILTERBAR = """() => ({position: getComputedStyle(document.querySelector('.filterbar-wrap')).position,
                       static: document.documentElement.classList.contains('filterbar-static')})"""


def test_the_filter_bar_scrolls_away_when_it_covers_over_a_quarter_of_the_window(page_factory, served):
    page = open_at(page_factory, served, 390, 844)
    page.wait_for_function("() => document.documentElement.classList.contains('filterbar-static')")
    assert page.evaluate(FILTERBAR) == {"position": "static", "static": True}
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(300)
    top = page.evaluate("() => document.querySelector('.filterbar-wrap').getBoundingClientRect().bottom")
    assert top <= 0  # scrolled out of sight with the page
    page.set_viewport_size({"width": 1280, "height": 800})  # 136 px of 800: sticky again
    page.wait_for_function("() => !document.documentElement.classList.contains('filterbar-static')")
    assert page.evaluate(FILTERBAR) == {"position": "sticky", "static": False}
    page.set_viewport_size({"width": 768, "height": 600})  # a short panel: 212 px of 600
    page.wait_for_function("() => document.documentElement.classList.contains('filterbar-static')")


def test_a_window_height_moving_a_little_does_not_flip_the_filter_bar(page_factory, served):
    """Static past 25 % of the window, sticky again only under 22 %: a mobile browser's toolbar
    hiding while the page scrolls (the window a few percent taller) leaves the bar as it is."""
    page = open_at(page_factory, served, 1024, 900)
    bar = page.evaluate("() => document.querySelector('.filterbar-wrap').getBoundingClientRect().height")
    steps = [(0.235, False), (0.26, True), (0.235, True), (0.19, False)]  # (share of the window, static)
    for share, static in steps:
        page.set_viewport_size({"width": 1024, "height": round(bar / share)})
        page.wait_for_function(
            "s => document.documentElement.classList.contains('filterbar-static') === s", arg=static, timeout=5_000
        )
        assert page.evaluate(FILTERBAR)["static"] is static, share
