"""GET /ai/org-usage/alerts: the token's org's alert events, newest first, with their deliveries.

Read straight from the outbox (alerts.outbox.events), never from the answer cache: a
delivery's status changes without the org's data moving.
"""

from __future__ import annotations

import flask

from alerts import outbox
from queries.bad_input import limit_param
from storage import execute
from web import context

from . import security
from .answers import AlertDelivery, AlertEvent, Alerts
from .errors import json_response

DEFAULT_LIMIT, MAX_LIMIT = 50, 500


def parse_limit(params) -> int:
    """`limit` (queries.bad_input.limit_param: 1 to MAX_LIMIT, default DEFAULT_LIMIT)."""
    return limit_param(params, DEFAULT_LIMIT, MAX_LIMIT)


def body(events: list[outbox.Event]) -> Alerts:
    return Alerts.model_construct(
        alerts=[
            AlertEvent(
                id=e.id,
                type=e.type,  # type: ignore[typeddict-item]  # one of outbox's types, from our own writes
                month=e.month,
                key=e.dedup_key,
                created_at=outbox.iso(e.created_at),
                status=e.status,  # type: ignore[typeddict-item]  # one of outbox.STATUSES
                attempts=e.attempts,
                next_attempt_at=outbox.iso(e.next_attempt_at) if e.next_attempt_at and e.status == "pending" else None,
                threshold=e.threshold if e.type == "budget_threshold" else None,
                payload=e.body,
                deliveries=[
                    AlertDelivery(attempted_at=outbox.iso(d.attempted_at), http_status=d.http_status, error=d.error)
                    for d in e.deliveries
                ],
            )
            for e in events
        ]
    )


def alerts_route():
    """The org's alert events (GET /ai/org-usage/alerts?limit=N)."""
    req = flask.request
    claims = security.authenticate(req, context.settings().secret)
    limit = parse_limit(req.args)
    with execute.connect(context.engine()) as conn:
        events = outbox.events(conn, claims.org_id, limit)
    return json_response(body(events))
