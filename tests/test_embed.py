"""Embedding cross-origin (contract §4): the page posts {type: "ai-usage:height", height} to its
parent, and docs/embed-example.html sizes its iframe from it, with no inner scroll bar.

The app is served on http://127.0.0.1:P1 (AI_USAGE_FRAME_ANCESTORS allows the host), the host
page from docs/ on http://localhost:P2: two origins, as the panel and the dashboard are.
Screenshot: /work/shots-theme/embed-*.png when that folder exists (else test-artifacts/).
"""

from __future__ import annotations

import functools
import http.server
import itertools
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from support import dashboard_data
from support.db import copy_sqlite
from test_browser import ARTIFACTS, SECRET, Quiet, chromium, free_port, page_factory, stamp, wait_sections  # noqa: F401
from werkzeug.serving import make_server

from storage.engine import make_engine
from storage.settings import Settings
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def warm_imports():
    """What a served process imports at start-up (app.start_up): the projection's statsmodels,
    imported lazily here, took 35 s on the first request on a loaded 2-core machine."""
    import scipy.special  # noqa: F401
    import statsmodels.tools.tools  # noqa: F401


ORG = "org-embed"
DOCS = Path(__file__).resolve().parent.parent / "docs"
SHOTS = Path("/work/shots-theme") if Path("/work/shots-theme").is_dir() else ARTIFACTS


class Host:
    def __init__(self, app_origin: str, host_origin: str, token: str):
        self.app_origin, self.origin, self.token = app_origin, host_origin, token

    def page_url(self, query: str = "") -> str:
        dashboard = f"{self.app_origin}/?token={self.token}{query}"
        return f"{self.origin}/embed-example.html?dashboard={quote(dashboard, safe='')}"


@pytest.fixture(scope="module")
def host(tmp_path_factory, db_template):
    from app import create_app

    url = copy_sqlite(db_template("sqlite"), tmp_path_factory.mktemp("embed"))  # migrated: a template copy
    engine = make_engine(url)
    dashboard_data.seed(engine, ORG)
    host_port = free_port()
    host_origin = f"http://localhost:{host_port}"
    app = create_app(Settings(database_url=url, secret=SECRET, frame_ancestors=host_origin), engine=engine)
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class Static(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    docs = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), functools.partial(Static, directory=str(DOCS)))
    threading.Thread(target=docs.serve_forever, daemon=True).start()
    yield Host(f"http://127.0.0.1:{server.server_port}", host_origin, mint_token(SECRET, ORG))
    docs.shutdown()
    server.shutdown()
    engine.dispose()


def sizes(page, frame) -> tuple[float, int, int, int]:
    """(iframe height on the host, content height inside, the frame's scrollHeight and innerHeight)."""
    outer = page.evaluate("document.getElementById('embed').getBoundingClientRect().height")
    inner = frame.evaluate(
        """() => [Math.ceil(document.documentElement.getBoundingClientRect().height),
                 document.scrollingElement.scrollHeight, window.innerHeight]"""
    )
    return (outer, *inner)


def settled(page, frame, at_least: float = 0, timeout: float = 20.0) -> tuple[float, int, int, int]:
    """Wait until the iframe is exactly as tall as its content (and taller than at_least)."""
    deadline = time.monotonic() + timeout
    while True:
        s = sizes(page, frame)
        if s[0] == s[1] and s[0] > at_least:
            time.sleep(0.3)  # still the same a moment later: no resize in flight
            if sizes(page, frame) == s:
                return s
        if time.monotonic() > deadline:
            raise AssertionError(f"iframe never matched its content: {s}")
        time.sleep(0.1)


def test_the_host_sizes_the_iframe_to_the_content_cross_origin(page_factory, host):
    page = page_factory(width=1360, height=900)
    page.goto(host.page_url())
    page.frame_locator("#embed").locator("#section-kpis").wait_for()
    frame = page.locator("#embed").element_handle().content_frame()
    wait_sections(frame, stamp())
    # The page speaks to the panel's origin, which Chromium tells through ancestorOrigins.
    assert frame.evaluate("window.dashboardEmbed.targetOrigin()") == host.origin
    assert frame.evaluate("location.origin") != host.origin  # really two origins
    outer, inner, scroll, view = settled(page, frame, at_least=1000)
    assert scroll <= view, "the iframe scrolls inside"  # no inner scroll bar
    assert page.locator("#status").inner_text() == f"Altura del panel: {inner} px"
    # A viewport as tall as the host page: Chromium paints a cross-origin iframe only in view.
    page.set_viewport_size({"width": 1360, "height": int(outer) + 120})
    page.screenshot(path=str(SHOTS / "embed-host.png"))
    page.set_viewport_size({"width": 1360, "height": 900})
    # The host's viewport shrinks back. Click only once the iframe's height has settled again and
    # check that the section opened: a clean-clone CI run on a loaded machine waited 45 s for
    # a section that never drew (not reproduced here; a missed click now fails at once).
    settled(page, frame, at_least=1000)

    # Avanzado opens: the page grows, and the iframe with it.
    frame.locator("#advanced-toggle").click()
    frame.wait_for_selector("#advanced-toggle[aria-expanded='true']", timeout=10_000)
    wait_sections(frame, stamp(), ["section-advanced"])
    grown = settled(page, frame, at_least=outer + 300)
    assert grown[2] <= grown[3]
    # ... and shrinks back when it closes.
    frame.locator("#advanced-toggle").click()
    back = settled(page, frame)
    assert back[0] < grown[0] - 300 and back[2] <= back[3]

    # A message from any other origin or window does not move the iframe.
    page.evaluate("window.postMessage({type: 'ai-usage:height', height: 120}, '*')")
    page.wait_for_timeout(300)
    assert sizes(page, frame)[0] == back[0]


def test_posts_only_when_the_height_changes(page_factory, host):
    page = page_factory(width=1360, height=900)
    page.add_init_script(
        """window.__heights = []; window.addEventListener('message', e => {
               if (e.data && e.data.type === 'ai-usage:height') window.__heights.push(e.data.height); });"""
    )
    page.goto(host.page_url("&theme=dark"))
    page.frame_locator("#embed").locator("#section-kpis").wait_for()
    frame = page.locator("#embed").element_handle().content_frame()
    wait_sections(frame, stamp())
    outer = settled(page, frame, at_least=1000)[0]
    heights = page.evaluate("window.__heights")
    assert heights and all(isinstance(h, int) and h > 0 for h in heights)
    assert all(a != b for a, b in itertools.pairwise(heights)), heights  # never the same height twice in a row
    frame.evaluate("window.dispatchEvent(new Event('resize'))")  # a resize that changes nothing
    page.wait_for_timeout(400)
    assert page.evaluate("window.__heights.length") == len(heights)
    page.set_viewport_size({"width": 1360, "height": int(outer) + 120})
    page.screenshot(path=str(SHOTS / "embed-host-dark.png"))
