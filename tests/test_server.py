"""`ai-usage serve`: refuses to start without a real secret (unless --demo), prints a ready link in
demo mode, and serves the page and the API through waitress."""

from __future__ import annotations

import gzip
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from support.api import SECRET, log
from support.db import insert_logs

from ai_usage.server import serve, url_host
from storage.engine import make_engine, migrate
from storage.settings import Settings
from web.auth import verify_token

STARTUP_LIMIT = 300  # seconds; only a hang would reach it (two workers booting on a loaded 2-core machine took 114 s)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'serve.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    insert_logs(
        engine,
        [
            log("demo", now - timedelta(minutes=5), inp=10, out=5, cost="0.25"),
            log("demo", now - timedelta(minutes=6), inp=1, cost="0.5"),
            log("other-org", now - timedelta(minutes=5), inp=999, cost="9"),
        ],
    )
    engine.dispose()
    return url


class Served:
    """`python -m ai_usage.cli serve …` on a free port, with its printed lines."""

    def __init__(self, db_url: str, secret: str | None, *args: str):
        env = {k: v for k, v in os.environ.items() if k not in ("AI_USAGE_SECRET", "DATABASE_URL")}
        env["DATABASE_URL"] = db_url
        if secret is not None:
            env["AI_USAGE_SECRET"] = secret
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ai_usage.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--threads",
                "2",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        q: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [q.put(line) for line in self.proc.stdout], daemon=True).start()
        while True:
            try:
                line = q.get(timeout=STARTUP_LIMIT)
            except queue.Empty:
                self.stop()
                pytest.fail(f"serve printed no URL within {STARTUP_LIMIT}s: {self.lines}")
            self.lines.append(line)
            if "serving on" in line:
                break
        self.base = re.search(r"serving on (http://\S+/)", line).group(1)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def link(self) -> str | None:
        m = re.search(r"(http://\S+/\?token=\S+)", self.text)
        return m.group(1) if m else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def fetch(url: str, **headers):
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# ------------------------------------------------------------------ refusals (in-process, nothing served)


@pytest.mark.parametrize("secret", ["", "too-short-secret"])
def test_refuses_to_start_without_a_real_secret(secret, capsys):
    assert serve(Settings(secret=secret), port=0, demo=False) == 2
    err = capsys.readouterr().err
    assert "AI_USAGE_SECRET" in err and "32 bytes" in err and "--demo" in err


def test_refuses_zero_threads(capsys):
    assert serve(Settings(secret=SECRET), port=0, threads=0) == 2
    assert "--threads" in capsys.readouterr().err


def test_port_in_use_is_a_clear_error(demo_db, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert serve(Settings(database_url=demo_db, secret=SECRET), host="127.0.0.1", port=port) == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("port", [-1, 65536, 99999])
def test_a_port_out_of_range_is_a_clear_error(workers, port, capsys):
    """Not a socket's OverflowError traceback (gunicorn) nor waitress's ValueError: exit 2, in words."""
    assert serve(Settings(secret=SECRET), port=port, workers=workers) == 2
    assert f"--port must be from 0 to 65535 (0: any free port); got {port}." in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("host", ["nosuchhost.invalid", "not..a..host", "999.1.1.1"])
def test_a_host_that_resolves_to_nothing_is_a_clear_error(demo_db, workers, host, capsys):
    """getaddrinfo's gaierror, idna's UnicodeError ('a..b') and waitress's "Invalid host/port
    specified." were tracebacks: now one line and exit 1, as for a taken port."""
    from api.observe import access_log

    handlers = list(access_log.handlers)
    assert serve(Settings(database_url=demo_db, secret=SECRET), host=host, port=0, workers=workers) == 1
    err = capsys.readouterr().err
    assert f"Cannot listen on {host}:0: the host is neither an IP address nor a name that resolves" in err
    assert "Traceback" not in err
    # Refused before any logging is set up: no access-log handler left on this test's stdout,
    # which pytest closes after it (later tests' servers logged "--- Logging error ---").
    assert access_log.handlers == handlers


@pytest.mark.parametrize(
    "host,shown",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("", "127.0.0.1"),
        ("::", "[::1]"),
        ("::1", "[::1]"),
        ("localhost", "localhost"),
    ],
)
def test_url_host(host, shown):
    assert url_host(host) == shown


