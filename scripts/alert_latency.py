"""Measure alert latency end to end: a log row that crosses a budget threshold → the webhook received.

Usage: .venv/bin/python scripts/alert_latency.py [--database-url URL] [--runs 5] [--workers 2]
       [--demo-rows 20000]

What it does (a newcomer can run it as is; it needs nothing but the repo's .venv):
1. a database: DATABASE_URL from --database-url, else a fresh SQLite file in a temp dir;
   migrated, optionally filled with demo data (--demo-rows; other orgs' rows the rollups and
   the evaluator live with);
2. a local webhook receiver (http.server on 127.0.0.1) that verifies every signature with
   the hmac standard library;
3. `ai-usage serve --workers N` as a real subprocess (its leader runs the rollup catch-up
   and the alerts job), with AI_USAGE_WEBHOOK_SECRET and AI_USAGE_WEBHOOK_ALLOW_HOSTS=127.0.0.1;
4. per run: a new org gets a budget of 10 USD with a 50 % threshold (an org_budgets row,
   as the budget PUT stores it), waits a moment, then ONE log row of 6 USD is inserted;
   the latency is from that insert's commit to the receiver getting the signed POST.
Prints each run and min / median / max; exits 1 if any run misses 60 s (the contract's bound).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = "latency-webhook-secret-0123456789"
BOUND_S = 60.0


def receiver(port: int, got: queue.Queue) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            at = time.monotonic()
            parts = dict(p.split("=", 1) for p in self.headers.get("X-AI-Usage-Signature", "").split(",") if "=" in p)
            mac = hmac.new(SECRET.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
            got.put((at, json.loads(body), hmac.compare_digest(mac, parts.get("v1", ""))))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"ai-usage serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("ai-usage serve did not answer /healthz in time")


def main() -> int:
    import sqlalchemy as sa

    from storage.engine import make_engine, migrate
    from storage.schema import org_budgets, token_usage_logs

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--database-url")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--demo-rows", type=int, default=20_000)
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="alert-latency-")
    url = a.database_url or f"sqlite:///{tmp}/latency.sqlite3"
    engine = make_engine(url, statement_timeout_ms=0)
    migrate(engine)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AI_USAGE_SECRET": "latency-api-secret-0123456789-abcdefgh",
        "AI_USAGE_WEBHOOK_SECRET": SECRET,
        "AI_USAGE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    exe = str(Path(sys.executable).with_name("ai-usage"))
    if a.demo_rows:
        subprocess.run(
            [
                exe,
                "demo-data",
                "--orgs",
                "3",
                "--days",
                "90",
                "--rows",
                str(a.demo_rows),
                "--no-progress",
                "--if-empty",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    got: queue.Queue = queue.Queue()
    hook_port, port = free_port(), free_port()
    rx = receiver(hook_port, got)
    serve = subprocess.Popen(
        [exe, "serve", "--port", str(port), "--workers", str(a.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    latencies: list[float] = []
    try:
        wait_ready(port, serve)
        print(
            f"database {engine.url.render_as_string(hide_password=True)}; serve --workers {a.workers}; "
            f"demo rows {a.demo_rows}"
        )
        for run in range(a.runs):
            org = f"latency-{int(time.time())}-{run}"
            with engine.begin() as c:
                c.execute(
                    sa.insert(org_budgets).values(
                        org_id=org,
                        monthly_budget_usd=Decimal("10"),
                        thresholds="[0.5]",
                        webhook_url=f"http://127.0.0.1:{hook_port}/hook",
                        timezone="UTC",
                        updated_at=datetime.now(UTC),
                        updated_by="alert_latency.py",
                    )
                )
            time.sleep(2 + run % 3)  # the insert lands at a different point of the loop's rounds each run
            now = datetime.now(UTC)
            at = max(now - timedelta(seconds=30), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
            with engine.begin() as c:
                c.execute(
                    sa.insert(token_usage_logs).values(
                        org_id=org,
                        created_at=at,
                        action_type="user_interaction",
                        source="system",
                        provider="openai",
                        model="gpt-4o-mini",
                        input_tokens=1000,
                        cost_usd=Decimal("6"),
                    )
                )
            t0 = time.monotonic()
            while True:
                try:
                    received_at, body, signed = got.get(timeout=max(0.1, t0 + BOUND_S + 30 - time.monotonic()))
                except queue.Empty:
                    print(f"run {run + 1}: no webhook within {BOUND_S + 30:.0f} s")
                    latencies.append(float("inf"))
                    break
                if body.get("orgId") != org:
                    continue
                latencies.append(received_at - t0)
                print(
                    f"run {run + 1}: {latencies[-1]:.2f} s (signature {'valid' if signed else 'INVALID'}, "
                    f"type {body['type']}, threshold {body['threshold']}, monthToDateUsd {body['monthToDateUsd']})"
                )
                break
    finally:
        serve.terminate()
        serve.wait(30)
        rx.shutdown()
    finite = [x for x in latencies if x != float("inf")]
    if finite:
        print(
            f"latency: min {min(finite):.2f} s, median {statistics.median(finite):.2f} s, "
            f"max {max(latencies):.2f} s over {len(latencies)} runs (bound {BOUND_S:.0f} s)"
        )
    return 0 if latencies and max(latencies) <= BOUND_S else 1


if __name__ == "__main__":
    sys.exit(main())
