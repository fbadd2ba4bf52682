"""The dashboard in real Chromium, embedded the way the panel embeds it.

The app is served by a threaded WSGI server on 127.0.0.1; an "outer panel" page on
another site (http://localhost:<port>) frames it with `?token=`. Chromium runs with
third-party cookies blocked. Screenshots go to test-artifacts/ (1280 px and 768 px, with
the Avanzado section open); the filter-change timing is printed and saved to
test-artifacts/timing.json (measured, never asserted). Set DASHBOARD_PERF_ROWS=200000 to
time it on `ai-usage demo-data`'s generator instead of the small test data set.
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from support import dashboard_data
from support.db import copy_sqlite, require
from werkzeug.serving import WSGIRequestHandler, make_server

from layouts import fmt
from storage.engine import make_engine
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--test-third-party-cookie-phaseout",
]
SECRET = "browser-test-secret-0123456789-abcdefgh"
ORG = "org-browser"
TZ = "Europe/Madrid"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DATA_SECTIONS = ["section-kpis", "section-trend", "section-actions", "section-models", "section-agents"]
PERF_ROWS = int(os.environ.get("DASHBOARD_PERF_ROWS", "0") or 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The app's URL, the panel's URL, a token, and a count of the SQL statements run."""

    def __init__(self, app_url, panel_url, token, engine):
        self.app_url, self.panel_url, self.token, self.statements = app_url, panel_url, token, 0
        self.engine, self.delay = engine, 0.0  # delay: seconds added to every statement (a slow database)
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *a, **k):
        self.statements += 1
        if self.delay:
            time.sleep(self.delay)


class Quiet(WSGIRequestHandler):
    def log_request(self, *a, **k):
        pass


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """The Dash app served on a free local port in a daemon thread: its base URL (with the
    trailing slash); the server is shut down on leaving."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()


def _seed(engine) -> str:
    if PERF_ROWS:
        from ingest.demo import generate

        generate(engine, orgs=3, days=365, rows=PERF_ROWS, seed=7, org_prefix="demo", progress=False)
        return "demo"
    dashboard_data.seed(engine, ORG)
    return ORG


@pytest.fixture(scope="module")
def served(tmp_path_factory, db_template):
    from app import create_app

    url = copy_sqlite(db_template("sqlite"), tmp_path_factory.mktemp("browser"))  # migrated: a template copy
    engine = make_engine(url)
    org = _seed(engine)
    panel_port = free_port()
    settings = Settings(database_url=url, secret=SECRET, frame_ancestors=f"http://localhost:{panel_port}")
    app = create_app(settings, engine=engine)
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app_url = f"http://127.0.0.1:{server.server_port}/"
    token = mint_token(SECRET, org)
    outer = (
        f"<!doctype html><html lang='es'><head><meta charset='utf-8'><title>Panel</title></head>"
        f"<body style='margin:0;font-family:sans-serif'><header style='padding:12px'>Panel de administración"
        f"</header><iframe id='embed' title='Consumo de IA' src='{app_url}?token={token}' "
        f"style='width:100%;height:2200px;border:0'></iframe></body></html>"
    ).encode()

    class Panel(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(outer)

        def log_message(self, *a):
            pass

    panel = http.server.ThreadingHTTPServer(("127.0.0.1", panel_port), Panel)
    threading.Thread(target=panel.serve_forever, daemon=True).start()
    yield Served(app_url, f"http://localhost:{panel_port}/", token, engine)
    panel.shutdown()
    server.shutdown()
    engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    require(os.path.exists(CHROMIUM), "Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page_factory(chromium):
    """New pages (es-ES, Europe/Madrid) whose console errors and page errors fail the test."""
    contexts, problems = [], []

    def make(width=1280, height=900):
        ctx = chromium.new_context(
            viewport={"width": width, "height": height}, locale="es-ES", timezone_id=TZ, accept_downloads=True
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.set_default_timeout(30_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert problems == []


def stamp(preset="30d"):
    return f"{preset}|all|auto|{TZ}"


# Every section answered for key and every graph in it drawn: dcc.Graph loads plotly.js
# lazily and draws asynchronously (class dash-graph--pending meanwhile), so a stamp can be
# in place while a graph has no .js-plotly-plot yet, or still shows the previous figure.
SECTIONS_READY = """([ids, key]) => ids.every(id => {
        const el = document.getElementById(id);
        return el && el.getAttribute('data-stamp') === key && !el.querySelector('.dash-graph--pending')
            && Array.from(el.querySelectorAll('.dash-graph')).every(g => {
                const gd = g.querySelector('.js-plotly-plot');
                return gd && gd._fullData;
            });
    }) && !document.querySelector('[data-dash-is-loading="true"]')"""


def wait_sections(frame, key, sections=DATA_SECTIONS, timeout=45_000):
    # Polled on a timer, not on requestAnimationFrame (Playwright's default): Chromium throttles
    # a cross-origin iframe's animation frames when it is out of view, and the check stalls.
    frame.wait_for_function(SECTIONS_READY, arg=[sections, key], timeout=timeout, polling=200)


def embedded(page, served):
    page.goto(served.panel_url)
    frame = page.frame_locator("#embed")
    frame.locator("#section-kpis").wait_for()
    handle = page.locator("#embed").element_handle().content_frame()
    wait_sections(handle, stamp())
    return handle


def graph(frame, gid):
    """The figure a dcc.Graph drew: per trace its name, type and number of points (plotly's
    decoded full data: the JSON carries numpy arrays base64-encoded), and the layout's meta."""
    return frame.evaluate(
        """gid => {
        const gd = document.querySelector('#' + gid + ' .js-plotly-plot');
        if (!gd || !gd._fullData) { return null; }
        const len = a => (a && a.length !== undefined) ? a.length : 0;
        return {traces: gd._fullData.map(t => ({name: t.name || null, type: t.type,
                 n: len(t.type === 'pie' ? t.labels : t.x), z: len(t.z)})),
                meta: gd.layout.meta || null};
    }""",
        gid,
    )


