"""The first page load: no bundle the page does not use (dash_table); fingerprinted component
suites and content-hashed /assets/ URLs cached for a year, immutable."""

from __future__ import annotations

import hashlib
import re

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
