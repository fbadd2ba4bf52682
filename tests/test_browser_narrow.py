"""A phone or a narrow panel in real Chromium: the grids keep their names readable and the
filter bar stops covering the screen.

- Agentes and Usuarios: past the unit costs (hidden first) and p95 (next), a grid still too
  narrow pins its name column to the left and scrolls the numbers sideways under it (at 600 px
  an agent's name showed 6 characters, «Velet…»). A wide window gets everything back, unpinned.
- The grids' tools wrap inside their panel (at 390 px «Exportar CSV» was cut at its edge).
- The filter bar is sticky, but taller than a quarter of the window (368 of 844 px on a 390 px
  phone) it scrolls away with the page (assets/filterbar.js), and sticks again on a larger window.
- Date axes keep their labels level: on a phone the trend's weekly labels were tilted by 30°
  (six on a 219 px axis); assets/dateticks.js steps them out (every 14 days) and back.
- The heatmap's weekday names stood upright on a phone («miércoles» in a 23 px column): the
  same script gives them their short form there («L M X J V S D»), and their full names back.
"""

from __future__ import annotations

from itertools import pairwise

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


def test_on_a_phone_copiar_enlace_and_the_models_tools_line_up_on_the_left(page_factory, served):
    """Wrapped onto a line of its own, «Copiar enlace»'s text starts where the labels above it
    do: no gap for the chips while there are none, and its padding (the click target) outside.
    Modelos' toggles, under its title, start at the left as every other section's tools do."""
    page = open_at(page_factory, served, 390, 844)
    left = page.evaluate(
        """() => { const r = document.createRange(); r.selectNodeContents(document.getElementById('copy-link'));
                   const at = s => document.querySelector(s).getBoundingClientRect().left;
                   return [r.getBoundingClientRect().left, at('#slice-row .slice-group'),
                           at('#section-models .tools-row > *'), at('#section-models .section-title')]; }"""
    )
    assert abs(left[0] - left[1]) <= 1 and abs(left[2] - left[3]) <= 1, left


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


# Every date x axis whose step the server fixed: its step, labels and their boxes as drawn.
DATE_AXES = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(gd => {
    const full = gd._fullLayout, given = gd.layout || {};
    if (!full || !gd.offsetParent) return [];
    return Object.keys(full).filter(k => /^xaxis\\d*$/.test(k) && full[k].type === 'date' && full[k].visible
                                       && given[k] && given[k].dtick != null).map(k => {
        const texts = [...gd.querySelectorAll('g.' + full[k]._id + 'tick > text')];
        return {graph: gd.closest('[id]').id, dtick: given[k].dtick, length: full[k]._length,
                labels: texts.map(t => t.textContent),
                boxes: texts.map(t => { const b = t.getBoundingClientRect(); return [b.left, b.right, b.height]; })};
    });
})"""


def level(axes):
    """Each axis's labels stand level (one text line high) and apart, in order; {graph: dtick}."""
    for a in axes:
        boxes = sorted(a["boxes"])
        assert boxes and all(h < 20 for _, _, h in boxes), a  # a label tilted by 30° is ~30 px high
        assert all(nxt[0] - cur[1] >= 4 for cur, nxt in pairwise(boxes)), a
    return {a["graph"]: a["dtick"] for a in axes}