# ------------------------------------------------------------------ serving (subprocess, waitress)


def test_demo_without_secret_prints_a_working_link(demo_db):
    s = Served(demo_db, None, "--demo")
    try:
        link = s.link()
        assert link and link.startswith(s.base + "?token="), s.text
        assert "random secret" in s.text
        status, headers, body = fetch(link)
        assert status == 200 and b"<html" in body.lower()
        assert headers["Content-Security-Policy"] == "frame-ancestors 'self'"
        assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"
        assert "X-Frame-Options" not in headers
        token = link.split("?token=", 1)[1]
        status, headers, body = fetch(s.base + "ai/org-usage/summary?preset=7d", Authorization=f"Bearer {token}")
        assert status == 200 and headers["Cache-Control"] == "no-store"
        summary = json.loads(body)
        assert summary["executions"] == 2 and summary["totalCostUsd"] == 0.75  # org "demo" only
        status, headers, body = fetch(
            s.base + "ai/org-usage/time-series?preset=7d",
            Authorization=f"Bearer {token}",
            **{"Accept-Encoding": "gzip"},
        )
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert sum(p["executions"] for p in json.loads(gzip.decompress(body))["points"]) == 2
        status, _, body = fetch(s.base + "ai/org-usage/summary")
        assert status == 401 and json.loads(body)["error"]["code"] == "missing_token"
    finally:
        s.stop()


def test_demo_with_a_real_secret_links_a_token_of_that_secret(demo_db):
    s = Served(demo_db, SECRET, "--demo")
    try:
        token = s.link().split("?token=", 1)[1]
        claims = verify_token(token, SECRET)
        assert claims.org_id == "demo"
        left = claims.exp - datetime.now(UTC)
        assert timedelta(hours=11) < left <= timedelta(hours=12)
        assert "random secret" not in s.text
    finally:
        s.stop()


def test_production_mode_prints_the_url_and_no_token(demo_db):
    from web.auth import mint_token

    s = Served(demo_db, SECRET)
    try:
        assert s.link() is None and "token=" not in s.text
        status, _, body = fetch(
            s.base + "ai/org-usage/summary?preset=7d", Authorization=f"Bearer {mint_token(SECRET, 'other-org')}"
        )
        assert status == 200 and json.loads(body)["executions"] == 1
        status, _, body = fetch(s.base + "ai/org-usage/openapi.json")
        assert status == 200 and json.loads(body)["openapi"] == "3.1.0"
    finally:
        s.stop()


def test_token_command_prints_a_token_valid_for_its_ttl(monkeypatch, capsys):
    import jwt

    from ai_usage import cli

    monkeypatch.setenv("AI_USAGE_SECRET", SECRET)
    assert cli.main(["token", "--org", "acme", "--ttl", "15m"]) == 0
    token = capsys.readouterr().out.strip()
    assert verify_token(token, SECRET).org_id == "acme"
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["exp"] - payload["iat"] == 15 * 60


@pytest.mark.parametrize("argv", [["--ttl", "0s"], ["--ttl", "99999999d"], ["--org", ""]])
def test_token_command_refuses_a_token_the_api_would_refuse(argv, monkeypatch, capsys):
    """A zero lifetime (born expired), one past the calendar (was a traceback) or an empty org:
    a usage error (exit 2), never a printed token the API answers with 401."""
    from ai_usage import cli

    monkeypatch.setenv("AI_USAGE_SECRET", SECRET)
    args = {"--org": "acme", **dict(zip(argv[::2], argv[1::2]))}
    with pytest.raises(SystemExit) as e:
        cli.main(["token", *[x for kv in args.items() for x in kv]])
    assert e.value.code == 2
    out = capsys.readouterr()
    assert out.out == "" and "Traceback" not in out.err


