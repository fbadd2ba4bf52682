"""Alert evaluation: which alerts fire, exactly once, with only their org's data (both engines).

The month status and anomalies are fakes here (alerts.evaluate.Sources); the settings are
read from org_budgets rows. test_alerts_e2e.py runs the real queries.budget/anomalies.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from support.webhook import set_budget

from alerts import outbox
from alerts.evaluate import Evaluator, Sources
from queries import budget as budget_q
from storage.engine import make_engine
from storage.schema import alert_events

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
URL = "https://hooks.example.com/ai"


@dataclass
class Contributor:
    kind: str
    id: str | None
    delta_usd: float


@dataclass
class Anomaly:
    date: date
    cost_usd: float
    expected_usd: float
    score: float
    direction: str
    contributors: tuple


class Fakes:
    """Month status and anomalies per org, as the test sets them."""

    def __init__(self):
        self.mtd: dict[str, float] = {}
        self.prob: dict[str, float | None] = {}
        self.found: dict[str, list[Anomaly]] = {}

    def month_status(self, conn, org_id, tz, now, budget):
        local = now.astimezone(__import__("zoneinfo").ZoneInfo(tz)).date()
        return budget_q.MonthStatus(
            local.replace(day=1),
            local.replace(day=30),
            self.mtd.get(org_id, 0.0),
            self.mtd.get(org_id, 0.0) * 1.5,
            None,
            None,
            self.prob.get(org_id),
            "ok",
        )

    def anomalies(self, conn, f):
        return [a for a in self.found.get(f.org_id, []) if f.start_date <= a.date <= f.end_date]

    def sources(self) -> Sources:
        return Sources(budget_q.load_settings, self.month_status, self.anomalies)


def rows(engine, org_id):
    with engine.connect() as c:
        return c.execute(
            sa.select(alert_events).where(alert_events.c.org_id == org_id).order_by(alert_events.c.dedup_key)
        ).all()


def test_thresholds_fire_once_each_as_the_month_crosses_them(engine, org_id):
    set_budget(engine, org_id, "100", (0.5, 0.8, 1.0), URL)
    fakes = Fakes()
    ev = Evaluator(engine, can_sign=True, sources=fakes.sources())
    fakes.mtd[org_id] = 49.99
    assert ev.evaluate_org(org_id, NOW, force=True) == []
    fakes.mtd[org_id] = 80.0  # exactly 0.8 × 100: crossed
    assert len(ev.evaluate_org(org_id, NOW, force=True)) == 2
    assert [r.dedup_key for r in rows(engine, org_id)] == ["0.5", "0.8"]
    assert ev.evaluate_org(org_id, NOW, force=True) == []  # again: nothing new
    fakes.mtd[org_id] = 100.01
    assert len(ev.evaluate_org(org_id, NOW, force=True)) == 1
    got = rows(engine, org_id)
    assert [(r.type, r.month, r.dedup_key, r.status) for r in got] == [
        ("budget_threshold", "2026-11", k, "pending") for k in ("0.5", "0.8", "1.0")
    ]
    body = json.loads(got[2].payload)
    assert list(body) == list(outbox.PAYLOAD_KEYS)
    assert body["id"] == got[2].id and body["orgId"] == org_id and body["type"] == "budget_threshold"
    assert (body["month"], body["monthlyBudgetUsd"], body["monthToDateUsd"], body["threshold"]) == (
        "2026-11",
        100.0,
        100.01,
        1.0,
    )
    assert body["anomaly"] is None and body["probabilityOverBudget"] is None
    # A new local month fires again (the key holds the month).
    fakes.mtd[org_id] = 60.0
    assert len(ev.evaluate_org(org_id, datetime(2026, 12, 1, 0, 30, tzinfo=UTC), force=True)) == 1


def test_month_is_local_to_the_budget_timezone(engine, org_id):
    set_budget(engine, org_id, "10", (1.0,), URL, tz="America/New_York")
    fakes = Fakes()
    fakes.mtd[org_id] = 11
    ev = Evaluator(engine, can_sign=True, sources=fakes.sources())
    ev.evaluate_org(org_id, datetime(2026, 12, 1, 3, 0, tzinfo=UTC), force=True)  # still 30 Nov in New York
    assert [r.month for r in rows(engine, org_id)] == ["2026-11"]


def test_projected_overrun_and_anomaly_fire_once(engine, org_id):
    set_budget(engine, org_id, "100", (5.0,), URL)
    fakes = Fakes()
    fakes.mtd[org_id], fakes.prob[org_id] = 10.0, 0.79
    yesterday = date(2026, 11, 19)
    fakes.found[org_id] = [
        Anomaly(date(2026, 11, 10), 9, 1, 6.0, "up", ()),  # not yesterday: no alert
        Anomaly(yesterday, 42.5, 10.0, 7.25, "up", (Contributor("agent", "<b>a1</b>", 30.0),)),
    ]
    ev = Evaluator(engine, can_sign=True, sources=fakes.sources())
    ev.evaluate_org(org_id, NOW, force=True)
    assert [r.type for r in rows(engine, org_id)] == ["anomaly"]
    fakes.prob[org_id] = 0.8
    ev.evaluate_org(org_id, NOW, force=True)
    ev.evaluate_org(org_id, NOW, force=True)
    got = {r.type: r for r in rows(engine, org_id)}
    assert sorted(got) == ["anomaly", "projected_overrun"]
    assert got["anomaly"].dedup_key == "2026-11-19" and got["anomaly"].month == "2026-11"
    a = json.loads(got["anomaly"].payload)["anomaly"]
    assert a == {
        "date": "2026-11-19",
        "costUsd": 42.5,
        "expectedUsd": 10.0,
        "score": 7.25,
        "direction": "up",
        "contributors": [{"kind": "agent", "id": "<b>a1</b>", "deltaUsd": 30.0}],
    }
    assert json.loads(got["projected_overrun"].payload)["probabilityOverBudget"] == 0.8


def test_orgs_without_settings_or_budget(engine, org_id):
    fakes = Fakes()
    fakes.mtd[org_id] = 1e9
    ev = Evaluator(engine, can_sign=True, sources=fakes.sources())
    assert ev.evaluate_org(org_id, NOW, force=True) == []  # no org_budgets row: never evaluated
    set_budget(engine, org_id, None, (0.5,), URL)
    assert ev.evaluate_org(org_id, NOW, force=True) == []  # settings but no budget: no threshold alert


def test_payload_carries_only_its_own_org(engine, org_id):
    other = org_id + "-other"
    set_budget(engine, org_id, "100", (0.5,), URL)
    set_budget(engine, other, "7", (0.5,), "https://other.example.com/h")
    fakes = Fakes()
    fakes.mtd.update({org_id: 60.0, other: 5.0})
    ev = Evaluator(engine, can_sign=True, sources=fakes.sources())
    for org in (org_id, other):
        ev.evaluate_org(org, NOW, force=True)
    (mine,), (theirs,) = rows(engine, org_id), rows(engine, other)
    assert (json.loads(mine.payload)["orgId"], json.loads(mine.payload)["monthlyBudgetUsd"]) == (org_id, 100.0)
    assert mine.webhook_url == URL and other not in mine.payload and "other.example" not in mine.payload
    assert (json.loads(theirs.payload)["orgId"], json.loads(theirs.payload)["monthToDateUsd"]) == (other, 5.0)


def test_without_a_secret_or_url_events_are_recorded_undeliverable_with_the_reason(engine, org_id):
    set_budget(engine, org_id, "100", (0.5,), URL)
    fakes = Fakes()
    fakes.mtd[org_id] = 99
    Evaluator(engine, can_sign=False, sources=fakes.sources()).evaluate_org(org_id, NOW, force=True)
    set_budget(engine, org_id + "-2", "100", (0.5,), None)
    fakes.mtd[org_id + "-2"] = 99
    Evaluator(engine, can_sign=True, sources=fakes.sources()).evaluate_org(org_id + "-2", NOW, force=True)
    with engine.connect() as c:
        for org, why in ((org_id, "AI_USAGE_WEBHOOK_SECRET"), (org_id + "-2", "no webhook URL")):
            (e,) = outbox.events(c, org)
            assert e.status == "undeliverable" and e.next_attempt_at is None
            assert len(e.deliveries) == 1 and why in e.deliveries[0].error


def _race(engine_url, org_id, fakes, n_threads=4, rounds=5):
    """n evaluators, each with its own engine (its own connections), released together."""
    engines = [make_engine(engine_url) for _ in range(n_threads)]
    barrier = threading.Barrier(n_threads)
    fired: list[str] = []
    errors: list[BaseException] = []

    def run(eng):
        ev = Evaluator(eng, can_sign=True, sources=fakes.sources())
        try:
            for _ in range(rounds):
                barrier.wait(10)
                fired.extend(ev.evaluate_org(org_id, NOW, force=True))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert not errors, errors
    return fired


def test_racing_evaluators_fire_each_alert_exactly_once(engine, org_id):
    set_budget(engine, org_id, "100", (0.25, 0.5, 0.75, 1.0), URL)
    fakes = Fakes()
    fakes.mtd[org_id], fakes.prob[org_id] = 150.0, 0.95
    fakes.found[org_id] = [Anomaly(date(2026, 11, 19), 5, 1, 5, "up", ())]
    url = engine.url.render_as_string(hide_password=False)
    fired = _race(url, org_id, fakes)
    got = rows(engine, org_id)
    assert len(got) == 6 and len({(r.type, r.month, r.dedup_key) for r in got}) == 6
    assert sorted(fired) == sorted(r.id for r in got)  # each event reported fired by exactly one evaluator


def test_unchanged_data_is_not_re_evaluated_but_new_settings_are(engine, org_id, monkeypatch):
    from alerts import evaluate

    set_budget(engine, org_id, "100", (0.5,), URL)
    fakes = Fakes()
    calls = []
    fakes_sources = fakes.sources()
    counted = Sources(
        fakes_sources.load_settings,
        lambda *a: calls.append(1) or fakes.month_status(*a),
        fakes_sources.anomalies,
    )
    monkeypatch.setattr(evaluate, "data_stamp", lambda conn, org: "stamp-1")
    ev = Evaluator(engine, can_sign=True, sources=counted)
    ev.evaluate_org(org_id, NOW)
    ev.evaluate_org(org_id, NOW)
    assert len(calls) == 1  # same stamp, settings and day: skipped
    set_budget(engine, org_id, "50", (0.5,), URL)
    ev.evaluate_org(org_id, NOW)
    assert len(calls) == 2
    monkeypatch.setattr(evaluate, "data_stamp", lambda conn, org: "stamp-2")
    ev.evaluate_org(org_id, NOW)
    assert len(calls) == 3


def test_threshold_compare_is_exact_in_decimal(engine, org_id):
    # 0.1 + 0.2 style float error must not decide a crossing: 0.3 × 10 = 3 exactly.
    set_budget(engine, org_id, "10", (0.3,), URL)
    fakes = Fakes()
    fakes.mtd[org_id] = float(Decimal("2.99999999"))
    ev = Evaluator(engine, can_sign=True, sources=fakes.sources())
    assert ev.evaluate_org(org_id, NOW, force=True) == []
    fakes.mtd[org_id] = 3.0
    assert len(ev.evaluate_org(org_id, NOW, force=True)) == 1


@pytest.mark.parametrize("bad", ["not json", "[]"])
def test_an_unreadable_payload_lists_as_empty(engine, org_id, bad):
    with engine.begin() as c:
        c.execute(
            sa.insert(alert_events).values(
                id=f"{org_id}-x",
                org_id=org_id,
                type="test",
                month="2026-11",
                dedup_key="k",
                created_at=NOW,
                payload=bad,
                status="failed",
                attempts=0,
            )
        )
        (e,) = outbox.events(c, org_id)
    assert e.body == {}