def test_embedded_dashboard_renders_every_section(page_factory, served):
    page = page_factory()
    frame = embedded(page, served)
    assert (
        frame.evaluate("""() => { document.cookie = 'probe=1; path=/';
                                     return document.cookie.includes('probe'); }""")
        is False
    )
    assert frame.locator("#tz-label").inner_text() == f"Zona horaria: {TZ}"
    cost = frame.locator("#kpi-cost .kpi-value").inner_text()
    assert cost.startswith("US$ ") and "," in cost
    assert frame.locator("#kpi-tokens .kpi-value").inner_text()[-1] in "KM0123456789"
    assert "%" in frame.locator("#kpi-cache .kpi-value").inner_text()
    assert "parcial: 1 modelo sin precio" in frame.locator("#kpi-cache").inner_text()
    assert frame.locator("#kpi-projection .kpi-value").inner_text().startswith("US$ ")
    trend = graph(frame, "trend-graph")
    assert [t["name"] for t in trend["traces"]][:2] == ["Tokens", "Costo (USD)"] and trend["traces"][1]["n"] == 30
    donut = graph(frame, "actions-donut")
    assert donut["traces"][0]["type"] == "pie" and donut["traces"][0]["n"] == 5
    assert len([t for t in graph(frame, "actions-area")["traces"] if t["name"] != "Periodo parcial"]) == 5
    # Costo view: cost by token type; the self-hosted model has no catalogue price («Sin desglose»).
    assert [t["name"] for t in graph(frame, "models-bars")["traces"]] == [
        "Entrada (sin caché)",
        "Lectura de caché",
        "Salida",
        "Sin desglose",
    ]
    assert graph(frame, "models-bubble")["traces"][0]["n"] == 3  # the embedding model has no latency
    assert "text-embedding-3-small" in frame.locator("#models-note").inner_text()
    names = frame.locator("#agents-grid .agent-name").all_inner_texts()
    assert set(names) == {"Asistente de Ventas", "Soporte Técnico", "Revisión Legal", "Sin agente"}
    assert frame.locator("#agents-grid img.avatar").count() == 1  # one avatar image, others initials
    assert frame.locator("#agents-grid .avatar-initials").count() == 2
    # The initials sit in the middle of their circle (the cell's line height pushed them down).
    off = frame.locator("#agents-grid .avatar-initials").first.evaluate(
        """e => { const r = document.createRange(); r.selectNodeContents(e); const t = r.getBoundingClientRect();
                 const b = e.getBoundingClientRect(); return (t.top + t.bottom) / 2 - (b.top + b.bottom) / 2; }"""
    )
    assert abs(off) <= 1.5, off
    assert frame.locator("#agents-grid svg.sparkline").count() == 4
    # Avanzado: collapsed, nothing computed, until it is opened.
    assert not frame.locator("#advanced-collapse").is_visible()
    assert frame.locator("#section-advanced").get_attribute("data-stamp") == ""
    frame.locator("#advanced-toggle").click()
    wait_sections(frame, stamp(), ["section-advanced"])
    assert frame.locator("#advanced-toggle").get_attribute("aria-expanded") == "true"
    heat = graph(frame, "advanced-heatmap")
    assert heat["traces"][0]["type"] == "heatmap" and heat["traces"][0]["z"] == 24
    assert frame.locator("#advanced-heatmap").is_visible()
    assert "BYOK" in frame.locator("#advanced-source-split-table").inner_text()


