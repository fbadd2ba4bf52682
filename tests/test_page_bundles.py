"""The first page load: no bundle the page does not use (dash_table), fingerprinted suites cached."""

from __future__ import annotations

import re

from app import create_app
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
    assert "max-age=31536000" in r.headers.get("Cache-Control", "")
