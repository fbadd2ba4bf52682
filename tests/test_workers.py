"""Several server processes on one database, for real (subprocesses): one leader does the rollup
catch-up while every process serves; gunicorn's workers add up their metrics in one /metrics."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from support.api import SECRET, auth, log
from support.db import create_pg_database, drop_pg_database, insert_logs

from storage import rollup_tables as rt
from storage.engine import make_engine, migrate

STARTUP_LIMIT = 300  # seconds: importing the app on a loaded 2-core machine took up to ~110 s
pytestmark = pytest.mark.slow


class Server:
    """`python -m ai_usage.cli serve` on a free port; its stdout (JSON access log) and stderr kept."""

    def __init__(self, db_url: str, *args: str, env: dict | None = None):
        full = {k: v for k, v in os.environ.items() if not k.startswith(("AI_USAGE_", "PROMETHEUS_"))}
        full |= {"DATABASE_URL": db_url, "AI_USAGE_SECRET": SECRET, "AI_USAGE_REFRESH_SECONDS": "0.5", **(env or {})}
        cmd = [sys.executable, "-m", "ai_usage.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "2"]
        self.proc = subprocess.Popen([*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full)
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, i=into: [i.append(line) for line in s], daemon=True).start()
        deadline = time.monotonic() + STARTUP_LIMIT
        while not any("serving on" in line for line in self.out):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"serve did not start: {self.out[-5:]} {self.err[-10:]}")
            time.sleep(0.2)
        line = next(line for line in self.out if "serving on" in line)
        self.base = re.search(r"serving on (http://\S+/)", line).group(1)

    def get(self, path: str, **headers) -> tuple[int, bytes]:
        req = urllib.request.Request(self.base + path.lstrip("/"), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=STARTUP_LIMIT) as r:  # a request may wait for a booting worker
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def metrics(self) -> dict[str, float]:
        status, text = self.get("/metrics")
        assert status == 200
        return {
            name: float(value)
            for name, value in (line.rsplit(" ", 1) for line in text.decode().splitlines() if line[:1] not in ("", "#"))
        }

    def access(self) -> list[dict]:
        return [json.loads(line) for line in list(self.out) if line.startswith("{")]

    def leads(self) -> bool:
        return "now leads" in "".join(self.err).rsplit("leader:", 1)[-1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(what, check, limit: float = 120):
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def state(engine) -> rt.State:
    with engine.connect() as c:
        return rt.read_state(c)


def top_id(engine) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text("SELECT MAX(id) FROM token_usage_logs")).scalar())


@pytest.mark.postgres
def test_two_servers_on_one_postgres_one_catch_up_both_serve():
    url = create_pg_database()
    engine = make_engine(url)
    migrate(engine)
    servers: list[Server] = []
    try:
        servers = [Server(url, "--workers", "1"), Server(url, "--workers", "1")]
        wait_for("a leader", lambda: sum(s.leads() for s in servers) == 1)
        leader = next(s for s in servers if s.leads())
        follower = next(s for s in servers if s is not leader)
        wait_for(
            "the first round",
            lambda: sum(v for k, v in leader.metrics().items() if k.startswith("ai_usage_rollup_refreshes_total")) > 0,
        )
        before = state(engine)

        now = datetime.now(UTC)
        rows = [log("acme", now - timedelta(minutes=i), inp=10, cost="0.5") for i in range(40)]
        insert_logs(engine, rows)  # one transaction
        top = top_id(engine)
        wait_for("the catch-up", lambda: state(engine).watermark >= top)
        time.sleep(2)  # a few more rounds: nothing else may happen
        after = state(engine)
        assert after.version == before.version + 1  # exactly one catch-up committed

        lm, fm = leader.metrics(), follower.metrics()
        assert lm['ai_usage_rollup_refreshes_total{outcome="rolled_up"}'] == 1
        assert lm["ai_usage_rollup_rows_total"] == 40 and lm["ai_usage_leader"] == 1
        assert not any(k.startswith("ai_usage_rollup_refreshes_total") and v for k, v in fm.items())
        assert fm["ai_usage_leader"] == 0
        assert sum("rows rolled up" in line for s in servers for line in s.err) == 1
        for s in servers:  # both answer with the new rows (now from the rollups)
            status, body = s.get("/ai/org-usage/summary?preset=7d", **auth("acme"))
            assert status == 200 and json.loads(body)["executions"] == 40
            assert json.loads(s.get("/readyz")[1])["status"] == "ready"

        # The leader goes away: the follower takes over and catches up the next rows.
        leader.stop()
        wait_for("the follower to lead", follower.leads)
        insert_logs(engine, [log("acme", now, inp=1, cost="1")])
        top = top_id(engine)
        wait_for("the new leader's catch-up", lambda: state(engine).watermark >= top)
        status, body = follower.get("/ai/org-usage/summary?preset=7d", **auth("acme"))
        assert status == 200 and json.loads(body)["executions"] == 41
    finally:
        for s in servers:
            s.stop()
        engine.dispose()
        drop_pg_database(url)


def test_gunicorn_workers_add_up_their_metrics_and_one_leads(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    insert_logs(engine, [log("acme", datetime.now(UTC), inp=3, cost="0.25")])
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    s = Server(url, "--workers", "2", env={"TMPDIR": str(private_tmp)})
    try:
        wait_for("both workers to boot", lambda: "".join(s.err).count("Booting worker") >= 2)
        key = 'ai_usage_http_requests_total{method="GET",route="/healthz",status="200"}'
        sent = 0
        # Until two workers have answered (the kernel hands connections to either). "Booting
        # worker" comes before a worker has imported the app: on a loaded machine the second
        # one can take a minute more to accept, so this waits by time, not by count.
        deadline = time.monotonic() + STARTUP_LIMIT
        while len({line["pid"] for line in s.access() if line["route"] == "/healthz"}) < 2:
            assert time.monotonic() < deadline, f"only one worker answered {sent} requests in {STARTUP_LIMIT} s"
            status, _ = s.get("/healthz", **{"X-Request-Id": f"probe-{sent}"})
            assert status == 200
            sent += 1
            if sent > 200:
                time.sleep(0.05)
        wait_for("every line", lambda: len([x for x in s.access() if x["route"] == "/healthz"]) >= sent, 10)
        m = s.metrics()  # answered by one worker, counting both
        assert m[key] == sent
        wait_for("a leader", lambda: s.metrics()["ai_usage_leader"] == 1)
        status, body = s.get("/ai/org-usage/summary?preset=7d", **auth("acme"))
        assert status == 200 and json.loads(body)["executions"] == 1

        # HUP: new workers replace the old ones; the counts so far stay, one process leads.
        master = s.proc.pid
        os.kill(master, signal.SIGHUP)
        wait_for("new workers", lambda: "".join(s.err).count("Booting worker") >= 4, STARTUP_LIMIT)
        wait_for("a new worker to answer", lambda: s.get("/healthz")[0] == 200 and len(s.access()) > sent + 1)
        wait_for("one leader again", lambda: s.metrics()["ai_usage_leader"] == 1, 60)
        assert s.metrics()[key] >= sent + 1
    finally:
        s.stop()
        engine.dispose()
    assert s.proc.returncode == 0  # TERM: a graceful stop
    assert list(private_tmp.iterdir()) == []  # the metrics directory is gone with the server


def _raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (urllib would not send a broken request line); status, headers, body."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(base)
    with socket.create_connection((u.hostname, u.port), timeout=STARTUP_LIMIT) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_gunicorn_reads_every_request_the_contract_admits_and_refuses_in_json(tmp_path):
    """Five filters of 50 values of 200 characters are a valid request (§3.1): ~482 KB of request
    line with 4-byte characters. gunicorn refused more than 4,094 bytes with an HTML 414 (50 user
    and 50 agent UUIDs were enough); now it reads up to 1 MiB, and what it refuses itself (longer,
    or unparsable) answers in the API's error shape."""
    from urllib.parse import urlencode

    from ai_usage.http_limits import MAX_REQUEST_LINE

    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    insert_logs(engine, [log("acme", datetime.now(UTC), inp=3, cost="0.25")])
    engine.dispose()
    s = Server(url, "--workers", "2")
    try:
        window = [("preset", "7d")]
        longest = [(k, f"{i:03d}" + "🙂" * 197) for k in ("agentId", "userId", "provider", "model") for i in range(50)]
        actions = [
            "user_interaction",
            "guardrail_check",
            "title_generation",
            "rag_query_embedding",
            "document_indexing",
        ]
        longest += [("actionType", actions[i % 5]) for i in range(50)]
        path = "/ai/org-usage/summary?" + urlencode(window + longest)
        assert 450_000 < len(path) < MAX_REQUEST_LINE
        status, body = s.get(path, **auth("acme"))
        assert status == 200, body[:300]
        answer = json.loads(body)
        assert answer["executions"] == 0  # matches nothing: empty figures, not an error
        assert len(answer["filters"]["userId"]) == 50 and answer["filters"]["userId"][0] == "000" + "🙂" * 197

        status, body = s.get(path + "&" + urlencode([("userId", "x")]), **auth("acme"))
        assert status == 400 and json.loads(body)["error"]["parameter"] == "userId"

        # The page, reloaded with a long view in its URL, is served too.
        status, body = s.get("/?" + urlencode([("lang", "en")] + longest[:100]))
        assert status == 200 and b"<html" in body.lower()

        too_long = "/ai/org-usage/summary?" + urlencode([("model", "m" * MAX_REQUEST_LINE)])
        status, headers, body = _raw(s.base, f"GET {too_long} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert status == 414 and headers["Content-Type"] == "application/json"
        error = json.loads(body)["error"]
        assert error["code"] == "request_line_too_long" and "1,048,576 bytes" in error["message"]
        assert error["parameter"] is None

        status, headers, body = _raw(s.base, b"GET /\x01<script> HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 400 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "bad_request"

        # A long path is logged cut, with its length.
        status, _ = s.get("/" + "a" * 100_000)  # Dash's catch-all route serves the page
        assert status == 200
        wait_for("the long path's log line", lambda: any(x["path"].startswith("/aaa") for x in s.access()), 30)
        logged = next(x["path"] for x in s.access() if x["path"].startswith("/aaa"))
        assert logged.startswith("/aaa") and logged.endswith("…[100,001 characters]") and len(logged) < 2100
    finally:
        s.stop()
