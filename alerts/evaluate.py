"""Alert evaluation (contract §3.4): which alerts fire now, once each, whichever process evaluates.

Run by the leader (app.start_up, alerts.jobs.schedule: every jobs.EVERY_S seconds), and safe
when run anywhere else at the same time: firing is an insert on the outbox's unique key
(alerts.outbox.fire), so two evaluators racing on the same data fire each alert once.

For each org with settings (a row of org_budgets; orgs without are never read):
- `budget_threshold`: month-to-date cost ≥ threshold × monthly budget, once per threshold
  and local month (the month of the org's timezone);
- `projected_overrun`: probabilityOverBudget ≥ 0.8, once per month;
- `anomaly`: an anomaly of yesterday (local), once per date.

Cheap by construction: an org is re-evaluated only when its data stamp (the rollups'
version and its live tail, queries.freshness.data_stamp), its settings or its local date
changed, or RECHECK_S passed (the projection moves with the clock); month status is read
from the rollups. The anomaly detector (90 days of daily costs) runs at most every
ANOMALY_EVERY_S per org, which keeps an anomaly within the 60 s promise.

The month status and the anomalies come from queries.budget and queries.anomalies, taken
as injectable callables (Sources) so that tests can pass fakes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from queries.filters import Filters
from queries.freshness import data_stamp
from storage.schema import org_budgets

from . import outbox

log = logging.getLogger("ai_usage.alerts")

RECHECK_S = 300.0  # an org whose data did not move is still re-evaluated this often (the clock moves the projection)
ANOMALY_EVERY_S = 50.0
ANOMALY_DAYS = 90  # the detector's window, ending yesterday
OVERRUN_PROBABILITY = 0.8

BUDGET_THRESHOLD, PROJECTED_OVERRUN, ANOMALY = "budget_threshold", "projected_overrun", "anomaly"


@dataclass(frozen=True)
class Sources:
    """Where settings, month status and anomalies come from (queries.budget / queries.anomalies)."""

    load_settings: Callable[[sa.Connection, str], Any]
    month_status: Callable[[sa.Connection, str, str, datetime, Decimal | None], Any]
    anomalies: Callable[[sa.Connection, Filters], list[Any]] | None


def default_sources() -> Sources:
    """The real budget and anomaly queries."""
    from queries import anomalies, budget

    return Sources(budget.load_settings, budget.month_status, anomalies.anomalies)


def org_ids(conn: sa.Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute(sa.select(org_budgets.c.org_id).order_by(org_budgets.c.org_id))]


def anomaly_json(a: Any) -> dict[str, Any]:
    """An anomaly (queries.anomalies.Anomaly) as the payload's `anomaly` (the API's field names)."""
    return {
        "date": str(a.date)[:10],
        "costUsd": float(a.cost_usd),
        "expectedUsd": float(a.expected_usd),
        "score": float(a.score),
        "direction": str(a.direction),
        "contributors": [
            {"kind": str(c.kind), "id": None if c.id is None else str(c.id), "deltaUsd": float(c.delta_usd)}
            for c in a.contributors
        ],
    }


def _float(x: Any) -> float | None:
    return None if x is None else float(x)


class Evaluator:
    """One evaluator per process; call it (or run()) each round. Returns nothing the loop needs."""

    def __init__(
        self,
        engine: sa.Engine,
        can_sign: bool,
        sources: Sources | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.engine, self.can_sign = engine, can_sign
        self._sources = sources
        self.clock = clock or (lambda: datetime.now(UTC))
        self._seen: dict[str, tuple[Any, float]] = {}  # org -> (what it was evaluated on, when)
        self._anomaly_at: dict[str, tuple[date, float]] = {}

    @property
    def sources(self) -> Sources:
        if self._sources is None:
            self._sources = default_sources()
        return self._sources

    def __call__(self) -> None:
        self.run()

    def run(self, now: datetime | None = None) -> list[str]:
        """Evaluate every org with settings; the ids of the events fired by this call."""
        now = now or self.clock()
        with self.engine.connect() as conn:
            orgs = org_ids(conn)
        fired: list[str] = []
        for org in orgs:
            try:
                fired += self.evaluate_org(org, now)
            except Exception:  # one org's failure (bad settings, a query) never stops the others
                log.exception("alerts: evaluating org %r failed", org)
        return fired

    def evaluate_org(self, org_id: str, now: datetime, force: bool = False) -> list[str]:
        src = self.sources
        with self.engine.connect() as conn:
            settings = src.load_settings(conn, org_id)
            if settings is None:
                return []
            today = now.astimezone(ZoneInfo(settings.timezone)).date()
            key = (repr(settings), data_stamp(conn, org_id), today)
            seen = self._seen.get(org_id)
            clock = time.monotonic()
            if not force and key[1] is not None and seen and seen[0] == key and clock - seen[1] < RECHECK_S:
                return []
            status = src.month_status(conn, org_id, settings.timezone, now, settings.monthly_budget_usd)
            conn.rollback()
            fired = self._budget_alerts(conn, org_id, settings, status, now)
            last = self._anomaly_at.get(org_id)
            if src.anomalies is not None and (
                force or not last or last[0] != today or clock - last[1] >= ANOMALY_EVERY_S
            ):
                fired += self._anomaly_alerts(conn, org_id, settings, status, now, today)
                self._anomaly_at[org_id] = (today, clock)
        self._seen[org_id] = (key, clock)
        return fired

    def _budget_alerts(self, conn: sa.Connection, org_id: str, settings: Any, status: Any, now: datetime) -> list[str]:
        budget = settings.monthly_budget_usd
        if budget is None or Decimal(budget) <= 0:
            return []
        fired: list[str] = []
        mtd = Decimal(repr(float(status.month_to_date_usd)))
        for t in sorted(set(settings.thresholds)):
            if mtd >= Decimal(repr(float(t))) * Decimal(budget):
                fired += self._fire(conn, org_id, BUDGET_THRESHOLD, settings, status, now, str(float(t)), threshold=t)
        p = status.probability_over_budget
        if p is not None and float(p) >= OVERRUN_PROBABILITY:
            fired += self._fire(conn, org_id, PROJECTED_OVERRUN, settings, status, now, str(OVERRUN_PROBABILITY))
        return fired

    def _anomaly_alerts(
        self, conn: sa.Connection, org_id: str, settings: Any, status: Any, now: datetime, today: date
    ) -> list[str]:
        assert self.sources.anomalies is not None
        yesterday = today - timedelta(days=1)
        f = Filters(
            org_id=org_id,
            timezone=settings.timezone,
            start_date=yesterday - timedelta(days=ANOMALY_DAYS - 1),
            end_date=yesterday,
            now=now,
        )
        found = [a for a in self.sources.anomalies(conn, f) if str(a.date)[:10] == yesterday.isoformat()]
        conn.rollback()
        fired: list[str] = []
        for a in found[:1]:  # one anomaly per date
            month = yesterday.strftime("%Y-%m")
            fired += self._fire(
                conn,
                org_id,
                ANOMALY,
                settings,
                status,
                now,
                yesterday.isoformat(),
                anomaly=anomaly_json(a),
                month=month,
            )
        return fired

    def _fire(
        self,
        conn: sa.Connection,
        org_id: str,
        type_: str,
        settings: Any,
        status: Any,
        now: datetime,
        dedup_key: str,
        threshold: float | None = None,
        anomaly: dict[str, Any] | None = None,
        month: str | None = None,
    ) -> list[str]:
        event_id = outbox.new_id()
        month = month or status.month_start.strftime("%Y-%m")
        body = event_body(event_id, org_id, type_, now, month, settings, status, threshold, anomaly)
        fired = outbox.fire(
            conn,
            event_id=event_id,
            org_id=org_id,
            type_=type_,
            month=month,
            dedup_key=dedup_key,
            created_at=now,
            body=body,
            webhook_url=settings.webhook_url,
            can_sign=self.can_sign,
        )
        conn.commit()
        if fired:
            log.info("alerts: %s fired for org %r (%s %s), event %s", type_, org_id, month, dedup_key, event_id)
        return [event_id] if fired else []


def event_body(
    event_id: str,
    org_id: str,
    type_: str,
    now: datetime,
    month: str,
    settings: Any,
    status: Any,
    threshold: float | None = None,
    anomaly: dict[str, Any] | None = None,
) -> bytes:
    """The payload of one org's event: its settings and month status only."""
    return outbox.payload(
        event_id,
        org_id,
        type_,
        now,
        month,
        budget=settings.monthly_budget_usd,
        month_to_date=None if status is None else _float(status.month_to_date_usd),
        projected=None if status is None else _float(status.projected_total_usd),
        probability=None if status is None else _float(status.probability_over_budget),
        threshold=threshold,
        anomaly=anomaly,
    )
