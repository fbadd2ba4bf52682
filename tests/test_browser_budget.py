"""Presupuesto in Chromium: a writer sets a budget (a refused value first, shown inline), the projection
card shows the budget and the probability of going over, the «Acumulado» burn-down draws the budget
line and the band to month end; a reader sees the budget but no editor, and its forged save writes nothing.

Screenshot: test-artifacts/budget-acumulado.png (light) and budget-dark.png."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from support import dashboard_data
from test_browser import ARTIFACTS, DATA_SECTIONS, SECRET, chromium, page_factory, serving, stamp, wait_sections  # noqa: F401

from layouts import fmt
from queries.budget import month_status
from storage.engine import make_engine, migrate
from storage.schema import budget_changes, org_budgets
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ORG = "org-budget"
TZ = "Europe/Madrid"
WRITE = ("ai.agent:read", "ai.agent:write")


class Served:
    def __init__(self, url, engine):
        self.url, self.engine = url, engine

    def token(self, policies=("ai.agent:read",), sub=None):
        return mint_token(SECRET, ORG, policies=policies, sub=sub)

    def rows(self):
        with self.engine.connect() as c:
            return (
                c.execute(sa.select(org_budgets).where(org_budgets.c.org_id == ORG)).all(),
                c.execute(sa.select(budget_changes).where(budget_changes.c.org_id == ORG)).all(),
            )


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('budget') / 'dashboard.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    dashboard_data.seed(engine, ORG)
    app = create_app(Settings(database_url=url, secret=SECRET, webhook_allow_hosts="127.0.0.1"), engine=engine)
    with serving(app) as base:
        yield Served(base, engine)
    engine.dispose()


def open_page(page, served, token, extra=""):
    page.goto(f"{served.url}?token={token}{extra}")
    wait_sections(page, stamp(), [*DATA_SECTIONS, "section-budget"], timeout=150_000)


def figure_meta(page, gid):
    return page.evaluate(
        """gid => { const gd = document.querySelector('#' + gid + ' .js-plotly-plot');
                   return gd && gd._fullData ? {meta: gd.layout.meta || null,
                          names: gd._fullData.map(t => t.name)} : null; }""",
        gid,
    )


def test_a_writer_sets_the_budget_and_sees_card_and_burn_down(page_factory, served):
    page = page_factory(width=1440, height=1800)
    open_page(page, served, served.token(WRITE, sub="ana@example.com"))
    amount = page.locator("#budget-amount")
    amount.wait_for()
    # A refused value: the validation's message inline, nothing written.
    amount.fill("mil")
    page.click("#budget-save")
    page.wait_for_selector("#budget-status .budget-error")
    assert "El presupuesto debe ser un número" in page.locator("#budget-status").inner_text()
    page.fill("#budget-webhook", "https://10.1.2.3/hook")
    amount.fill("1500")
    page.click("#budget-save")
    page.wait_for_function("() => document.querySelector('#budget-status').innerText.includes('webhook')")
    assert served.rows() == ([], [])
    # Accepted.
    page.fill("#budget-webhook", "")
    amount.fill("2,25")  # about the month's projection: a probability that is neither 0 nor 1
    page.fill("#budget-thresholds", "50 90 100")
    page.click("#budget-save")
    page.wait_for_selector("#budget-status .budget-ok")
    page.wait_for_function("() => document.querySelector('#kpi-budget').innerText.includes('2,25')")
    stored, changes = served.rows()
    assert stored[0].monthly_budget_usd == Decimal("2.25") and len(changes) == 1
    assert json.loads(stored[0].thresholds) == [0.5, 0.9, 1.0] and stored[0].timezone == TZ
    with served.engine.connect() as c:
        m = month_status(c, ORG, TZ, datetime.now(UTC), Decimal("2.25"))
    card = page.locator("#kpi-budget").inner_text()
    assert m.probability_over_budget is not None, m
    assert f"Probabilidad de superar el presupuesto: {fmt.percent(m.probability_over_budget, 0)}" in card
    assert "Presupuesto US$ 2,25" in card
    page.wait_for_function("() => document.querySelector('#budget-history').textContent.includes('ana@example.com')")
    assert "US$ 2,25 (umbrales 50 %, 90 %, 100 %)" in page.locator("#budget-history").text_content()
    # «Acumulado»: the burn-down with the budget line and the band to month end.
    page.locator("#trend-view label", has_text="Acumulado").click()
    page.wait_for_function(
        """() => { const gd = document.querySelector('#trend-cumulative .js-plotly-plot');
                   return gd && gd.layout.meta && gd.layout.meta.view === 'cumulative'; }"""
    )
    assert page.locator("#trend-period-wrap").is_hidden() and page.locator("#trend-cumulative-wrap").is_visible()
    drawn = figure_meta(page, "trend-cumulative")
    assert "Presupuesto" in drawn["names"] and "Proyección acumulada" in drawn["names"]
    meta = drawn["meta"]
    assert meta["budget"] == 2.25
    assert meta["monthToDate"] == pytest.approx(m.month_to_date_usd, abs=0.01)
    assert meta["final"]["projected"] == pytest.approx(m.projected_total_usd, rel=1e-6)
    assert meta["final"]["upper80"] == pytest.approx(m.upper80, rel=1e-6)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "budget-acumulado.png"), full_page=True)
    page.locator("#trend-view label", has_text="Por periodo").click()
    page.wait_for_function("() => !document.getElementById('trend-period-wrap').hidden")


def test_a_reader_sees_the_budget_but_no_editor(page_factory, served):
    page = page_factory(width=1280, height=1600)
    open_page(page, served, served.token(), "&theme=dark")
    page.wait_for_function("() => document.querySelector('#budget-summary').innerText.length > 0")
    page.wait_for_load_state("networkidle")  # every callback of the load has answered, the editor's too
    assert page.locator("#budget-editor").is_hidden() and not page.locator("#budget-save").is_visible()
    assert page.locator("#budget-amount").input_value() == "" and page.locator("#budget-webhook").input_value() == ""
    assert "Solo lectura" in page.locator("#budget-summary").inner_text()
    before = served.rows()
    if before[0]:
        assert "Probabilidad de superar el presupuesto" in page.locator("#kpi-budget").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "budget-dark.png"), full_page=True)
    # A forged save from the reader's page (the renderer's own request, by hand): nothing is written.
    body = {
        "output": "..budget-status.children...budget-version.data..",
        "outputs": [
            {"id": "budget-status", "property": "children"},
            {"id": "budget-version", "property": "data"},
        ],
        "inputs": [{"id": "budget-save", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": "budget-amount", "property": "value", "value": "5"},
            {"id": "budget-thresholds", "property": "value", "value": "50"},
            {"id": "budget-webhook", "property": "value", "value": ""},
            {"id": "session-token", "property": "data", "value": served.token()},
            {"id": "session-timezone", "property": "data", "value": TZ},
            {"id": "budget-version", "property": "data", "value": 0},
        ],
        "changedPropIds": ["budget-save.n_clicks"],
    }
    answer = page.evaluate(
        """async body => { const r = await fetch('/_dash-update-component', {method: 'POST',
               headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
               return [r.status, await r.text()]; }""",
        body,
    )
    assert answer[0] == 200 and "no permite cambiar el presupuesto" in answer[1], answer
    assert served.rows() == before