def test_a_preset_change_updates_every_figure(page_factory, served):
    page = page_factory()
    frame = embedded(page, served)
    before = frame.locator("#kpi-cost .kpi-value").inner_text()
    frame.evaluate("""() => {
        window.__stampAt = 0;
        new MutationObserver(() => { window.__stampAt = performance.now(); })
            .observe(document.body, {attributes: true, attributeFilter: ['data-stamp'], subtree: true});
        window.__clickAt = performance.now();
    }""")
    frame.locator("#filter-preset label", has_text="7d").click()
    wait_sections(frame, stamp("7d"))
    timing = frame.evaluate("""() => new Promise(done => {
        const report = () => done({stamps_ms: window.__stampAt - window.__clickAt,
                                   painted_ms: performance.now() - window.__clickAt});
        requestAnimationFrame(() => requestAnimationFrame(report));
    })""")
    trend = graph(frame, "trend-graph")
    assert 145 <= trend["traces"][1]["n"] <= 169  # 6 days and today's hours so far (none after now)
    assert frame.locator("#kpi-cost .kpi-value").inner_text() != before
    assert "Hora (auto)" in frame.locator("#window-label").inner_text()
    # Source and granularity re-scope every section too.
    frame.locator("#filter-source label", has_text="BYOK").click()
    frame.locator("#filter-granularity label", has_text="Día").click()
    wait_sections(frame, "7d|byok|day|" + TZ)
    assert graph(frame, "trend-graph")["traces"][1]["n"] == 7
    # Personalizado shows the date range (typed here as a person would, DD/MM/YYYY).
    assert not frame.locator("#filter-dates").is_visible()
    frame.locator("#filter-preset label", has_text="Personalizado").click()
    today = datetime.now(ZoneInfo(TZ)).date()
    start, end = today - timedelta(days=9), today - timedelta(days=2)
    frame.locator("#filter-dates").fill(start.strftime("%d/%m/%Y"))
    frame.locator("#filter-dates").press("Enter")
    frame.locator("#filter-dates-end-date").fill(end.strftime("%d/%m/%Y"))
    frame.locator("#filter-dates-end-date").press("Enter")
    wait_sections(frame, f"custom|{start}|{end}|byok|day|{TZ}")
    assert graph(frame, "trend-graph")["traces"][1]["n"] == 8
    # Both dates are readable whole: the inputs are as wide as their text (no '28/10/202' cut).
    widths = frame.evaluate("""() => [...document.querySelectorAll('#filter-dates-wrap input.dash-datepicker-input')]
                                      .map(i => [i.scrollWidth, i.clientWidth])""")
    assert len(widths) == 2 and all(scroll <= client for scroll, client in widths), widths
    ARTIFACTS.mkdir(exist_ok=True)
    timing["rows"] = PERF_ROWS or len(dashboard_data.rows_for(ORG))
    (ARTIFACTS / "timing.json").write_text(json.dumps(timing, indent=2))
    print(
        f"\nfilter change (30d -> 7d) to all sections updated: {timing['stamps_ms']:.0f} ms, "
        f"painted: {timing['painted_ms']:.0f} ms ({timing['rows']} rows)"
    )


def test_csv_export_equals_the_grid_as_displayed(page_factory, served, tmp_path):
    page = page_factory()
    frame = embedded(page, served)
    frame.locator("#agents-grid .ag-header-cell", has_text="Costo por periodo").click()  # sortable too
    frame.locator("#agents-grid .ag-header-cell[col-id='tokens']").click()  # sort by tokens
    frame.locator("#agents-search").fill("t")  # quick filter: leaves out "Revisión Legal"
    frame.wait_for_function("() => document.querySelectorAll('#agents-grid .ag-row').length === 3")
    shown = frame.evaluate("""() => { const out = [];
        dash_ag_grid.getApi('agents-grid').forEachNodeAfterFilterAndSort(n =>
            out.push([n.data.name, n.data.agent_id || '', n.data.cost_usd, n.data.tokens, n.data.executions]));
        return out; }""")
    visible = frame.locator("#agents-grid .ag-center-cols-container .agent-name").all_inner_texts()
    assert [r[0] for r in shown] == visible and len(shown) == 3
    # Hovering a name shows it whole (a narrow screen cuts it), with the agent's id.
    titles = frame.locator("#agents-grid .ag-center-cols-container .agent-name").evaluate_all(
        "els => els.map(e => e.title)"
    )
    assert titles == [f"{n} ({i})" if i else n for n, i, *_ in shown]
    # The note under the grid keeps the period's total and says how many the search leaves.
    frame.wait_for_function("() => document.getElementById('agents-matches').textContent === '3 coinciden con «t»'")
    assert frame.locator("#agents-count").inner_text() == "4 filas"
    assert [r[3] for r in shown] == sorted(r[3] for r in shown) or [r[3] for r in shown] == sorted(
        (r[3] for r in shown), reverse=True
    )
    with page.expect_download() as dl:
        frame.locator("#agents-export").click()
    download = dl.value
    today = datetime.now(ZoneInfo(TZ)).date()
    assert download.suggested_filename == f"consumo-por-agente_{today - timedelta(days=29)}_{today}_todos.csv"
    path = tmp_path / "agents.csv"
    download.save_as(path)
    lines = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert lines[0] == [
        "Agente",
        "ID del agente",
        "Costo (USD)",
        "Tokens",
        "Ejecuciones",
        "Costo/ejec. (USD)",
        "Costo/1K tokens (USD)",
    ]
    body = [[r[0], r[1], float(r[2]), int(r[3]), int(r[4])] for r in lines[1:]]
    assert body == [[n, i, pytest.approx(c), t, e] for n, i, c, t, e in shown]
    # Unit economics: cost ÷ executions and cost × 1,000 ÷ tokens, as plain numbers.
    assert [float(r[5]) for r in lines[1:]] == [pytest.approx(c / e) for _n, _i, c, _t, e in shown]
    assert [float(r[6]) for r in lines[1:]] == [pytest.approx(c * 1000 / t) for _n, _i, c, t, _e in shown]