def test_on_a_phone_date_labels_stand_level_and_a_wide_window_gets_the_finer_step_back(page_factory, served):
    page = open_at(page_factory, served, 1280, 900)
    page.wait_for_function(f"() => ({DATE_AXES})().length >= 2")
    wide = level(page.evaluate(DATE_AXES))
    assert {"trend-graph", "actions-area"} <= set(wide)

    def resized(width, trend_step_is, step):
        page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
        page.wait_for_function(
            f"s => ({DATE_AXES})().some(a => a.graph === 'trend-graph' && (a.dtick === s) === {trend_step_is})",
            arg=step,
        )
        page.wait_for_timeout(500)  # every graph's resize and re-plot
        return page.evaluate(DATE_AXES)

    axes = resized(390, "false", wide["trend-graph"])
    narrow = level(axes)
    trend = next(a for a in axes if a["graph"] == "trend-graph")
    assert narrow["trend-graph"] > wide["trend-graph"] and len(trend["labels"]) >= 2
    assert all(narrow[g] >= wide[g] for g in wide)  # a coarser step where needed, never a finer one
    # The same figures on a wide window again: the server's own, finer steps come back.
    assert level(resized(1280, "true", wide["trend-graph"])) == wide
    # ...and stay: no relayout goes back and forth once the page has settled.
    page.evaluate(
        "() => { window.__relayouts = 0; document.querySelectorAll('.js-plotly-plot').forEach(g =>"
        " g.on('plotly_relayout', () => window.__relayouts++)); }"
    )
    page.wait_for_timeout(1500)
    assert page.evaluate("() => window.__relayouts") == 0
    # A new figure (another period) on the phone starts from its own server step, fitted.
    resized(390, "false", wide["trend-graph"])
    page.locator("#filter-preset label", has_text="90d").first.click()
    wait_sections(page, stamp("90d"), ["section-trend", "section-actions"])
    page.wait_for_timeout(800)
    level(page.evaluate(DATE_AXES))
    server = "() => document.querySelector('#trend-graph .js-plotly-plot').__dateTicks.xaxis.from"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_function(f"() => ({DATE_AXES})().some(a => a.graph === 'trend-graph' && a.dtick === ({server})())")
    page.wait_for_timeout(500)
    level(page.evaluate(DATE_AXES))
    ladder = page.evaluate(
        "() => [window.dashboardDateTicks.ladder('M2'), window.dashboardDateTicks.ladder(7 * 86400000).length,"
        " window.dashboardDateTicks.pick([1, 2, 4], 30, 100, 10), window.dashboardDateTicks.pick([1, 2], 30, 100, 10)]"
    )
    # 7, 14, 28, 56, 112 days; labels 30 px wide + 8 apart on 100 px showing 10 ms: a step of 4 ms
    # (40 px) is the first that fits; when none does, the coarsest.
    assert ladder == [["M2", "M3", "M4", "M6", "M12"], 5, 4, 2]


# The heatmap's weekday names as drawn: their text and boxes.
DAY_NAMES = """() => [...document.querySelectorAll('#advanced-heatmap g.xtick > text')].map(t => {
    const b = t.getBoundingClientRect(); return [t.textContent, b.left, b.right, b.height]; })"""


def test_on_a_phone_the_heatmap_names_its_days_by_their_initials_and_a_wide_window_spells_them_out(
    page_factory, served
):
    page = open_at(page_factory, served, 1280, 900)
    page.locator("#advanced-toggle").click()
    page.wait_for_function(f"() => ({DAY_NAMES})().length === 7")

    def names(first):
        page.wait_for_function(f"f => ({DAY_NAMES})()[0][0] === f", arg=first)
        drawn = page.evaluate(DAY_NAMES)
        assert all(h < 20 for *_, h in drawn), drawn  # level: an upright «miércoles» is ~60 px high
        assert all(nxt[1] - cur[2] >= 4 for cur, nxt in pairwise(drawn)), drawn
        return [d[0] for d in drawn]

    assert names("lunes") == ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
    page.set_viewport_size({"width": 390, "height": 844})
    assert names("L") == ["L", "M", "X", "J", "V", "S", "D"]
    # «Caché por modelo»: its five columns scroll sideways inside the panel (the page does not),
    # and each amount stays on one line.
    cache = page.evaluate(
        """() => { const s = document.querySelector('#advanced-cache-models .table-scroll');
                   const tall = [...s.querySelectorAll('td.num')].map(td => {
                       const r = document.createRange(); r.selectNodeContents(td);
                       return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size; });
                   return [s.scrollWidth > s.clientWidth, document.documentElement.scrollWidth, Math.max(...tall)]; }"""
    )
    assert cache == [True, 390, 1], cache
    hover = page.evaluate(
        "() => document.querySelector('#advanced-heatmap .js-plotly-plot').data[0].customdata[9][2][0]"
    )
    assert hover == "miércoles"  # the hover keeps the full name
    page.set_viewport_size({"width": 1280, "height": 900})
    assert names("lunes")[2] == "miércoles"
    pick = "(f, w, p) => window.dashboardDateTicks.pickNames(f, s => s.length * w, p)"
    forms = [["lunes", "martes"], ["lun", "mar"], ["L", "M"]]
    # 6 px a letter and 8 px apart: «martes» needs 44 px, «mar» 26; none fits in 10 px: the last.
    assert [page.evaluate(f"([f, p]) => ({pick})(f, 6, p)", [forms, p]) for p in (44, 43, 26, 10)] == [0, 1, 1, 2]
