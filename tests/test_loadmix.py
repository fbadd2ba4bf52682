"""The load test's `mix` scenario sends what the page sends on a filter change
(ai_usage/loadmix.py): every server callback with the applied preset among its inputs is
filled and answers. When the page grew an input the load test did not fill (the display
currency), its filter changes silently sent nothing; this fails on that instead."""

from __future__ import annotations

import json

import pytest
from support.db import insert_logs
from test_sources import _recent

from ai_usage import loadmix
from app import create_app
from storage.settings import Settings
from web.auth import mint_token

SECRET = "loadmix-secret-" + "x" * 32


@pytest.fixture(scope="module")
def client(engine):
    return create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine).server.test_client()


def test_a_filter_change_sends_every_data_callback_and_each_answers(client, engine):
    org = "org-loadmix"
    insert_logs(engine, _recent(org, 30))
    token = mint_token(SECRET, org)
    deps = client.get("/_dash-dependencies").get_json()
    sent_by_a_change = [
        d
        for d in deps
        if d.get("clientside_function") is None
        and any(i["id"] == "filter-applied-preset" and i["property"] == "data" for i in d["inputs"])
    ]
    chosen = loadmix.data_callbacks(deps)
    assert len(chosen) >= 9 and chosen == sent_by_a_change  # none left out
    values = {
        **loadmix.FIXED_INPUTS,
        "filter-applied-preset.data": "30d",
        "filter-source.value": "all",
        "session-timezone.data": "Europe/Madrid",
        "session-token.data": token,
    }
    for dep in chosen:
        body = loadmix.filter_change_body(dep, values)
        r = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        assert r.status_code in (200, 204), (dep["output"], r.status_code, r.get_data(as_text=True)[:200])