def test_agent_names_sort_a_to_z_on_the_first_click_and_sin_agente_stays_last(page_factory, served):
    page = page_factory()
    frame = embedded(page, served)
    header = frame.locator("#agents-grid .ag-header-cell", has_text="Agente")
    names = """() => { const out = [];
        dash_ag_grid.getApi('agents-grid').forEachNodeAfterFilterAndSort(n => out.push(n.data.name));
        return out; }"""
    header.click()
    frame.wait_for_function(
        "() => dash_ag_grid.getApi('agents-grid').getColumnState().some(c => c.colId === 'name' && c.sort === 'asc')"
    )
    up = frame.evaluate(names)
    header.click()
    frame.wait_for_function(
        "() => dash_ag_grid.getApi('agents-grid').getColumnState().some(c => c.colId === 'name' && c.sort === 'desc')"
    )
    down = frame.evaluate(names)
    assert "Sin agente" in up and up[-1] == "Sin agente" and down[-1] == "Sin agente"
    assert up[:-1] == sorted(up[:-1], key=str.casefold) and down[:-1] == up[:-1][::-1]


def test_at_768_px_the_sorted_agent_headers_read_whole(page_factory, served):
    page = page_factory(width=768)
    frame = embedded(page, served)
    cut = """() => [...document.querySelectorAll('#agents-grid .ag-header-cell-text')]
                     .filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)"""
    assert frame.evaluate(cut) == []  # sorted by cost on arrival: the arrow is there
    frame.locator("#agents-grid .ag-header-cell", has_text="Ejecuciones").click()
    frame.wait_for_function(
        "() => dash_ag_grid.getApi('agents-grid').getColumnState().some(c => c.colId === 'executions' && c.sort)"
    )
    assert frame.evaluate(cut) == []
    # The unit-cost columns step aside on the grid's own size events (narrowColumns): wait for it.
    frame.wait_for_function(
        "() => { const v = document.querySelector('#agents-grid .ag-body-horizontal-scroll-viewport');"
        " return !v || v.scrollWidth <= v.clientWidth; }",
        timeout=15000,
    )
    # A name too long for its column ends in an ellipsis inside the cell (not clipped mid-letter).
    frame.evaluate("""() => { const api = dash_ag_grid.getApi('agents-grid');
        const row = api.getDisplayedRowAtIndex(0).data;
        api.applyTransaction({update: [{...row, name: 'Asistente comercial · Ventas de la región noroeste'}]}); }""")
    # Displayed row 0 need not be the first row element in the DOM (AG Grid reuses row elements
    # when it sorts): look for the renamed row among all of them.
    frame.wait_for_function(
        "() => [...document.querySelectorAll('#agents-grid .agent-name')].some(e => e.textContent.includes('noroeste'))"
    )
    fit = frame.evaluate("""() => [...document.querySelectorAll('#agents-grid .ag-center-cols-container .agent-name')]
        .map(e => { const cell = e.closest('.ag-cell').getBoundingClientRect();
                    return [e.getBoundingClientRect().right <= cell.right, e.scrollWidth > e.clientWidth,
                            getComputedStyle(e).textOverflow]; })""")
    assert fit and all(inside and how == "ellipsis" for inside, _, how in fit) and any(cut for _, cut, _ in fit)


def test_with_the_database_down_the_empty_grid_says_unavailable_not_no_data(page_factory):
    from app import create_app

    down = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2})
    app = create_app(Settings(database_url="sqlite://", secret=SECRET), engine=down)
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = page_factory()
        page.goto(f"http://127.0.0.1:{server.server_port}/?token={mint_token(SECRET, ORG)}")
        wait_sections(page, stamp())
        assert "Base de datos no disponible" in page.locator("#status-banner").inner_text()
        page.wait_for_function(
            "() => (document.querySelector('#agents-grid .ag-overlay') || {}).innerText === 'Datos no disponibles'"
        )
        assert "Sin datos" not in page.locator("#agents-grid").inner_text()
        # The message in every chart pane reads whole, the narrow donut and split included.
        page.locator("#advanced-toggle").click()
        wait_sections(page, stamp(), ["section-advanced"])
        # The trend's «Acumulado» chart is drawn only once that view is chosen (hidden until then).
        page.locator("#trend-view label", has_text="Acumulado").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('#trend-cumulative .annotation-text')]"
            ".some(t => t.textContent.includes('Datos no disponibles'))"
        )
        # Every visible chart pane (a hidden one shows nothing to anyone).
        clipped_js = """() => [...document.querySelectorAll('.js-plotly-plot')]
          .filter(gd => gd.getClientRects().length).flatMap(gd => {
            const box = gd.getBoundingClientRect();
            const texts = [...gd.querySelectorAll('.annotation-text')];
            return texts.length ? texts.filter(t => { const r = t.getBoundingClientRect();
                return r.width === 0 || r.left < box.left - 1 || r.right > box.right + 1; })
                .map(t => gd.parentElement.id + ': ' + t.textContent)
              : [gd.parentElement.id + ': no message']; })"""
        # Avanzado opens with a collapse transition: plotly lays its charts out again when it ends.
        try:
            page.wait_for_function(f"() => ({clipped_js})().length === 0", timeout=5_000)
        except Exception:
            pass
        assert page.evaluate(clipped_js) == []
    finally:
        server.shutdown()
        down.dispose()


