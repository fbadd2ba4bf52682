"""The cost truth in real Chromium: the unpriced estimate under the cost KPI, net savings on the
cache card, and in Avanzado the savings timeline and the per-model cache table.

Reuses test_browser's served app (the small dashboard data set) and Chromium. Screenshots of
the cards and of the cache row go to test-artifacts/ (and to $COST_SHOTS when set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    ORG,
    TZ,
    chromium,
    graph,
    page_factory,
    served,
    stamp,
    wait_sections,
)

import queries
from layouts import fmt

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _figures(served):
    f = queries.parse_filters({"preset": "30d", "timezone": TZ}, ORG)
    with served.engine.connect() as c:
        return queries.summary(c, f).iloc[0], queries.cache_economics(c, f)


@pytest.mark.parametrize("width", [1280, 768])
def test_cost_truth_on_the_page(page_factory, served, width):
    s, e = _figures(served)
    page = page_factory(width=width)
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    cost = page.locator("#kpi-cost").inner_text()
    n = int(s["unpriced_executions"])
    assert n > 0, "the browser data set should hold calls without a price"
    assert f"+ {fmt.usd(s['estimated_unpriced_cost_usd'])} estimados en {fmt.integer(n)} llamadas sin precio" in cost
    assert fmt.usd(s["total_cost_usd"]) in cost
    card = page.locator("#kpi-cache .has-hover")
    assert card.inner_text() == f"Ahorro neto {fmt.usd(e.total.iloc[0]['net_savings_usd'])}"
    assert "prima de escritura" in card.get_attribute("title")
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    page.wait_for_timeout(400)  # the collapse animation
    g = graph(page, "advanced-cache-timeline")
    assert [t["name"] for t in g["traces"]] == ["Ahorro neto (USD)", "Tasa de aciertos"]
    assert g["traces"][0]["n"] == len(e.points)
    table = page.locator("#advanced-cache-models")
    rows = table.locator("tbody tr")
    assert rows.count() == min(12, int((e.models["total_input_tokens"] > 0).sum())) + (
        1 if (e.models["total_input_tokens"] > 0).sum() > 12 else 0
    )
    assert "Prima escritura" in table.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    out = [ARTIFACTS] + ([Path(os.environ["COST_SHOTS"])] if os.environ.get("COST_SHOTS") else [])
    for d in out:
        d.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("#section-kpis").screenshot(path=str(d / f"cost-kpis-{width}.png"))
        page.locator("#advanced-cache-timeline").scroll_into_view_if_needed()
        page.locator("#advanced-collapse").screenshot(path=str(d / f"cost-advanced-{width}.png"))