# ------------------------------------------------------------------ waitress: raw paths, the queue-depth warning


@pytest.fixture(scope="module")
def waitress_app(db_template, tmp_path_factory):
    """The app behind a real waitress server in a thread (raw request lines reach it unchanged),
    one for the module: its tests only read (an empty database)."""
    import waitress
    from support.api import make_app
    from support.db import copied_database

    with copied_database(db_template("sqlite"), tmp_path_factory.mktemp("waitress")) as url:
        engine = make_engine(url)
        server = waitress.create_server(make_app(engine).server, host="127.0.0.1", port=0, threads=2)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        yield server.effective_port
        stop_waitress(server, thread)
        engine.dispose()


def stop_waitress(server, thread) -> None:
    """Close the server from inside its own loop (closing its sockets from this thread made
    the loop's select() fail with EBADF), then wait for the loop to end."""
    server.task_dispatcher.shutdown()
    server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map))
    thread.join(10)


@pytest.mark.parametrize(
    "path, status",
    [
        ("/ai/org-usage//summary", 404),
        ("/ai//org-usage/summary", 404),
        ("/ai/org-usage/%2e%2e/summary", 404),
        ("/ai/org-usage/summary/", 404),
        ("/x/../ai/org-usage/summary", 404),
        ("/ai/org-usage/./summary", 404),
        ("/ai/org-usage/summary//", 404),
        ("/ai/org-usage/%2F/summary", 404),
        ("//ai/org-usage/summary", 200),  # waitress itself collapses leading slashes: the route answers
    ],
)
def test_odd_api_paths_through_waitress_are_json_never_the_page(waitress_app, path, status):
    import http.client

    from support.api import auth

    conn = http.client.HTTPConnection("127.0.0.1", waitress_app, timeout=30)
    try:
        conn.request("GET", path, headers=auth("acme"))  # sent verbatim: no client-side normalisation
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert (resp.status, resp.getheader("Content-Type")) == (status, "application/json"), (path, body[:80])
    assert status == 200 or json.loads(body)["error"]["code"] == "not_found"


def test_queue_depth_warning_is_logged_once_per_interval():
    import logging

    from ai_usage.server import QueueDepthThrottle

    now = [1000.0]
    f = QueueDepthThrottle(10.0, clock=lambda: now[0])

    def record(depth):
        return logging.LogRecord(
            "waitress.queue", logging.WARNING, __file__, 1, "Task queue depth is %d", (depth,), None
        )

    passed = []
    for i in range(3000):  # 3,000 queued requests over 30 s
        now[0] = 1000.0 + i * 0.01
        r = record(i % 50 + 1)
        if f.filter(r):
            passed.append(r.getMessage())
    assert len(passed) == 3
    assert passed[0] == "Task queue depth is 1"
    assert passed[1].startswith("Task queue depth is ") and "999 more such warnings in the last 10 s" in passed[1]


def test_serve_throttles_waitress_queue_warnings_for_real(caplog):
    """One slow thread and 40 concurrent requests: waitress would warn ~40 times."""
    import logging
    import time

    import waitress

    from ai_usage.server import QueueDepthThrottle, throttle_queue_warnings

    def slow_app(environ, start_response):
        time.sleep(0.05)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    logger = logging.getLogger("waitress.queue")
    throttle = throttle_queue_warnings()
    assert throttle_queue_warnings() is throttle and sum(isinstance(x, QueueDepthThrottle) for x in logger.filters) == 1
    server = waitress.create_server(slow_app, host="127.0.0.1", port=0, threads=1)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    url = f"http://127.0.0.1:{server.effective_port}/"
    try:
        with caplog.at_level(logging.WARNING, logger="waitress.queue"):
            workers = [
                threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=60).read()) for _ in range(40)
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
    finally:
        stop_waitress(server, loop)
        logger.removeFilter(throttle)
    depth = [r for r in caplog.records if r.name == "waitress.queue"]
    assert 1 <= len(depth) <= 2, [r.getMessage() for r in depth]


