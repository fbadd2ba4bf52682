"""Alert events written straight into the outbox, for the delivery and /alerts tests."""

from __future__ import annotations

import sqlalchemy as sa

from alerts import outbox
from storage.schema import alert_events


def quiet(engine) -> None:
    """A worker serves every org's due events: other tests' leftovers are put out of its way."""
    with engine.begin() as c:
        c.execute(sa.update(alert_events).where(alert_events.c.status == "pending").values(status="failed"))


def fire_event(
    engine, org_id, url, clock, type_="budget_threshold", key="0.5", can_sign=True, threshold=0.5, **figures
) -> str:
    """One pending event of org_id for `url` (its payload as the evaluator writes it); its id."""
    eid = outbox.new_id()
    body = outbox.payload(eid, org_id, type_, clock(), "2026-11", budget=100, threshold=threshold, **figures)
    with engine.begin() as c:
        assert outbox.fire(
            c,
            event_id=eid,
            org_id=org_id,
            type_=type_,
            month="2026-11",
            dedup_key=key,
            created_at=clock(),
            body=body,
            webhook_url=url,
            can_sign=can_sign,
        )
    return eid
