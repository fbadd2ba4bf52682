"""The first page load: no bundle the page does not use (dash_table); fingerprinted component
suites and content-hashed /assets/ URLs cached for a year, immutable."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from app import ASSETS, create_app
from storage.settings import Settings


def test_dash_table_is_not_served_and_suites_are_long_cached(engine):
    app = create_app(Settings(database_url=str(engine.url), secret="x" * 40), engine=engine)
    client = app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts and not [s for s in scripts if "dash_table" in s]
    assert any("dash_ag_grid" in s for s in scripts)  # the grid's bundle still is
    suite = next(s for s in scripts if s.startswith("/_dash-component-suites/dash_ag_grid/"))
    r = client.get(suite)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    r.close()


def test_assets_carry_their_content_hash_and_are_cached_immutably(engine):
    app = create_app(Settings(database_url=str(engine.url), secret="x" * 40), engine=engine)
    client = app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
    assert any(a.startswith("/assets/dashboard.js?m=") for a in assets)
    for url in assets:
        path, _, query = url.partition("?m=")
        body = (ASSETS / path.removeprefix("/assets/")).read_bytes()
        assert query == hashlib.sha256(body).hexdigest()[:16], url  # the content's hash, not an mtime
        r = client.get(url)
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
        r.close()
    r = client.get("/assets/dashboard.js?m=0123456789abcdef")  # a stale or forged hash: revalidated
    assert "immutable" not in r.headers.get("Cache-Control", "")
    r.close()


def test_plotly_is_the_cartesian_bundle_at_plotly_pys_version(engine):
    """The page loads plotly.js's partial bundle (scatter, bar, pie, heatmap… the page's trace
    types), fingerprinted and cached a year; never plotly.py's full plotly.min.js; and the
    committed bundle is the plotly.js version plotly.py was built for."""
    from plotly.offline import get_plotlyjs_version

    from web import plotlyjs

    bundle = Path(plotlyjs.__file__).with_name(plotlyjs.BUNDLE)
    header = bundle.read_text(encoding="utf-8")[:200]
    assert re.search(r"plotly\.js \(cartesian - minified\) v(\S+)\n", header)[1] == get_plotlyjs_version()
    assert plotlyjs.__version__ == get_plotlyjs_version()
    assert (bundle.parent / "LICENSE").read_text().startswith("MIT License")

    app = create_app(Settings(database_url=str(engine.url), secret="x" * 40), engine=engine)
    client = app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    assert "plotly.min.js" not in html and "package_data" not in html
    # dash-renderer asks for plotly.js at this fixed URL when a graph mounts: it now leads to ours.
    r = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js")
    assert r.status_code == 302
    url = r.headers["Location"]
    assert re.fullmatch(r"/_dash-component-suites/web\.plotlyjs/plotly-cartesian\.v[\d_]+m\d+\.min\.js", url), url
    r.close()
    r = client.get(url)
    assert r.status_code == 200 and r.get_data() == bundle.read_bytes()
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    r.close()
    # An app that loads eagerly gets it as a plain script in the page.
    eager = create_app(Settings(database_url=str(engine.url), secret="x" * 40), engine=engine, eager_loading=True)
    scripts = re.findall(r'<script src="([^"]+)"', eager.server.test_client().get("/").get_data(as_text=True))
    assert url in scripts and not [s for s in scripts if "plotly.min.js" in s]
