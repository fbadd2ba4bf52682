"""«Otro» on the page: rows whose source is neither system nor byok get their own slice.

The dashboard's data set plus rows written as 'BYOK', ' system ', '' and 'partner', served
like test_browser.py serves it; Avanzado's donut and table show Sistema, BYOK and Otro,
and the three add up to the donut's total. Screenshot: test-artifacts/source-split-otro.png.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from support import dashboard_data
from support.db import copy_sqlite, insert_logs
from test_browser import ARTIFACTS, SECRET, TZ, chromium, graph, page_factory, serving, stamp, wait_sections  # noqa: F401

from storage.engine import make_engine
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ORG = "org-otro"
ODD = ["BYOK", " system ", "", "partner"]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, db_template):
    from app import create_app

    url = copy_sqlite(db_template("sqlite"), tmp_path_factory.mktemp("otro"))  # migrated: a template copy
    engine = make_engine(url)
    dashboard_data.seed(engine, ORG)
    now = datetime.now(UTC).replace(microsecond=0)
    odd = [
        {
            "org_id": ORG,
            "created_at": now - timedelta(days=3 + i % 20, hours=i % 24),
            "agent_id": None,
            "user_id": None,
            "action_type": "user_interaction",
            "source": ODD[i % len(ODD)],
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 900,
            "output_tokens": 300,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cost_usd": Decimal("0.0625"),
            "latency_ms": 500,
        }
        for i in range(80)
    ]
    insert_logs(engine, odd)
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine)
    with serving(app) as base:
        yield f"{base}?token={mint_token(SECRET, ORG)}"
    engine.dispose()


def test_the_split_has_an_otro_slice(page_factory, app_url):
    page = page_factory(width=1280, height=1000)
    page.goto(app_url)
    wait_sections(page, stamp())
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    page.wait_for_timeout(400)  # the collapse animation
    donut = graph(page, "advanced-source-split")
    assert donut["traces"][0]["type"] == "pie" and donut["traces"][0]["n"] == 3
    labels = page.evaluate(
        "() => Array.from(document.querySelector('#advanced-source-split .js-plotly-plot')._fullData[0].labels)"
    )
    assert labels == ["Sistema", "BYOK", "Otro"]
    table = page.locator("#advanced-source-split-table").inner_text()
    assert "Otro" in table and "ni byok" in table
    # 20 rows of '' and 'partner' at US$ 0,0625: Otro's cost is US$ 2,50 (BYOK and Sistema
    # also got 20 rows each of 'BYOK' and ' system ').
    otro = page.locator("#advanced-source-split-table tr", has_text="Otro").inner_text()
    assert "US$ 2,50" in otro and "40" in otro
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#advanced-source-split").scroll_into_view_if_needed()
    page.locator("#section-advanced").screenshot(path=str(ARTIFACTS / "source-split-otro.png"))
