"""The page in EUR in Chromium: the note, the cards, the trend's axis and the grid in euros.

Screenshot: /work/shots-firstrun/currency-eur.png (test-artifacts/currency-eur.png elsewhere)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from support import dashboard_data
from support.db import copy_sqlite
from test_browser import ARTIFACTS, DATA_SECTIONS, SECRET, SECTIONS_READY, chromium, page_factory, serving, stamp  # noqa: F401

from ingest.rates import write_rates
from layouts import fmt, i18n
from storage.currencies import Rate
from storage.engine import make_engine
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ORG = "org-eur"
SHOTS = Path(os.environ.get("AI_USAGE_SHOTS", ARTIFACTS))


def wait_sections(page, key) -> None:
    """Every data section answered for key and drawn (a longer wait than test_browser's: a
    first load imports statsmodels for the projection, slow on a busy 2-core machine)."""
    page.wait_for_function(SECTIONS_READY, arg=[DATA_SECTIONS, key], timeout=150_000)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, db_template):
    from app import create_app

    url = copy_sqlite(db_template("sqlite"), tmp_path_factory.mktemp("eur"))  # migrated: a template copy
    engine = make_engine(url)
    dashboard_data.seed(engine, ORG)
    with engine.begin() as conn:
        write_rates(conn, [Rate("EUR", Decimal("0.92"), datetime.now(UTC).date() - timedelta(days=1))])
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine)
    with serving(app) as base:
        yield f"{base}?token={mint_token(SECRET, ORG)}"
    engine.dispose()


def test_the_page_in_eur(page_factory, app_url):
    page = page_factory(width=1440, height=1800)
    page.goto(app_url + "&currency=EUR")
    wait_sections(page, stamp())
    day = fmt.day(datetime.now(UTC).date() - timedelta(days=1))
    note = page.locator("#currency-note").inner_text()
    assert note == f"Importes en EUR a 0,92 por USD (tasa del {day}).", note
    cost = page.locator("#kpi-cost .kpi-value").inner_text()
    assert cost.endswith(" €") and "US$" not in cost
    assert "US$" not in page.locator("#kpi-projection").inner_text()
    axis = page.evaluate("() => document.querySelector('#trend-graph .js-plotly-plot').layout.yaxis2.ticksuffix")
    assert axis == " €"
    page.wait_for_selector("#agents-grid .ag-row")
    header = page.locator("#agents-grid .ag-header-cell-text").all_inner_texts()
    assert "Costo (EUR)" in header and "Costo (USD)" not in header
    first = page.locator("#agents-grid .ag-row .ag-right-aligned-cell").first.inner_text()
    assert first.endswith(" €")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "currency-eur.png"), full_page=True)


def test_an_unknown_currency_says_so_and_stays_in_usd(page_factory, app_url):
    page = page_factory(width=1280, height=900)
    page.goto(app_url + "&currency=ZZZ")
    wait_sections(page, stamp())
    assert "no es un código de moneda ISO 4217" in page.locator("#currency-note").inner_text()
    assert page.locator("#kpi-cost .kpi-value").inner_text().startswith("US$ ")
    page.screenshot(path=str(SHOTS / "currency-unknown.png"))


def test_the_page_in_eur_in_english_and_dark(page_factory, app_url):
    """The three sides together: English conventions (symbol first), euros, the dark theme."""
    page = page_factory(width=1440, height=1800)
    page.goto(app_url + "&currency=EUR&lang=en&theme=dark")
    wait_sections(page, stamp())
    with i18n.use("en"):
        day = fmt.day(datetime.now(UTC).date() - timedelta(days=1))
    note = page.locator("#currency-note").inner_text()
    assert note == f"Amounts in EUR at 0.92 per USD (rate of {day}).", note
    cost = page.locator("#kpi-cost .kpi-value").inner_text()
    assert cost.startswith("€") and "." in cost and "$" not in cost, cost  # €1.78, not 1,78 €
    axis = page.evaluate("() => document.querySelector('#trend-graph .js-plotly-plot').layout.yaxis2.tickprefix")
    assert axis == "€"
    page.wait_for_selector("#agents-grid .ag-row")
    header = page.locator("#agents-grid .ag-header-cell-text").all_inner_texts()
    assert "Cost (EUR)" in header, header
    first = page.locator("#agents-grid .ag-row .ag-right-aligned-cell").first.inner_text()
    assert first.startswith("€"), first
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "currency-eur-en-dark.png"), full_page=True)
