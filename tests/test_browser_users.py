"""Usuarios in the browser: the grid shows the top 50 with «otros» pinned under them, the search
narrows it, a row click narrows the page (a chip) and the chip's ✕ widens it again, the CSV
downloads what the grid shows (hostile ids made inert), and a chart's «CSV» names its file
after the period and the slice.

Screenshots: test-artifacts/users-light.png and users-dark.png (the section alone).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
from support.api import log
from support.db import insert_logs
from test_browser import ARTIFACTS, SECRET, TZ, chromium, page_factory, serving, wait_sections  # noqa: F401

from storage.engine import make_engine, migrate
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ORG = "org-browser-users"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "@import", "<img src=x onerror=alert(1)>", "\u202eevil\u202c.exe"]
PEOPLE = HOSTILE + [f"ana.{i:02d}@example.com" for i in range(56)]  # 61 users, and the rows without one
SECTIONS = ["section-kpis", "section-users"]
FIRST, LAST = "2026-10-22", "2026-11-20"  # the 30 days ending today (the page's default)


def _rows():
    out = []
    for i, user in enumerate([None, *PEOPLE]):  # system usage (no user) first: a big row
        trend = ((i % 5) - 2) / 3  # some users grow over the month, some shrink
        for d in range(20):
            for k in range(1 + i % 3):
                when = (NOW - timedelta(days=d, hours=1 + i % 7 + k)).replace(tzinfo=None)
                wave = 1 + trend * (10 - d) / 10 + 0.15 * ((d * 7 + i) % 5 - 2) / 2
                cost = f"{max(0.01, (0.05 + (len(PEOPLE) - i) * 0.013) * wave):.8f}"
                row = log(ORG, when, agent="ag-1", inp=600 + 37 * i + 11 * d, out=120, cr=300, cost=cost, lat=400)
                row["user_id"] = user
                out.append(row)
    return out


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('browser-users') / 'dashboard.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    insert_logs(engine, _rows())
    app = create_app(Settings(database_url=url, secret=SECRET), engine=engine, clock=lambda: NOW)
    with serving(app) as base:
        yield f"{base}?token={mint_token(SECRET, ORG)}"
    engine.dispose()


def stamp(sl: str = "") -> str:
    return "|".join(["30d", "all", "auto", TZ, *([sl] if sl else [])])


ROWS = "() => document.querySelectorAll('#users-grid .ag-center-cols-container .ag-row').length"
SHOWN = """() => { const out = [];
    dash_ag_grid.getApi('users-grid').forEachNodeAfterFilterAndSort(n => out.push(n.data)); return out; }"""


def _open(page_factory, app_url, query="", sl=""):
    page = page_factory(width=1280, height=1000)
    page.goto(app_url + query)
    wait_sections(page, stamp(sl), SECTIONS)
    page.locator("#section-users").scroll_into_view_if_needed()
    if not sl:
        page.wait_for_function(ROWS + " === 25")
    return page


def test_users_section_search_click_chip_and_csv(page_factory, app_url, tmp_path):
    page = _open(page_factory, app_url)
    assert page.locator("#section-users .section-title").inner_text() == "Usuarios"
    assert page.locator("#users-count").inner_text() == "50 de 62 usuarios"
    assert page.locator("#users-total").inner_text().startswith("Total del periodo: US$ ")
    pinned = page.locator("#users-grid .ag-floating-bottom .user-name").all_inner_texts()
    assert pinned == ["otros (12 usuarios)"]
    shown = page.evaluate(SHOWN)
    assert len(shown) == 50 and shown[0]["cost_usd"] >= shown[-1]["cost_usd"]
    # Hostile ids are text: no <img> made it into the grid, each id reads as it is.
    assert page.locator("#users-grid img").count() == 0
    texts = page.locator("#users-grid .ag-center-cols-container .user-name").all_inner_texts()
    assert set(HOSTILE) | {"Sin usuario"} <= {r["label"] for r in shown}
    assert set(texts) & set(HOSTILE) and all(t in {r["label"] for r in shown} for t in texts)  # drawn as they are
    # Unit costs: «Costo/ejec.» and «Costo/1K tokens» with four decimals.
    headers = page.locator("#users-grid .ag-header-cell-text").all_inner_texts()
    assert "Costo/ejec." in headers and "Costo/1K tokens" in headers
    cell = page.locator(
        "#users-grid .ag-center-cols-container .ag-row[row-index='0'] [col-id='cost_per_execution_usd']"
    )
    assert cell.inner_text().startswith("US$ 0,") and len(cell.inner_text().split(",")[1]) == 4

    # The search filters rows by user id (client side); «otros» stays pinned.
    page.locator("#users-search").fill("ana.0")
    page.wait_for_function(ROWS + " === 10")
    assert all(r["user_id"].startswith("ana.0") for r in page.evaluate(SHOWN))
    page.wait_for_function("() => document.getElementById('users-matches').textContent === '10 coinciden con «ana.0»'")
    assert page.locator("#users-grid .ag-floating-bottom .user-name").all_inner_texts() == ["otros (12 usuarios)"]

    # The CSV is the view: the ten rows found and «otros».
    with page.expect_download() as dl:
        page.locator("#users-export").click()
    assert dl.value.suggested_filename == f"consumo-por-usuario_{FIRST}_{LAST}_todos.csv"
    path = tmp_path / "users.csv"
    dl.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][:5] == ["Usuario", "ID del usuario", "Costo (USD)", "Tokens", "Ejecuciones"]
    assert lines[0][5:] == ["Costo/ejec. (USD)", "Costo/1K tokens (USD)"]
    assert [r[1] for r in lines[1:11]] == [r["user_id"] for r in page.evaluate(SHOWN)]
    assert lines[-1][0] == "otros (12 usuarios)"

    # Clicking a row narrows the page to that user; the chip's ✕ widens it again.
    page.locator("#users-search").fill("")
    page.wait_for_function(ROWS + " === 25")
    first = page.locator("#users-grid .ag-center-cols-container .ag-row[row-index='0']")
    user = first.locator(".user-name").inner_text()
    first.locator(".ag-cell").first.click()
    page.wait_for_function(
        "() => (document.getElementById('section-kpis').getAttribute('data-stamp') || '').includes('userId=')"
    )
    sl = page.get_attribute("#section-kpis", "data-stamp").split("|")[-1]
    wait_sections(page, stamp(sl), SECTIONS)
    page.wait_for_function("() => document.querySelectorAll('#slice-chips .slice-chip').length === 1")
    assert user in page.locator("#slice-chips .slice-chip-text").inner_text()
    page.wait_for_function(ROWS + " === 1")
    assert page.locator("#users-count").inner_text() == "1 usuario"
    page.locator("#slice-chips .slice-chip-x").first.click()
    wait_sections(page, stamp(), SECTIONS)
    page.wait_for_function(ROWS + " === 25")
    assert page.locator("#slice-chips .slice-chip").count() == 0


def test_hostile_ids_export_inert_and_a_chart_csv_is_named_after_the_slice(page_factory, app_url, tmp_path):
    page = _open(page_factory, app_url, "&userId=%3Dcmd%7C%27%20%2FC%20calc%27%21A0", "userId=%3Dcmd%7C' /C calc'!A0")
    page.wait_for_function(ROWS + " === 1")
    assert page.locator("#users-grid .user-name").inner_text() == HOSTILE[0]
    with page.expect_download() as dl:
        page.locator("#users-export").click()
    name = dl.value.suggested_filename
    assert name == f"consumo-por-usuario_{FIRST}_{LAST}_todos_cmd-c-calc-a0.csv"
    path = tmp_path / "one.csv"
    dl.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        body = list(csv.reader(fh))[1:]
    assert body[0][0] == "'" + HOSTILE[0] and body[0][1] == "'" + HOSTILE[0]  # csvSafeCell = exports.safe_cell
    # A chart's «CSV»: the trend's data for the same view.
    with page.expect_download() as dl:
        page.locator("#csv-trend").click()
    assert dl.value.suggested_filename == f"consumo-tendencia_{FIRST}_{LAST}_todos_cmd-c-calc-a0.csv"
    path = tmp_path / "trend.csv"
    dl.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        trend = list(csv.reader(fh))
    assert trend[0] == ["periodo_inicio", "parcial", "costo_usd", "tokens", "ejecuciones"] and len(trend) == 31


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_users_screenshots(page_factory, app_url, theme):
    page = _open(page_factory, app_url, f"&theme={theme}")
    page.add_style_tag(content=".filterbar-wrap { position: static !important; }")  # the sticky bar off the shot
    page.locator("#section-users").screenshot(path=str(ARTIFACTS / f"users-{theme}.png"))


def test_users_with_a_comparison_screenshot(page_factory, app_url):
    """«Comparar con: Periodo anterior» over the last 7 days: Costo anterior and Δ % beside each user."""
    page = page_factory(width=1280, height=1000)
    page.goto(app_url + "&preset=7d&compare=previous")
    key = "|".join(["7d", "all", "auto", TZ, "compare=previous"])
    wait_sections(page, key, SECTIONS)
    page.wait_for_function(ROWS + " === 25")
    headers = page.locator("#users-grid .ag-header-cell-text").all_inner_texts()
    assert "Costo anterior" in headers and "Δ %" in headers
    up = page.locator("#users-grid .ag-cell.delta-up").count()
    down = page.locator("#users-grid .ag-cell.delta-down").count()
    assert up + down > 0  # coloured: more cost reads as a warning, less as a saving
    # Every change reads whole (a demo YTD showed «+3.393,...»: past ±1.000 % no decimal).
    clipped = page.evaluate(
        """() => Array.from(document.querySelectorAll("#users-grid .ag-cell[col-id='delta_pct']"))
                 .filter(c => c.scrollWidth > c.clientWidth).map(c => c.textContent)"""
    )
    assert clipped == []
    fns = "window.dashAgGridFunctions"
    assert page.evaluate(f"{fns}.formatDelta(33931.27, {{}})") == "+33.931 %"
    assert page.evaluate(f"{fns}.deltaTooltip(33931.27, {{}})") == "+33.931,3 %"  # the hover keeps it
    assert page.evaluate(f"{fns}.formatDelta(-12.44, {{}})") == "−12,4 %"
    page.add_style_tag(content=".filterbar-wrap { position: static !important; }")
    page.locator("#section-users").screenshot(path=str(ARTIFACTS / "users-compare-light.png"))
