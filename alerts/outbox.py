"""The durable outbox (alert_events, alert_deliveries): firing an event once, and reading it back.

- fire(): INSERT ... ON CONFLICT DO NOTHING on the unique (org, type, month, dedup_key):
  whichever process or thread evaluates first records the event, every other insert of the
  same key is a no-op, on SQLite and PostgreSQL alike. True when this call fired it.
- The payload is built once, when the event fires, and stored as the exact bytes every
  delivery attempt sends (`id` included): a retry is byte for byte the first attempt.
- An event with no webhook URL, or fired while AI_USAGE_WEBHOOK_SECRET is empty, is stored
  `undeliverable` with one delivery row saying why (no attempt was made).
- events(): one org's events, newest first, with their delivery rows (the API's and the
  page's list); never another org's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.schema import alert_deliveries, alert_events

PENDING, DELIVERED, FAILED, UNDELIVERABLE = "pending", "delivered", "failed", "undeliverable"
STATUSES = (PENDING, DELIVERED, FAILED, UNDELIVERABLE)
TEST = "test"  # `ai-usage alerts send-test`: never deduplicated (its key is its own id)
NO_URL = "not sent: the org has no webhook URL"
NO_SECRET = "not sent: AI_USAGE_WEBHOOK_SECRET is not set on the server, so nothing can be signed"
MAX_ERROR = 500  # characters of an error kept per attempt
PAYLOAD_KEYS = (
    "id",
    "orgId",
    "type",
    "createdAt",
    "month",
    "monthlyBudgetUsd",
    "monthToDateUsd",
    "projectedTotalUsd",
    "probabilityOverBudget",
    "threshold",
    "anomaly",
)


def iso(t: datetime) -> str:
    """An instant as the API writes it: ISO-8601 with offset, UTC, whole seconds."""
    return t.astimezone(UTC).isoformat(timespec="seconds")


def _number(x: float | Decimal | None) -> float | None:
    return None if x is None else float(x)


def payload(
    event_id: str,
    org_id: str,
    type_: str,
    created_at: datetime,
    month: str,
    *,
    budget: Decimal | None = None,
    month_to_date: float | None = None,
    projected: float | None = None,
    probability: float | None = None,
    threshold: float | None = None,
    anomaly: Mapping[str, Any] | None = None,
) -> bytes:
    """The webhook body (contract §3.4): exactly PAYLOAD_KEYS, nulls where not applicable."""
    body: dict[str, Any] = {
        "id": event_id,
        "orgId": org_id,
        "type": type_,
        "createdAt": iso(created_at),
        "month": month,
        "monthlyBudgetUsd": _number(budget),
        "monthToDateUsd": _number(month_to_date),
        "projectedTotalUsd": _number(projected),
        "probabilityOverBudget": _number(probability),
        "threshold": _number(threshold),
        "anomaly": dict(anomaly) if anomaly is not None else None,
    }
    assert tuple(body) == PAYLOAD_KEYS
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def new_id() -> str:
    return str(uuid.uuid4())


def _insert(conn: sa.Connection, values: dict[str, Any]) -> bool:
    table = alert_events
    if conn.dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    return bool(conn.execute(stmt).rowcount == 1)


def fire(
    conn: sa.Connection,
    *,
    event_id: str,
    org_id: str,
    type_: str,
    month: str,
    dedup_key: str,
    created_at: datetime,
    body: bytes,
    webhook_url: str | None,
    can_sign: bool,
) -> bool:
    """Record the event unless its (org, type, month, dedup_key) already fired; True if this call fired it.

    The caller commits (one transaction per event: a later failure never undoes an alert that fired)."""
    why = NO_URL if not webhook_url else (None if can_sign else NO_SECRET)
    fired = _insert(
        conn,
        {
            "id": event_id,
            "org_id": org_id,
            "type": type_,
            "month": month,
            "dedup_key": dedup_key,
            "created_at": created_at,
            "payload": body.decode(),
            "webhook_url": webhook_url or None,
            "status": UNDELIVERABLE if why else PENDING,
            "attempts": 0,
            "next_attempt_at": None if why else created_at,
        },
    )
    if fired and why:
        record_attempt(conn, event_id, created_at, None, why)
    return fired


def record_attempt(
    conn: sa.Connection, event_id: str, at: datetime, http_status: int | None, error: str | None
) -> None:
    conn.execute(
        sa.insert(alert_deliveries).values(
            event_id=event_id,
            attempted_at=at,
            http_status=http_status,
            error=None if error is None else error[:MAX_ERROR],
        )
    )


@dataclass(frozen=True)
class Delivery:
    attempted_at: datetime
    http_status: int | None
    error: str | None


@dataclass(frozen=True)
class Event:
    """One event of the outbox as the API and the page show it."""

    id: str
    org_id: str
    type: str
    month: str
    dedup_key: str
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    webhook_url: str | None
    body: dict[str, Any]
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def threshold(self) -> float | None:
        value = self.body.get("threshold")
        return float(value) if isinstance(value, int | float) else None

    @property
    def anomaly_date(self) -> str | None:
        anomaly = self.body.get("anomaly")
        return str(anomaly.get("date")) if isinstance(anomaly, dict) and anomaly.get("date") else None

    @property
    def last_error(self) -> str | None:
        """What went wrong at the last attempt (None if it succeeded or none was made)."""
        if not self.deliveries:
            return None
        d = self.deliveries[-1]
        status = None if d.http_status is None or 200 <= d.http_status < 300 else f"HTTP {d.http_status}"
        return ": ".join(x for x in (status, d.error) if x) or None


def events(conn: sa.Connection, org_id: str, limit: int = 50, event_id: str | None = None) -> list[Event]:
    """org_id's events (or its one event_id), newest first, at most limit, each with its delivery attempts."""
    e = alert_events.c
    query = sa.select(alert_events).where(e.org_id == org_id)
    if event_id is not None:
        query = query.where(e.id == event_id)
    rows = conn.execute(query.order_by(e.created_at.desc(), e.id.desc()).limit(limit)).all()
    by_id: dict[str, list[Delivery]] = {r.id: [] for r in rows}
    if by_id:
        d = alert_deliveries.c
        for row in conn.execute(
            sa.select(d.event_id, d.attempted_at, d.http_status, d.error)
            .where(d.event_id.in_(list(by_id)))
            .order_by(d.attempted_at, d.id)
        ):
            by_id[row.event_id].append(Delivery(row.attempted_at, row.http_status, row.error))
    return [
        Event(
            id=r.id,
            org_id=r.org_id,
            type=r.type,
            month=r.month,
            dedup_key=r.dedup_key,
            created_at=r.created_at,
            status=r.status,
            attempts=int(r.attempts),
            next_attempt_at=r.next_attempt_at,
            webhook_url=r.webhook_url,
            body=_body(r.payload),
            deliveries=by_id[r.id],
        )
        for r in rows
    ]


def _body(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def count(conn: sa.Connection, org_ids: Sequence[str]) -> int:
    """Events of these orgs (tests and the latency script)."""
    return int(conn.execute(sa.select(sa.func.count()).where(alert_events.c.org_id.in_(list(org_ids)))).scalar_one())