def test_without_a_valid_token_the_page_shows_the_access_message_and_no_data(page_factory, served):
    page = page_factory()
    for url in (served.app_url, served.app_url + "?token=forged.token.value"):
        before = served.statements
        page.goto(url)
        page.locator("#access-denied").wait_for(state="visible")
        text = page.locator("#access-denied").inner_text()
        assert "No se puede mostrar el consumo de IA" in text and "Bearer" not in text
        assert "panel de administración" in text and "pídele uno nuevo" in text
        assert not page.locator("#dashboard").is_visible()
        page.wait_for_load_state("networkidle")
        assert served.statements == before  # not one query ran
        assert page.locator("#agents-grid .ag-row").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "access-denied.png"))


@pytest.mark.parametrize("width", [1280, 768])
def test_screenshots_with_the_advanced_section_open(page_factory, served, width):
    page = page_factory(width=width)
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    page.wait_for_timeout(400)  # the collapse animation
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}.png"), full_page=True)
    if width == 1280:
        page.goto(served.panel_url)
        wait_sections(page.locator("#embed").element_handle().content_frame(), stamp())
        page.screenshot(path=str(ARTIFACTS / "embedded-panel.png"))


HOSTILE = [  # (agent id, name): what a spreadsheet would run as a formula, plus an accented name
    ("=ag-1", '=HYPERLINK("https://evil.invalid","x")'),
    ("ag-2", "+cmd|' /C calc'!A0"),
    ("ag-3", "@SUM(1+1)"),
    ("ag-4", "-2+3"),
    ("ag-5", "\tTabulado"),
    ("ag-6", "\rRetorno"),
    ("ag-7", "Detección de fraude"),
]


def _seed_hostile(served) -> str:
    from support.db import insert_agents, insert_logs

    org = "org-hostile"
    now = datetime.now(ZoneInfo("UTC")).replace(tzinfo=None, microsecond=0)
    with served.engine.connect() as c:
        if c.execute(sa.text("SELECT count(*) FROM agents WHERE org_id = :o"), {"o": org}).scalar():
            return org
    insert_agents(served.engine, [{"id": i, "org_id": org, "name": n, "avatar_url": None} for i, n in HOSTILE])
    insert_logs(
        served.engine,
        [
            {
                "org_id": org,
                "created_at": now - timedelta(hours=30 + k),
                "agent_id": i,
                "user_id": "u1",
                "action_type": "user_interaction",
                "source": "system",
                "provider": "openai",
                "model": "gpt-4o-mini",
                "input_tokens": 100 * (k + 1),
                "output_tokens": 10,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "cost_usd": round(0.001 * (k + 1), 8),
                "latency_ms": 500,
            }
            for k, (i, _) in enumerate(HOSTILE)
        ],
    )
    return org


def test_agents_grid_search_ignores_accents_offers_page_sizes_and_exports_a_safe_csv(page_factory, served, tmp_path):
    org = _seed_hostile(served)
    page = page_factory()
    page.goto(f"{served.app_url}?token={mint_token(SECRET, org)}")
    wait_sections(page, stamp())
    rows = "() => document.querySelectorAll('#agents-grid .ag-center-cols-container .ag-row').length"
    page.wait_for_function(rows + " === 7")
    for text in ("deteccion", "DETECCIÓN", "detección fraude"):
        page.locator("#agents-search").fill(text)
        page.wait_for_function(rows + " === 1")
        assert page.locator("#agents-grid .agent-name").all_inner_texts() == ["Detección de fraude"]
    page.locator("#agents-search").fill("")
    page.wait_for_function(rows + " === 7")
    page.locator("#agents-grid .ag-paging-page-size .ag-picker-field-wrapper").click()
    sizes = page.locator(".ag-select-list .ag-list-item").all_inner_texts()
    assert [t.strip() for t in sizes] == ["10", "25", "50", "100"]
    page.keyboard.press("Escape")
    with page.expect_download() as dl:
        page.locator("#agents-export").click()
    today = datetime.now(ZoneInfo(TZ)).date()
    assert dl.value.suggested_filename == f"consumo-por-agente_{today - timedelta(days=29)}_{today}_todos.csv"
    path = tmp_path / "hostile.csv"
    dl.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    cells = {(r[0], r[1]) for r in lines[1:]}
    expected = {("'" + n if n[0] in "=+-@\t\r" else n, "'" + i if i[0] == "=" else i) for i, n in HOSTILE}
    assert cells == expected
    assert all(not r[0].startswith(("=", "+", "-", "@", "\t", "\r")) for r in lines[1:])
    assert sorted(float(r[2]) for r in lines[1:]) == pytest.approx([0.001 * (k + 1) for k in range(7)])


