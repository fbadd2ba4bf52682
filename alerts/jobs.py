"""The alerts' place in a served process (the leader job) and the test event of the command line."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from . import outbox
from .deliver import TIMEOUT_S, Worker
from .evaluate import Evaluator, Sources, event_body
from .urls import Resolver, allow_hosts, system_resolver

log = logging.getLogger("ai_usage.alerts")
EVERY_S = 10.0  # the leader job's period: evaluation (cheap when nothing moved), then the due deliveries


class AlertsJob:
    """One leader round: evaluate every org with settings, then deliver what is due (new events at once)."""

    def __init__(self, engine: sa.Engine, settings: Any, sources: Sources | None = None):
        self.evaluator = Evaluator(engine, can_sign=bool(settings.webhook_secret), sources=sources)
        self.worker = Worker(engine, settings.webhook_secret, allow_hosts(settings.webhook_allow_hosts))

    def __call__(self) -> None:
        try:
            self.evaluator.run()
        finally:
            self.worker.run()  # retries go on even while evaluation fails


def schedule(loop: Any, settings: Any, engine: sa.Engine, every: float | None = None) -> AlertsJob:
    """Add the alerts to the leader loop (app.start_up), every `every` s (default EVERY_S).
    engine: the app's (its facts path: month status from the rollups)."""
    job = AlertsJob(engine, settings)
    loop.add("alerts", job, EVERY_S if every is None else every)
    return job


class SendTestError(Exception):
    """Why no test event can be sent (the CLI prints it)."""


@dataclass(frozen=True)
class TestResult:
    event: outbox.Event

    @property
    def message(self) -> str:
        e = self.event
        if e.status == outbox.DELIVERED:
            code = e.deliveries[-1].http_status if e.deliveries else None
            return f"Delivered test event {e.id} to {e.webhook_url} (HTTP {code})."
        last = e.last_error or "no answer"
        if e.status == outbox.PENDING:
            return (
                f"Test event {e.id} was not delivered ({last}); the server retries it with backoff for 24 h "
                f"(next attempt {e.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC)."
            )
        return f"Test event {e.id} is {e.status}: {last}."


def send_test(
    engine: sa.Engine,
    settings: Any,
    org_id: str,
    sources: Sources | None = None,
    resolver: Resolver = system_resolver,
    now: datetime | None = None,
) -> TestResult:
    """Create a `test` event for org_id (never deduplicated) and attempt its delivery now."""
    if not settings.webhook_secret:
        raise SendTestError("AI_USAGE_WEBHOOK_SECRET is not set: webhooks cannot be signed, so none is sent.")
    evaluator = Evaluator(engine, can_sign=True, sources=sources)
    src = evaluator.sources
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        org = src.load_settings(conn, org_id)
        if org is None or not org.webhook_url:
            raise SendTestError(
                f"The org {org_id!r} has no webhook URL: set one first (PUT /ai/org-usage/budget with webhookUrl)."
            )
        try:
            status = src.month_status(conn, org_id, org.timezone, now, org.monthly_budget_usd)
        except Exception:  # the test event is about delivery; its figures are a courtesy
            log.warning("alerts: month status for the test event of %r failed", org_id, exc_info=True)
            status = None
        conn.rollback()
        event_id = outbox.new_id()
        month = status.month_start.strftime("%Y-%m") if status is not None else now.strftime("%Y-%m")
        body = event_body(event_id, org_id, outbox.TEST, now, month, org, status)
        outbox.fire(
            conn,
            event_id=event_id,
            org_id=org_id,
            type_=outbox.TEST,
            month=month,
            dedup_key=event_id,
            created_at=now,
            body=body,
            webhook_url=org.webhook_url,
            can_sign=True,
        )
        conn.commit()
    worker = Worker(engine, settings.webhook_secret, allow_hosts(settings.webhook_allow_hosts), resolver=resolver)
    mine = worker.attempt(event_id, 0)
    deadline = time.monotonic() + 2 * TIMEOUT_S + 2
    while True:  # a running server's worker may have claimed it first: wait for its attempt's outcome
        with engine.connect() as conn:
            (event,) = outbox.events(conn, org_id, event_id=event_id)
        if mine or event.deliveries or time.monotonic() > deadline:
            return TestResult(event)
        time.sleep(0.2)
