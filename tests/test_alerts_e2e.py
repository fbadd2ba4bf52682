"""Alerts end to end, on real rows: two evaluator processes racing, the served app's leader loop
delivering to a real receiver, and (once merged with them) the real queries.budget / queries.anomalies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.api import log
from support.db import insert_logs
from support.webhook import Receiver, set_budget, verify

from alerts import outbox
from alerts.evaluate import Evaluator
from storage.engine import make_engine, migrate

ROOT = Path(__file__).resolve().parents[1]
URL = "https://hooks.example.com/ai"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET = "whsec-e2e-" + "z" * 20

RACER = """
import sys, time
from datetime import UTC, datetime
from queries import budget as budget_q
from alerts.evaluate import Evaluator, Sources
from storage.engine import make_engine
import os
url, org, go, now = sys.argv[1], sys.argv[2], sys.argv[3], datetime.fromisoformat(sys.argv[4])
ev = Evaluator(make_engine(url), can_sign=True, sources=Sources(budget_q.load_settings, budget_q.month_status, None))
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
fired = []
for _ in range(15):
    fired += ev.evaluate_org(org, now, force=True)
print(len(fired))
"""


def events(engine, org_id):
    with engine.connect() as c:
        return outbox.events(c, org_id, limit=500)


def daily(org_id, days, cost, agent=None, end=NOW):
    """One row per day for `days` days before end's date, at 10:00 UTC."""
    first = end.replace(hour=10, minute=0) - timedelta(days=days)
    return [log(org_id, first + timedelta(days=i), agent=agent, inp=100, cost=str(cost(i))) for i in range(days)]


def test_two_evaluator_processes_fire_each_alert_once(engine, org_id, tmp_path):
    """Real processes, real rows (month-to-date from the logs), the same thresholds: one event per key."""
    set_budget(engine, org_id, "100", (0.1, 0.2, 0.3, 0.5, 0.8, 1.0), URL)
    insert_logs(engine, [log(org_id, NOW - timedelta(hours=h), inp=10, cost="9.5") for h in range(1, 7)])  # 57 USD
    url = engine.url.render_as_string(hide_password=False)
    go = tmp_path / "go"  # both import and connect first, then go at once
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, url, org_id, str(go), NOW.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    assert [p.stdout.readline().strip() for p in procs] == ["ready", "ready"]
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    got = events(engine, org_id)
    assert sorted(e.dedup_key for e in got) == ["0.1", "0.2", "0.3", "0.5"]  # 57 ≥ 50, < 80
    assert sum(int(o[0].strip()) for o in outs) == 4  # each fired by exactly one of the two
    assert {e.body["monthToDateUsd"] for e in got} == {57.0}


def test_served_app_delivers_a_threshold_alert_to_a_real_receiver(tmp_path, monkeypatch, org_id):
    """app.start_up's leader loop: rows cross the threshold → signed webhook received (seconds)."""
    from alerts import jobs
    from app import create_app, start_up
    from storage.settings import Settings

    monkeypatch.setattr(jobs, "EVERY_S", 0.5)
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    eng = make_engine(url)
    migrate(eng)
    with Receiver() as rx:
        set_budget(eng, org_id, "10", (0.5, 1.0), rx.url)
        settings = Settings(
            database_url=url,
            secret="served-secret-0123456789-abcdefghij",
            webhook_secret=SECRET,
            webhook_allow_hosts="127.0.0.1",
            refresh_seconds=0.5,
        )
        app = create_app(settings)
        start_up(app)
        loop = app.server.extensions["ai_usage_leader"]
        try:
            assert "alerts" in [j.name for j in loop.jobs]
            now = datetime.now(UTC)
            at = max(now - timedelta(minutes=1), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
            t0 = time.monotonic()
            insert_logs(eng, [log(org_id, at, inp=10, cost="6")])
            (req,) = rx.wait(1, timeout=60)
            latency = time.monotonic() - t0
        finally:
            loop.stop()
    assert verify(SECRET, req.headers["X-AI-Usage-Signature"], req.body)
    body = req.json
    assert (body["type"], body["threshold"], body["monthToDateUsd"], body["orgId"]) == (
        "budget_threshold",
        0.5,
        6.0,
        org_id,
    )
    assert latency < 60
    (e,) = events(eng, org_id)
    assert e.status == "delivered"
    eng.dispose()


def test_real_budget_module_end_to_end(engine, org_id):
    """After the merge: the real queries.budget reads the org_budgets row and the rows' month status."""
    from queries import budget

    set_budget(engine, org_id, "300", (0.5, 0.8), URL)
    cost = [9 + (i % 3) for i in range(19)]
    insert_logs(engine, daily(org_id, 19, lambda i: cost[i]))  # 1–19 Nov: 189 USD
    ev = Evaluator(engine, can_sign=True)  # the default sources: the real modules
    assert ev.sources.load_settings is budget.load_settings
    ev.evaluate_org(org_id, NOW, force=True)
    with engine.connect() as c:
        settings = budget.load_settings(c, org_id)
        status = budget.month_status(c, org_id, settings.timezone, NOW, settings.monthly_budget_usd)
    assert status.month_to_date_usd == pytest.approx(sum(cost))
    got = {(e.type, e.dedup_key): e for e in events(engine, org_id)}
    assert ("budget_threshold", "0.5") in got and ("budget_threshold", "0.8") not in got
    assert got[("budget_threshold", "0.5")].body["monthToDateUsd"] == pytest.approx(sum(cost))
    assert got[("budget_threshold", "0.5")].body["monthlyBudgetUsd"] == 300.0
    overrun = status.probability_over_budget is not None and status.probability_over_budget >= 0.8
    assert (("projected_overrun", "0.8") in got) == overrun
    insert_logs(engine, [log(org_id, NOW - timedelta(hours=1), inp=1, cost="60")])  # 250 ≥ 0.8 × 300
    ev.evaluate_org(org_id, NOW, force=True)
    ev.evaluate_org(org_id, NOW, force=True)
    keys = sorted(e.dedup_key for e in events(engine, org_id) if e.type == "budget_threshold")
    assert keys == ["0.5", "0.8"]


def test_real_anomaly_module_end_to_end(engine, org_id):
    """After the merge: yesterday's 10× spike by one agent fires one anomaly alert naming that agent."""
    set_budget(engine, org_id, "100000", (1.0,), URL)
    spike = f"{org_id}-spike"
    rows = daily(org_id, 89, lambda i: 10 + (i % 4), agent=f"{org_id}-steady", end=NOW - timedelta(days=1))
    rows += [log(org_id, NOW.replace(hour=10) - timedelta(days=1), agent=spike, inp=100, cost="120")]
    insert_logs(engine, rows)
    ev = Evaluator(engine, can_sign=True)
    ev.evaluate_org(org_id, NOW, force=True)
    ev.evaluate_org(org_id, NOW, force=True)
    got = [e for e in events(engine, org_id) if e.type == "anomaly"]
    assert len(got) == 1 and got[0].dedup_key == "2026-11-19" and got[0].month == "2026-11"
    a = got[0].body["anomaly"]
    assert a["date"] == "2026-11-19" and a["direction"] == "up" and a["costUsd"] > a["expectedUsd"]
    assert a["contributors"] and a["contributors"][0]["id"] == spike