# ------------------------------------------------------------------ the filter bar (issue 8)

MONTHS = list(fmt.MONTHS)  # the page's own month names (the picker shows them)


def day(d) -> str:
    return d.strftime("%d/%m/%Y")


def custom_stamp(start, end, source="all", granularity="auto"):
    return f"custom|{start}|{end}|{source}|{granularity}|{TZ}"


def kpi_stamp(frame):
    return frame.locator("#section-kpis").get_attribute("data-stamp")


def settle(frame, ms=700):
    """Long enough for a callback round trip that should not happen."""
    frame.wait_for_timeout(ms)
    frame.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')")


def test_personalizado_without_a_date_change_queries_nothing(page_factory, served):
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    before = served.statements
    page.locator("#filter-preset label", has_text="Personalizado").click()
    settle(page)
    today = datetime.now(ZoneInfo(TZ)).date()
    # The picker opens on the period on screen; no section asked the database again.
    assert page.locator("#filter-dates").input_value() == day(today - timedelta(days=29))
    assert page.locator("#filter-dates-end-date").input_value() == day(today)
    assert served.statements == before and kpi_stamp(page) == stamp()
    # Typing the same dates again changes nothing either.
    page.locator("#filter-dates").fill(day(today - timedelta(days=29)))
    page.locator("#filter-dates").press("Enter")
    settle(page)
    assert served.statements == before


def test_typed_dates_apply_on_enter_tab_and_blur_in_either_order(page_factory, served):
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    page.locator("#filter-preset label", has_text="Personalizado").click()
    today = datetime.now(ZoneInfo(TZ)).date()
    start, end = page.locator("#filter-dates"), page.locator("#filter-dates-end-date")
    notice = page.locator("#filter-notice")
    # End first, before the current start: refused beside the inputs, nothing queried...
    before = served.statements
    end.fill(day(today - timedelta(days=35)))
    end.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('filter-notice').textContent.includes('posterior a la de fin')"
    )
    settle(page)
    assert served.statements == before and kpi_stamp(page) == stamp()
    assert notice.is_visible() and page.locator("#filter-dates-wrapper").get_attribute("aria-expanded") == "false"
    box, bar = notice.bounding_box(), page.locator("#filter-dates-wrapper").bounding_box()
    assert 0 <= box["y"] - (bar["y"] + bar["height"]) < 40  # right under the inputs
    # ...then the start (Tab): the range applies and the message goes.
    a, b = today - timedelta(days=45), today - timedelta(days=35)
    start.fill(day(a))
    start.press("Tab")
    wait_sections(page, custom_stamp(a, b))
    assert notice.inner_text() == ""
    # Blur alone applies a typed date (click elsewhere on the page).
    c = today - timedelta(days=40)
    end.fill(day(c))
    page.locator(".page-title").click()
    wait_sections(page, custom_stamp(a, c))
    # An end after today is allowed and reads «hasta hoy»; a start after today is refused.
    end.fill(day(today + timedelta(days=10)))
    end.press("Enter")
    wait_sections(page, custom_stamp(a, today + timedelta(days=10)))
    assert page.locator("#filter-dates-hint").inner_text() == "hasta hoy"
    assert "aún no tienen datos" in page.locator("#filter-dates-hint span").get_attribute("title")
    before = served.statements
    start.fill(day(today + timedelta(days=2)))
    start.press("Enter")
    page.wait_for_function("() => document.getElementById('filter-notice').textContent.includes('posterior a hoy')")
    settle(page)
    assert served.statements == before
    # Outside the dates the product keeps, refused the same way (not an error inside every chart).
    start.fill("01/01/1960")
    start.press("Enter")
    page.wait_for_function("() => document.getElementById('filter-notice').textContent.includes('01/01/1970')")
    # Text that is not a date says so instead of silently reverting.
    start.fill("31/02/2026")
    start.press("Tab")
    page.wait_for_function(
        "() => document.getElementById('filter-notice').textContent.includes('no es una fecha válida')"
    )
    # Picked on the calendar: the second date closes it (the picker reopens on the period on screen).
    page.locator("#filter-preset label", has_text="30d").click()
    page.locator("#filter-preset label", has_text="Personalizado").click()
    page.locator("#filter-dates-wrapper").click()
    month = page.locator(".dash-datepicker-content table").first
    name, year = month.locator(".dash-datepicker-calendar-month-header").inner_text().split()
    shown = date(int(year), MONTHS.index(name) + 1, 1)
    month.get_by_text("3", exact=True).click()
    month.get_by_text("15", exact=True).click()
    page.locator(".dash-datepicker-content").wait_for(state="detached")
    wait_sections(page, custom_stamp(shown.replace(day=3), shown.replace(day=15)))
    assert notice.inner_text() == "" and page.locator("#filter-dates").input_value() == day(shown.replace(day=3))