def test_token_command_respects_max_token_ttl(monkeypatch, capsys):
    from ai_usage import cli

    monkeypatch.setenv("AI_USAGE_SECRET", SECRET)
    monkeypatch.setenv("AI_USAGE_MAX_TOKEN_TTL", "1h")
    assert cli.main(["token", "--org", "acme", "--ttl", "2h"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "AI_USAGE_MAX_TOKEN_TTL" in out.err
    assert cli.main(["token", "--org", "acme", "--ttl", "1h"]) == 0
    assert verify_token(capsys.readouterr().out.strip(), SECRET, max_ttl=timedelta(hours=1)).org_id == "acme"


@pytest.mark.parametrize(
    "name, value", [("AI_USAGE_MAX_TOKEN_TTL", "forever"), ("AI_USAGE_STATEMENT_TIMEOUT_MS", "ten")]
)
def test_a_malformed_setting_is_one_line_not_a_traceback(monkeypatch, capsys, name, value):
    from ai_usage import cli

    monkeypatch.setenv(name, value)
    assert cli.main(["init-db"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Invalid setting: ") and len(err.splitlines()) == 1


def test_repeated_x_org_id_headers_through_waitress(waitress_app):
    """Waitress joins repeated headers with ', ': every value must still be the token's org."""
    import http.client

    from support.api import auth

    def status(*orgs):
        conn = http.client.HTTPConnection("127.0.0.1", waitress_app, timeout=30)
        try:
            conn.putrequest("GET", "/ai/org-usage/summary?preset=7d")
            conn.putheader("Authorization", auth("acme")["Authorization"])
            for org in orgs:
                conn.putheader("x-org-id", org)
            conn.endheaders()
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    assert status("acme", "other") == 403 and status("other", "acme") == 403
    assert status("acme", "acme") == 200 and status("acme") == 200


def test_serve_limits_malloc_arenas_unless_the_environment_says(monkeypatch):
    """glibc arenas per thread made a worker's memory grow under load (README, «Serving»)."""
    from ai_usage.server import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False  # glibc already read the operator's choice
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert limit_malloc_arenas() is sys.platform.startswith("linux")


def test_scripts_requested_at_once_right_after_start_are_served(engine):
    """Dash sets itself up in its first request's before-request hook and marks that done
    before doing it (plotly/dash#3971): script requests arriving meanwhile on other threads
    found an empty registry and answered 500, so the first page load after a start or a
    reload could break. A served process sets Dash up before its first request (app.start_up
    calls app.set_up_dash): every one of 24 simultaneous first requests is served."""
    from support.api import make_app

    from app import set_up_dash

    probe = make_app(engine)
    page = probe.server.test_client().get("/").get_data(as_text=True)
    scripts = sorted(set(re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)))
    assert len(scripts) >= 3, page[:500]
    fresh = make_app(engine)
    set_up_dash(fresh)
    start, statuses = threading.Barrier(24), []

    def fetch(i: int) -> None:
        client = fresh.server.test_client()
        start.wait()
        statuses.append(client.get(scripts[i % len(scripts)]).status_code)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 24


def test_the_install_byte_compiles_the_price_catalogue():
    """`make run` and `make test` install with --no-compile, then byte-compile genai-prices'
    catalogue (the Makefile's run stamp): a worker that may not write bytecode
    (PYTHONDONTWRITEBYTECODE=1) compiled its 1.6 MB of Python at its first price lookup,
    ~68 MB of peak memory, in every worker (docs/measurements.md, «a thirty-first machine»)."""
    import importlib.util
    from pathlib import Path

    import genai_prices.data
    from support.db import require

    require((Path(sys.prefix) / ".installed-run").exists(), "a virtual environment installed by make")
    source = genai_prices.data.__file__
    assert source is not None and source.endswith(".py")
    compiled = Path(importlib.util.cache_from_source(source))
    assert compiled.exists(), compiled
    assert compiled.stat().st_mtime >= Path(source).stat().st_mtime
