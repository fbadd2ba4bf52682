"""The page's latency percentiles: the bubbles' x (Media · p50 · p95), the models table
(cost per execution, p50/p95/p99) and the agents grid's p95 column, in Chromium.

Screenshots go to tests/artifacts (and, with AI_USAGE_SHOTS=dir, to that directory too).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support import dashboard_data
from support.db import copy_sqlite
from test_browser import ARTIFACTS, SECRET, chromium, page_factory, serving, stamp, wait_sections  # noqa: F401

from storage.engine import make_engine
from storage.settings import Settings
from web.auth import mint_token

ORG = "org-browser-latency"


@pytest.fixture(scope="module")
def served(tmp_path_factory, db_template):
    from app import create_app

    url = copy_sqlite(db_template("sqlite"), tmp_path_factory.mktemp("browser-latency"))  # migrated: a template copy
    engine = make_engine(url)
    dashboard_data.seed(engine, ORG)
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine)
    with serving(app) as base:
        yield f"{base}?token={mint_token(SECRET, ORG)}"
    engine.dispose()


def _shot(locator, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    locator.screenshot(path=str(path))
    extra = os.environ.get("AI_USAGE_SHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)


def test_bubbles_latency_choice_models_table_and_agents_p95(page_factory, served):
    page = page_factory(width=1280, height=1100)
    page.goto(served)
    # the first load runs every section's queries: generous on a busy machine
    wait_sections(page, stamp(), ["section-models", "section-agents"], timeout=150_000)
    section = page.locator("#section-models")
    section.scroll_into_view_if_needed()
    title = "() => document.querySelector('#models-bubble .js-plotly-plot').layout.xaxis.title.text"
    assert page.evaluate(title) == "Latencia media (ms)"
    for label, want in (("p95", "Latencia p95 (ms)"), ("p50", "Latencia p50 (mediana) (ms)")):
        page.locator("#models-latency label", has_text=label).click()
        page.wait_for_function(f"() => ({title[6:]}) === {want!r}")
        wait_sections(page, stamp(), ["section-models"])
        if label == "p95":
            page.wait_for_timeout(300)
            _shot(section, "models-bubbles-p95.png")
    page.locator("#data-models-bubble-button").click()
    table = page.locator("#data-models-bubble table")
    table.wait_for()
    heads = table.locator("thead th").all_inner_texts()
    assert heads[-5:] == ["Latencia media", "p50", "p95", "p99"][-5:] or heads[-4:] == [
        "Latencia media",
        "p50",
        "p95",
        "p99",
    ]
    assert "Costo por ejecución" in heads
    cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[2].startswith("US$ ") and all(c.endswith(" ms") for c in cells[-4:])
    page.wait_for_timeout(200)
    _shot(section, "models-table-percentiles.png")
    agents = page.locator("#section-agents")
    agents.scroll_into_view_if_needed()
    header = page.locator("#agents-grid .ag-header-cell[col-id='p95_latency_ms']", has_text="p95")
    header.wait_for()
    values = page.locator("#agents-grid .ag-cell[col-id='p95_latency_ms']").all_inner_texts()
    assert values and all(v.endswith(" ms") or v == "—" for v in values)
    assert any(v.endswith(" ms") for v in values)
    page.wait_for_timeout(200)
    _shot(agents, "agents-p95.png")