def test_a_link_whose_window_cannot_apply_says_why_beside_the_dates(page_factory, served):
    """?from=2026-13-01 was refused as «posterior a hoy» («01/13/2026»), and a link with `from`
    alone silently showed the default period: now each says what is wrong, beside the dates, while
    the page shows its default period."""
    page = page_factory()
    today = datetime.now(ZoneInfo(TZ)).date()
    for query, says in [
        (f"&from={today.year}-13-01&to={today}", f"«{today.year}-13-01» no es una fecha válida"),
        ("&from=2026-02-01&to=2026-02-30", "«2026-02-30» no es una fecha válida"),
        (f"&from={today - timedelta(days=3)}", "Escribe una fecha de inicio y una de fin"),
        (f"&from={today}&to={today - timedelta(days=3)}", "es posterior a la de fin"),
    ]:
        page.goto(f"{served.app_url}?token={served.token}{query}")
        wait_sections(page, stamp())
        page.wait_for_function("s => document.getElementById('filter-notice').textContent.includes(s)", arg=says)
        assert page.locator("#filter-notice").is_visible()
        if "02-30" in query:  # the picker does not show the day it would roll over to (02/03/2026)
            assert page.locator("#filter-dates-end-date").input_value() == ""
            # A real end date typed in: the range applies and the notice goes.
            page.locator("#filter-dates-end-date").fill("28/02/2026")
            page.locator("#filter-dates-end-date").press("Enter")
            wait_sections(page, custom_stamp(date(2026, 2, 1), date(2026, 2, 28)))
            assert page.locator("#filter-notice").inner_text() == ""


def test_a_link_with_a_period_source_or_resolution_the_page_lacks_names_it(page_factory, served):
    """?preset=14d&source=Sistema&granularity=quarter fell back to 30d, Todos and Auto without a word:
    now the period bar names each value (a hostile one as text, cut at 40 characters) and what
    shows instead, until the admin changes the view."""
    page = page_factory()
    odd = "<b>x</b>{shown}" + "y" * 60
    page.goto(f"{served.app_url}?token={served.token}&preset=14d&source={quote(odd)}&granularity=quarter")
    wait_sections(page, stamp())
    notice = page.locator("#link-notice")
    page.wait_for_function("() => document.getElementById('link-notice').textContent !== ''")
    text = notice.inner_text()
    assert "El enlace pide el periodo «14d», que no existe: se muestra 30d." in text
    assert f"El enlace pide el origen «{odd[:40]}…», que no existe: se muestra Todos." in text
    assert "El enlace pide la resolución «quarter», que no existe: se muestra Auto." in text
    assert notice.locator("b").count() == 0 and notice.is_visible()
    page.locator("#filter-preset label", has_text="7d").click()  # the admin's own view now
    wait_sections(page, "7d|all|auto|" + TZ)
    page.wait_for_function("() => document.getElementById('link-notice').textContent === ''")
    assert not notice.is_visible()
    # A link whose values all exist says nothing; they are read as the API reads them (any case).
    page.goto(f"{served.app_url}?token={served.token}&preset=YTD&source=%20BYOK&granularity=Day&compare=Previous")
    wait_sections(page, "ytd|byok|day|" + TZ + "|compare=previous")
    assert notice.inner_text() == "" and page.locator("#filter-compare").input_value() == "previous"


def test_hora_is_disabled_past_92_days_and_the_cards_still_show(page_factory, served):
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    hour = page.locator("#filter-granularity input[value=hour]")
    page.locator("#filter-granularity label", has_text="Hora").click()
    wait_sections(page, "30d|all|hour|" + TZ)
    page.locator("#filter-preset label", has_text="YTD").click()
    # Falls back to Día, says why beside the bar, and Hora cannot be chosen (its tooltip says why).
    wait_sections(page, "ytd|all|day|" + TZ)
    assert "hasta 92 días" in page.locator("#filter-notice").inner_text()
    assert hour.is_disabled()
    assert "92 días" in page.locator("#filter-granularity label", has_text="Hora").locator("span").get_attribute(
        "title"
    )
    assert page.locator("#kpi-cost .kpi-value").inner_text().startswith("US$")
    page.locator("#filter-granularity label", has_text="Semana").click()  # the notice is about Hora: gone
    wait_sections(page, "ytd|all|week|" + TZ)
    assert page.locator("#filter-notice").inner_text() == ""
    page.locator("#filter-preset label", has_text="7d").click()
    wait_sections(page, "7d|all|week|" + TZ)
    assert not hour.is_disabled() and page.locator("#filter-notice").inner_text() == ""


