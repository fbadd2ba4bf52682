"""The outbox worker: signed webhook delivery with retries (contract §3.4, issue 10's safety rules).

Every round (a leader job; safe if several processes run it):
- due rows (status pending, next_attempt_at ≤ now) are claimed one at a time with a lease:
  `UPDATE ... SET attempts = attempts + 1, next_attempt_at = now + LEASE_S WHERE id = :id
  AND status = 'pending' AND attempts = :seen AND next_attempt_at <= now`; only the worker
  whose update hit the row attempts it, so each due row gets one attempt. A worker that
  dies mid-attempt leaves the lease, which expires: the row is tried again (same id).
- the URL is checked again (alerts.urls.resolve_for_delivery: scheme, allow list, every
  resolved address public unless the host is allowed) and the connection goes to the
  address that check saw, with Host and TLS SNI = the host (certificates verified as
  usual): a name re-pointed at a private address meanwhile (DNS rebinding) is refused.
- POST the stored body, byte for byte, with `X-AI-Usage-Signature: t=<unix>,v1=<hex
  HMAC-SHA256("<t>.<body>", AI_USAGE_WEBHOOK_SECRET)>`, 5 s connect and read timeouts;
  redirects are not followed (a 3xx is a failure) and the response body is not read.
- 2xx: delivered. Anything else (status, timeout, reset, refused URL): the attempt is
  recorded (alert_deliveries) and the next one scheduled after an exponential backoff
  with full jitter (BASE_S · 2^(n−1), capped at CAP_S, times a uniform draw), until
  RETRY_FOR after the event's creation: then `failed`.
- all state is in the tables: a restart continues where the last process stopped.
- a round stops claiming after ROUND_S seconds (the leader's other jobs wait for it).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from storage import metrics
from storage.schema import alert_events

from . import outbox
from .urls import BadWebhookUrl, Resolver, Target, resolve_for_delivery, system_resolver

log = logging.getLogger("ai_usage.alerts")

SIGNATURE_HEADER = "X-AI-Usage-Signature"
TIMEOUT_S = 5.0
LEASE_S = 60  # a claimed row is left alone this long (longer than one attempt can take)
BASE_S = 30.0
CAP_S = 3600.0
MIN_DELAY_S = 1.0
RETRY_FOR = timedelta(hours=24)
BATCH = 20
ROUND_S = 15.0
USER_AGENT = "ai-usage-webhooks/1"


def signature(secret: str, body: bytes, t: int) -> str:
    """The header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of b"<t>." + body>."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def backoff(attempt: int, draw: float) -> float:
    """Seconds before the next attempt after `attempt` failures (full jitter: draw in [0, 1))."""
    ceiling = min(CAP_S, BASE_S * 2 ** max(0, attempt - 1))
    return float(max(MIN_DELAY_S, ceiling * draw))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext):
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address, self._ctx = target.address, context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Outcome:
    http_status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def post(
    target: Target,
    body: bytes,
    secret: str,
    now: float,
    timeout: float = TIMEOUT_S,
    context: ssl.SSLContext | None = None,
) -> Outcome:
    """One POST to the checked target; never raises for the receiver's faults."""
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPS(target, timeout, context or ssl.create_default_context())
    else:
        conn = _PinnedHTTP(target, timeout)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, body, int(now)),
        "Connection": "close",
    }
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        resp = conn.getresponse()
        status = resp.status
        return Outcome(status, None if 200 <= status < 300 else _status_error(status, resp.getheader("Location")))
    except TimeoutError:
        return Outcome(None, f"timeout: no answer within {timeout:g} s")
    except ConnectionResetError:
        return Outcome(None, "connection reset by the receiver")
    except ssl.SSLError as e:
        return Outcome(None, f"TLS error: {e.reason or e}")
    except (OSError, http.client.HTTPException) as e:
        return Outcome(None, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
    finally:
        conn.close()


def _status_error(status: int, location: str | None) -> str | None:
    """None when the status says it all; a redirect says that it was not followed, and where to."""
    if 300 <= status < 400:
        return "redirect not followed" + (f" (to {location[:200]})" if location else "")
    return None


class Worker:
    """The delivery round; call it (or run()) from the leader loop."""

    def __init__(
        self,
        engine: sa.Engine,
        secret: str,
        allowed: Collection[str],
        resolver: Resolver = system_resolver,
        clock: Callable[[], datetime] | None = None,
        draw: Callable[[], float] = random.random,
        timeout: float = TIMEOUT_S,
        context: ssl.SSLContext | None = None,
    ):
        self.engine, self.secret, self.allowed = engine, secret, allowed
        self.resolver, self.draw, self.timeout, self.context = resolver, draw, timeout, context
        self.clock = clock or (lambda: datetime.now(UTC))

    def __call__(self) -> None:
        self.run()

    def run(self, limit: int = BATCH) -> int:
        """Attempt up to `limit` due events (stopping after ROUND_S); how many were attempted."""
        started, done = time.monotonic(), 0
        e = alert_events.c
        with self.engine.connect() as conn:
            due = conn.execute(
                sa.select(e.id, e.attempts)
                .where(e.status == outbox.PENDING, e.next_attempt_at <= self.clock())
                .order_by(e.next_attempt_at)
                .limit(limit)
            ).all()
        for row in due:
            if time.monotonic() - started > ROUND_S:
                break
            if self.attempt(row.id, int(row.attempts)):
                done += 1
        return done

    def _claim(self, conn: sa.Connection, event_id: str, seen_attempts: int, now: datetime) -> bool:
        e = alert_events.c
        hit = conn.execute(
            sa.update(alert_events)
            .where(
                e.id == event_id,
                e.status == outbox.PENDING,
                e.attempts == seen_attempts,
                e.next_attempt_at <= now,
            )
            .values(attempts=e.attempts + 1, next_attempt_at=now + timedelta(seconds=LEASE_S))
        ).rowcount
        conn.commit()
        return bool(hit == 1)

    def attempt(self, event_id: str, seen_attempts: int) -> bool:
        """Claim the event and try it once; False if another worker had it."""
        now = self.clock()
        with self.engine.connect() as conn:
            if not self._claim(conn, event_id, seen_attempts, now):
                return False
            row = conn.execute(sa.select(alert_events).where(alert_events.c.id == event_id)).one()
            conn.rollback()
            if not self.secret:  # the secret went away since the event fired
                self._finish(conn, row, outbox.UNDELIVERABLE, None, outbox.NO_SECRET, now)
                return True
            try:
                target = resolve_for_delivery(row.webhook_url, self.allowed, self.resolver)
                result = post(target, row.payload.encode(), self.secret, now.timestamp(), self.timeout, self.context)
            except BadWebhookUrl as bad:
                result = Outcome(None, f"refused: {bad}")
            at = self.clock()
            if result.ok:
                self._finish(conn, row, outbox.DELIVERED, result.http_status, None, at)
            elif at >= row.created_at + RETRY_FOR:
                self._finish(conn, row, outbox.FAILED, result.http_status, result.error, at)
            else:
                delay = backoff(int(row.attempts), self.draw())
                next_at = min(at + timedelta(seconds=delay), row.created_at + RETRY_FOR)
                self._finish(conn, row, outbox.PENDING, result.http_status, result.error, at, next_at)
        return True

    def _finish(
        self,
        conn: sa.Connection,
        row: sa.Row[tuple[object, ...]],
        status: str,
        http_status: int | None,
        error: str | None,
        at: datetime,
        next_at: datetime | None = None,
    ) -> None:
        outbox.record_attempt(conn, row.id, at, http_status, error)
        conn.execute(
            sa.update(alert_events).where(alert_events.c.id == row.id).values(status=status, next_attempt_at=next_at)
        )
        conn.commit()
        outcome = {outbox.PENDING: "retried"}.get(status, status)
        metrics.alert_delivery("webhook", outcome)
        if status != outbox.DELIVERED:
            log.warning("alerts: event %s to org %r: %s (%s)", row.id, row.org_id, error or http_status, outcome)
