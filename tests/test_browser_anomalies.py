"""Anomalías in the browser: ▲ on the trend with an escaped hover, the list, and a click that
narrows the window to the day and writes its top contributor into the slice store.

A fixed clock (20 November 2026, 13:00 in Madrid) over a weekly series with one spike on
Wednesday 11 November caused by an agent whose id and name are hostile markup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.api import log
from support.db import insert_agents, insert_logs
from test_browser import ARTIFACTS, ORG, SECRET, TZ, chromium, page_factory, serving, wait_sections  # noqa: F401

from storage.engine import make_engine, migrate
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SPIKE = date(2026, 11, 11)
HOSTILE_ID = "ag-<b>x</b>"
HOSTILE_NAME = "<img src=x onerror=alert(1)>Ventas"
WEEK = (1.0, 1.1, 1.05, 1.0, 0.9, 0.35, 0.25)


def _rows():
    zone, out, d = ZoneInfo(TZ), [], date(2026, 8, 1)
    while d < NOW.date():
        noise = 1 + 0.04 * ((d.toordinal() * 7919) % 11 - 5) / 5
        for agent, share, model in ((HOSTILE_ID, 0.4, "model-a"), ("ag-2", 0.6, "model-b")):
            bump = 8.0 if (d == SPIKE and agent == HOSTILE_ID) else 1.0
            when = datetime.combine(d, time(11), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
            cost = 100 * WEEK[d.weekday()] * share * noise * bump
            out.append(log(ORG, when, agent=agent, model=model, cost=f"{cost:.8f}"))
        d += timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('browser-anomalies') / 'dashboard.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    insert_logs(engine, _rows())
    insert_agents(engine, [{"id": HOSTILE_ID, "org_id": ORG, "name": HOSTILE_NAME, "avatar_url": None}])
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine, clock=lambda: NOW)
    with serving(app) as base:
        yield f"{base}?token={mint_token(SECRET, ORG)}"
    engine.dispose()


def key(preset="30d", start="", end="", sl=""):
    """A section's data-stamp; sl: the applied slice as the stamp writes it ('agentId=a')."""
    return "|".join([preset, *([start, end] if preset == "custom" else []), "all", "auto", TZ, *([sl] if sl else [])])


SECTIONS = ["section-kpis", "section-trend", "section-anomalies"]


def test_markers_list_and_click(page_factory, app_url):
    page = page_factory(width=1280, height=1000)
    page.goto(app_url)
    wait_sections(page, key(), SECTIONS)
    markers = page.evaluate("""() => document.querySelector('#trend-graph .js-plotly-plot')._fullData
        .filter(t => t.name === 'Anomalía al alza')
        .map(t => ({x: Array.from(t.x).map(v => String(v).slice(0, 10)), symbol: t.marker.symbol,
                    custom: t.customdata}))""")
    assert len(markers) == 1 and markers[0]["x"] == [SPIKE.isoformat()]
    assert markers[0]["symbol"] == "triangle-up"
    why = markers[0]["custom"][0][1]
    assert "&lt;img src=x onerror=alert(1)&gt;Ventas" in why and "<img" not in why
    assert why.startswith("Costo ") and "× lo esperado: +US$" in why
    items = page.locator("#anomaly-list .anomaly-item")
    assert items.count() == 1
    text = items.first.inner_text()
    assert "mié 11 nov 2026" in text and HOSTILE_NAME in text  # as text, never as markup
    assert page.locator("#anomaly-list img").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#section-anomalies").screenshot(path=str(ARTIFACTS / "anomalies-list.png"))

    items.first.click()
    day = SPIKE.isoformat()
    # The click narrows the window to the day and the slice to its top contributor: every stamp ends with it.
    wait_sections(page, key("custom", day, day, f"agentId={HOSTILE_ID}"), SECTIONS)
    applied = page.evaluate("""() => ['filter-applied-preset', 'filter-applied-start', 'filter-applied-end',
        'filter-slice'].map(id => window.dash_component_api.getLayout(id).props.data)""")
    assert applied == ["custom", day, day, {"agentId": [HOSTILE_ID]}]
    assert page.locator("#filter-preset input[value=custom]").is_checked()


def test_english_and_dark(page_factory, app_url):
    page = page_factory(width=1280, height=1000)
    page.goto(app_url + "&lang=en&theme=dark")
    wait_sections(page, key(), SECTIONS)
    marker = page.evaluate("""() => document.querySelector('#trend-graph .js-plotly-plot')._fullData
        .filter(t => t.name === 'Anomaly up').map(t => [t.marker.color, t.customdata[0][0], t.customdata[0][1]])""")
    assert len(marker) == 1
    colour, day, why = marker[0]
    assert colour == "#fca5a5" and day == "Rise · Wed, Nov 11, 2026"
    assert why.startswith("Cost ") and "× the expected: +$" in why and "from agent &lt;img" in why
    text = page.locator("#anomaly-list .anomaly-item").first.inner_text()
    assert "Rise · Wed, Nov 11, 2026" in text and "(expected $" in text
    assert page.locator("#section-anomalies .section-title").inner_text() == "Anomalies"
    page.locator("#section-anomalies").screenshot(path=str(ARTIFACTS / "anomalies-list-en-dark.png"))