def test_a_refresh_marks_every_section_at_once(page_factory, served):
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    served.delay = 0.25
    try:
        page.locator("#filter-preset label", has_text="90d").click()
        # Before any answer: every section carries the moving bar, the KPI figures are dimmed.
        marks = page.evaluate(
            """ids => new Promise(done => requestAnimationFrame(() => setTimeout(() => done(ids.map(id => {
                const el = document.getElementById(id);
                return [id, el.getAttribute('data-stamp'), el.getAttribute('data-dash-is-loading'),
                        getComputedStyle(el, '::before').animationName];
            })), 60)))""",
            DATA_SECTIONS,
        )
        dim = float(page.evaluate("getComputedStyle(document.querySelector('#kpi-cost .kpi-value')).opacity"))
    finally:
        served.delay = 0.0
    assert all(s == stamp() and loading == "true" and anim == "refresh-bar" for _, s, loading, anim in marks), marks
    assert dim < 0.6
    wait_sections(page, stamp("90d"))
    assert page.evaluate("getComputedStyle(document.querySelector('#kpi-cost .kpi-value')).opacity") == "1"


def test_each_button_group_is_one_tab_stop_with_arrow_keys(page_factory, served):
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    groups = page.locator("[role=radiogroup]")
    # Periodo, Origen, Resolución, Medida, Vista (the trend's «Por periodo» | «Acumulado»), Barras,
    # Eje de costo, Latencia
    assert groups.count() == 8
    for i in range(groups.count()):
        label = page.locator("#" + groups.nth(i).get_attribute("aria-labelledby"))
        assert label.count() == 1 and label.inner_text()
    page.locator("#filter-preset input[value='30d']").focus()
    page.keyboard.press("Tab")  # leaves Periodo at once (Personalizado's dates are hidden)
    assert page.evaluate("document.activeElement.closest('#filter-source') !== null")
    assert page.evaluate("document.activeElement.value") == "all"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#filter-granularity') !== null")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowRight")  # moves and selects within Origen
    wait_sections(page, "30d|system|auto|" + TZ)
    assert page.evaluate("document.activeElement.value") == "system"
    # The trend's «Vista» is one tab stop too: only the checked option is reachable by Tab, and
    # an arrow key moves and selects within the group.
    assert page.evaluate(
        "document.querySelector(\"#trend-view input[value='period']\").closest('[role=radiogroup]') !== null"
    )
    page.locator("#trend-view input[value='period']").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector(\"#trend-view input[value='cumulative']\").checked")
    assert page.evaluate("document.activeElement.value") == "cumulative"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#trend-view') === null")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.value") == "cumulative"
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("document.querySelector(\"#trend-view input[value='period']\").checked")
    # The date picker: every id its aria-labelledby cites exists, and its labels are Spanish.
    page.locator("#filter-preset label", has_text="Personalizado").click()
    refs = page.locator("#filter-dates-wrapper").get_attribute("aria-labelledby").split()
    assert refs and all(page.locator(f"[id='{r}']").count() == 1 for r in refs), refs
    assert [page.locator(f"#{r}").get_attribute("aria-label") for r in refs[:2]] == ["Desde", "Hasta"]
    page.locator("#filter-dates-wrapper").click()
    labels = page.locator(".dash-datepicker-content [aria-label]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert (
        "Mes anterior" in labels and "Año" in labels and not [x for x in labels if re.search(r"month|value|Clear", x)]
    )
    dangling = page.evaluate("""() => [...document.querySelectorAll('#filter-dates-wrap [aria-labelledby]')]
        .flatMap(e => e.getAttribute('aria-labelledby').split(/\\s+/)).filter(r => r && !document.getElementById(r))""")
    assert dangling == []


def test_text_contrast_is_at_least_wcag_aa(page_factory, served):
    audit = (Path(__file__).parent / "contrast_audit.js").read_text()
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    page.locator("#filter-preset label", has_text="Personalizado").click()
    page.locator("#filter-dates").fill("99/99/2026")
    page.locator("#filter-dates").press("Tab")  # the notice shows too
    page.locator("#filter-notice:not(:empty)").wait_for()
    assert page.evaluate(audit) == []
    page.goto(served.app_url)  # the access page
    page.locator("#access-denied").wait_for(state="visible")
    assert page.evaluate(audit) == []


@pytest.mark.parametrize("width", [1440, 1280, 768])
def test_the_filter_bar_keeps_one_row_at_1440_px(page_factory, served, width):
    page = page_factory(width=width)
    page.goto(f"{served.app_url}?token={served.token}")
    wait_sections(page, stamp())
    page.locator("#filter-preset label", has_text="Personalizado").click()
    today = datetime.now(ZoneInfo(TZ)).date()
    page.locator("#filter-dates-end-date").fill(day(today + timedelta(days=3)))  # «hasta hoy» shows too
    page.locator("#filter-dates-end-date").press("Enter")
    page.locator("#filter-dates-hint:not(:empty)").wait_for()
    tops = page.evaluate("""() => [...document.querySelectorAll('.filterbar > .filter-group')]
                                    .map(e => Math.round(e.getBoundingClientRect().top))""")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / f"filterbar-{width}.png"), clip={"x": 0, "y": 0, "width": width, "height": 220}
    )
    if width == 1440:
        assert len(tops) == 4 and max(tops) - min(tops) <= 4, tops
    assert page.evaluate("document.documentElement.scrollWidth") <= width
