"""A stored id at the top of BIGINT (2^63 - 1, written directly, not by the importer, which
refuses it) must not make any route answer 500 — before and after a rollup refresh, on both
engines — and the importer refuses such an id."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from support.api import BASE, ROUTES, WINDOW, auth, check, dataset, make_app
from support.db import create_pg_database, drop_pg_database, insert_agents

from ingest import refresh as rollups
from ingest.importer import import_files
from storage.engine import make_engine, migrate
from storage.schema import token_usage_logs

TOP = 2**63 - 1


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def private_engine(request, tmp_path):
    """Its own database: a row at the top of the id space would disturb the shared one."""
    url = f"sqlite:///{tmp_path / 'top.sqlite3'}" if request.param == "sqlite" else create_pg_database()
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


def _every_route(app, org):
    client = app.server.test_client()
    out = {}
    for route in ROUTES:
        resp = client.get(f"{BASE}/{route}", query_string=WINDOW, headers=auth(org))
        out[route] = check(resp, route)
    assert client.get("/", query_string={"token": auth(org)["Authorization"].split()[1]}).status_code == 200
    return out


def test_an_id_at_the_top_of_bigint_breaks_no_route(private_engine):
    org = "org-top"
    logs, agents = dataset(org)
    insert_agents(private_engine, agents)
    with private_engine.begin() as c:
        c.execute(token_usage_logs.insert(), logs[:-1])
        c.execute(token_usage_logs.insert(), [{**logs[-1], "id": TOP}])  # the last row (outside the window)
        c.execute(token_usage_logs.insert(), [{**logs[0], "id": TOP - 1}])  # one more in the window
    app = make_app(private_engine)
    raw = _every_route(app, org)  # never refreshed: answered from the raw table
    assert raw["summary"]["executions"] == 6
    rollups.refresh(private_engine)
    assert _every_route(app, org) == raw
    rollups.refresh(private_engine, full=True)
    assert _every_route(app, org) == raw
    with private_engine.begin() as c:  # a row added after the refresh counts at once
        c.execute(token_usage_logs.insert(), [{**logs[1], "id": 5000}])
    again = _every_route(app, org)
    assert again["summary"]["executions"] == 7
    rollups.refresh(private_engine)
    assert _every_route(app, org) == again


def test_the_importer_refuses_that_id(private_engine, tmp_path):
    p = tmp_path / "top.csv"
    p.write_text(
        f"id,org_id,created_at,action_type,source,provider,model\n"
        f"{TOP},org-top,2026-10-31T12:00:00Z,user_interaction,system,openai,gpt-4o\n"
    )

    from test_importer import _Sink

    err = _Sink()
    assert import_files(private_engine, str(p), out=_Sink(), err=err) == 2
    assert "the platform's own inserts would fail" in err.text
    with private_engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(token_usage_logs)).scalar() == 0
