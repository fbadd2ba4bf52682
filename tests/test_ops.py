"""Operations (contract §3.5) in process, on SQLite and PostgreSQL: /healthz, /readyz (503 when the
database is down or the rollups lag 60 s or more), /metrics with and without AI_USAGE_METRICS_TOKEN,
the request id (echoed, logged) and the JSON access log (org, never the token)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from support.api import SECRET, auth, log, make_app
from support.db import insert_logs

from app import create_app
from ingest import refresh as rollups
from storage.engine import make_engine
from storage.settings import Settings

METRICS_TOKEN = "metrics-" + "m" * 24


def body(resp) -> dict:
    return json.loads(resp.get_data(as_text=True))


def scrape(client, **headers) -> dict[str, float]:
    """The metric samples of /metrics: {'name{labels}': value}."""
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/plain; version=")  # the Prometheus text format
    out = {}
    for line in resp.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_healthz_needs_no_token(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and body(resp) == {"status": "ok"}


def test_a_method_they_do_not_take_is_the_apis_json_405(client):
    """POST, PUT, DELETE, PATCH, TRACE on the three: JSON with its code and Allow (was
    Werkzeug's HTML page); OPTIONS still lists GET, HEAD, OPTIONS."""
    for path in ("/healthz", "/readyz", "/metrics"):
        for method in ("POST", "PUT", "DELETE", "PATCH", "TRACE"):
            resp = client.open(path, method=method)
            assert resp.status_code == 405, (path, method)
            assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"
            err = body(resp)["error"]
            assert err["code"] == "method_not_allowed" and err["message"] == f"Only GET is allowed on {path}."
        resp = client.options(path)
        assert resp.status_code == 200 and set(resp.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_readyz_ready_when_caught_up_then_503_when_rows_wait_60_s(engine, org_id):
    now = datetime.now(UTC)
    insert_logs(engine, [log(org_id, now - timedelta(minutes=3), inp=5, cost="0.1")])
    rollups.refresh(engine)
    clock = [now]
    app = make_app(engine, clock=lambda: clock[0])
    c = app.server.test_client()
    resp = c.get("/readyz")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert body(resp)["status"] == "ready" and body(resp)["rollupLagSeconds"] == 0

    # A committed row past the watermark: the rollups are behind since their last refresh.
    insert_logs(engine, [log(org_id, now - timedelta(minutes=1), inp=7, cost="0.2")])
    with engine.connect() as conn:
        as_of = conn.execute(sa.text("SELECT refreshed_at FROM rollup_state")).scalar()
    as_of = as_of if isinstance(as_of, datetime) else datetime.fromisoformat(as_of)
    clock[0] = as_of + timedelta(seconds=59)
    resp = c.get("/readyz")
    assert resp.status_code == 200 and 58 < body(resp)["rollupLagSeconds"] < 60
    clock[0] = as_of + timedelta(seconds=60)
    resp = c.get("/readyz")
    assert resp.status_code == 503
    b = body(resp)
    assert b["status"] == "unready" and b["reason"] == "rollup_lag" and b["rollupLagSeconds"] == 60
    assert "60 s" in b["message"] and resp.headers["Retry-After"]

    # A refresh that rolls the row up makes it ready again (lag 0: nothing waits).
    rollups.refresh(engine)
    assert c.get("/readyz").status_code == 200


def test_a_refresh_with_nothing_new_still_moves_the_as_of_instant(engine, org_id):
    insert_logs(engine, [log(org_id, datetime.now(UTC), inp=1)])
    rollups.refresh(engine)
    with engine.connect() as conn:
        first = conn.execute(sa.text("SELECT refreshed_at, version FROM rollup_state")).one()
    rollups.refresh(engine)  # nothing new: the version stays, the as-of instant moves
    with engine.connect() as conn:
        second = conn.execute(sa.text("SELECT refreshed_at, version FROM rollup_state")).one()
    assert second[1] == first[1] and str(second[0]) > str(first[0])


def test_readyz_without_rollups_only_asks_the_database(engine):
    c = make_app(engine, use_rollups=False).server.test_client()
    resp = c.get("/readyz")
    assert resp.status_code == 200 and body(resp) == {"status": "ready", "rollups": "off"}


def test_readyz_503_when_the_database_is_down_while_healthz_stays_200():
    app = create_app(Settings(database_url="postgresql://postgres@127.0.0.1:1/nothing", secret=SECRET))
    c = app.server.test_client()
    resp = c.get("/readyz")
    assert resp.status_code == 503, resp.get_data(as_text=True)
    b = body(resp)
    assert b["status"] == "unready" and b["reason"] == "database_unavailable" and "database" in b["message"]
    assert c.get("/healthz").status_code == 200
    samples = scrape(c)  # /metrics still answers, and says the database is down
    assert samples["ai_usage_database_up"] == 0


def test_readyz_503_when_the_schema_is_missing(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    make_engine(url).dispose()
    resp = create_app(Settings(database_url=url, secret=SECRET)).server.test_client().get("/readyz")
    assert resp.status_code == 503 and body(resp)["reason"] == "schema_missing"


def test_metrics_with_a_token_set_need_it(engine):
    c = make_app(engine, metrics_token=METRICS_TOKEN).server.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        resp = c.get("/metrics", headers=headers)
        assert resp.status_code == 401, headers
        assert body(resp)["error"]["code"] in ("missing_token", "invalid_token")
        assert "WWW-Authenticate" in resp.headers and "ai_usage" not in resp.get_data(as_text=True)
    samples = scrape(c, Authorization=f"Bearer {METRICS_TOKEN}")
    assert samples["ai_usage_database_up"] == 1


def test_metrics_count_requests_by_route_template_and_status(engine, org_id):
    c = make_app(engine).server.test_client()  # no token set: /metrics is open
    before = scrape(c)
    key = 'ai_usage_http_requests_total{method="GET",route="/ai/org-usage/summary",status="%s"}'
    for _ in range(3):
        assert c.get("/ai/org-usage/summary?preset=7d", headers=auth(org_id)).status_code == 200
    assert c.get("/ai/org-usage/summary?preset=7d").status_code == 401
    for junk in ("/a/b/c", "/d/e/f?x=1"):  # the page's catch-all: one series, not one per path
        c.get(junk)
    after = scrape(c)
    assert after[key % 200] - before.get(key % 200, 0) == 3
    assert after[key % 401] - before.get(key % 401, 0) == 1
    page = 'ai_usage_http_requests_total{method="GET",route="/<path:path>",status="200"}'
    assert after[page] - before.get(page, 0) == 2
    assert not any("/a/b/c" in k for k in after)
    hist = 'ai_usage_http_request_duration_seconds_count{method="GET",route="/ai/org-usage/summary",status="200"}'
    assert after[hist] - before.get(hist, 0) == 3
    assert "ai_usage_rollup_lag_seconds" in after and "ai_usage_rollup_watermark" in after


def test_request_id_is_echoed_or_made_and_logged_with_the_org(client, org_id, caplog):
    headers = {**auth(org_id), "X-Request-Id": "req-42.abc"}
    with caplog.at_level(logging.INFO, logger="ai_usage.access"):
        ok = client.get("/ai/org-usage/summary?preset=7d", headers=headers)
        odd = client.get("/healthz", headers={"X-Request-Id": "no spaces\tor tabs " + "x" * 200})
        page = client.get(f"/?token={auth(org_id)['Authorization'].split()[1]}")
    assert ok.headers["X-Request-Id"] == "req-42.abc"
    made = odd.headers["X-Request-Id"]
    assert len(made) == 32 and int(made, 16) >= 0
    assert len(page.headers["X-Request-Id"]) == 32
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ai_usage.access"]
    by_id = {line["request_id"]: line for line in lines}
    line = by_id["req-42.abc"]
    assert line["route"] == "/ai/org-usage/summary" and line["path"] == "/ai/org-usage/summary"
    assert line["method"] == "GET" and line["status"] == 200 and line["org"] == org_id
    assert isinstance(line["duration_ms"], float) and line["time"].endswith("Z")
    assert by_id[made]["org"] is None and by_id[made]["status"] == 200
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "ai_usage.access")
    assert "token" not in text and "Bearer" not in text  # the page's ?token= never reaches the log


def test_request_id_on_errors_and_unknown_routes(client):
    for method, path, status in (("GET", "/ai/org-usage/nope", 404), ("POST", "/ai/org-usage/summary", 405)):
        resp = client.open(path, method=method, headers={"X-Request-Id": "abc"})
        assert resp.status_code == status and resp.headers["X-Request-Id"] == "abc"


class _Held:
    """A leadership that is always held (no lock, no database)."""

    held = True

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        pass


def test_leader_job_failures_from_the_database_log_one_line_and_bugs_a_traceback(caplog, tmp_path):
    from storage import execute
    from storage.leader import LeaderLoop

    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: what `serve` sees before init-db
    with pytest.raises(sa.exc.OperationalError) as raised, empty.connect() as conn:
        conn.execute(sa.text("SELECT watermark FROM rollup_state"))
    missing = raised.value
    down = execute.DatabaseFault(execute.UNAVAILABLE, sa.exc.OperationalError("SELECT 1", {}, OSError("refused")))

    def raising(exc: BaseException):
        def run() -> None:
            raise exc

        return run

    loop = LeaderLoop(empty, leadership=_Held())
    loop.add("rollups", raising(missing), every=60)
    loop.add("alerts", raising(down), every=60)
    loop.add("budget", raising(ValueError("a bug")), every=60)
    with caplog.at_level(logging.INFO, logger="ai_usage.leader"):
        loop._run_due()
        for job in loop.jobs:
            job.due = 0.0
        loop._run_due()  # the second failure in a row is not logged (the 1st, 10th, every 100th are)
    records = {r.getMessage().split(" failed")[0]: r for r in caplog.records}
    assert len(caplog.records) == 3, [r.getMessage() for r in caplog.records]
    schema, outage, bug = records["leader: job rollups"], records["leader: job alerts"], records["leader: job budget"]
    assert schema.levelno == logging.ERROR and schema.exc_info is None
    assert "schema_missing" in schema.getMessage() and "no such table: rollup_state" in schema.getMessage()
    assert "run `ai-usage init-db`" in schema.getMessage() and "\n" not in schema.getMessage()
    assert outage.levelno == logging.WARNING and outage.exc_info is None
    assert "unavailable (OperationalError" in outage.getMessage() and "init-db" not in outage.getMessage()
    assert bug.levelno == logging.ERROR and bug.exc_info is not None  # a bug keeps its traceback
    assert all(job.errors == 2 for job in loop.jobs)
    empty.dispose()
