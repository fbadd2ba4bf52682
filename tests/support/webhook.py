"""A real local webhook receiver for the alert tests, and an independent signature check.

Receiver: http.server on 127.0.0.1 in a thread. It answers each POST with the next planned
behaviour (an HTTP status, "hang": no answer until the test ends, "reset": a TCP reset after
reading the request), then 200 once the plan is used up, and records every request.
verify(): the receiver's side of the signature, from the contract's words and the hmac
standard library only (no code of ours).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from storage.schema import org_budgets


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    def __init__(self, plan=(), tls: tuple[str, str] | None = None):
        self.plan = list(plan)
        self.requests: list[Received] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.requests.append(Received(self.path, dict(self.headers), body, time.time()))
                    action = receiver.plan.pop(0) if receiver.plan else 200
                    receiver._cond.notify_all()
                if action == "hang":
                    receiver._stop.wait(30)
                    self.close_connection = True
                    return
                if action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                self.send_response(action)
                if 300 <= action < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/redirected")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a reset connection is the plan, not an error

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:  # (certificate file, key file): HTTPS
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def wait(self, n: int, timeout: float = 10) -> list[Received]:
        """Block until n requests arrived (or fail after timeout)."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.requests) >= n, timeout), (len(self.requests), n)
            return list(self.requests)


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None) -> bool:
    """The receiver's check: t within tolerance, v1 = hex HMAC-SHA256(secret, "<t>.<body>")."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    t = int(parts["t"])
    expected = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs((now if now is not None else time.time()) - t) <= tolerance_s
    return fresh and hmac.compare_digest(expected, parts["v1"])


def set_budget(engine, org_id, budget="100", thresholds=(0.5, 0.8, 1.0), url=None, tz="UTC") -> None:
    """An org_budgets row, written as the budget PUT stores it."""
    with engine.begin() as c:
        c.execute(sa.delete(org_budgets).where(org_budgets.c.org_id == org_id))
        c.execute(
            sa.insert(org_budgets).values(
                org_id=org_id,
                monthly_budget_usd=None if budget is None else Decimal(budget),
                thresholds=json.dumps(list(thresholds)),
                webhook_url=url,
                timezone=tz,
                updated_at=datetime.now(UTC),
                updated_by="test",
            )
        )


class Clock:
    """A settable clock (aware UTC) for the worker and the evaluator."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
