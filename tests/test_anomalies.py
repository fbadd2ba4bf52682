"""GET /ai/org-usage/anomalies on synthetic series with known answers, on SQLite and PostgreSQL.

The contributors are compared with an independent pandas computation of the contract's
definition (tests/support/reference_anomalies.py); the detector's own quality is measured by
`make bench-anomalies` (docs/anomalies.md), not here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.api import BASE, auth, check, log
from support.db import insert_logs
from support.reference_anomalies import contributors as reference_contributors, daily_costs

CLOCK_AT = datetime(2026, 11, 20, 15, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.at = CLOCK_AT

    def __call__(self):
        return self.at


CLOCK = Clock()
# agent, share of the day, model, action: a row each per day
SERIES = (("ag-a", 0.5, "model-a", "user_interaction"), ("ag-b", 0.3, "model-b", "rag_query_embedding"))
NO_AGENT = (None, 0.2, "model-c", "document_indexing")
WEEK = (1.0, 1.1, 1.05, 1.0, 0.9, 0.35, 0.25)  # Monday … Sunday


@pytest.fixture(scope="module")
def app(engine):
    from support.api import make_app

    return make_app(engine, clock=CLOCK)


@pytest.fixture(autouse=True)
def _clock():
    CLOCK.at = CLOCK_AT
    yield
    CLOCK.at = CLOCK_AT


def rows(org, tz, first: date, last: date, *, bumps=None, at=time(12), level=100.0):
    """One row per series per local day at local time `at`; bumps: {day: {agent: factor}}."""
    zone, bumps, out = ZoneInfo(tz), bumps or {}, []
    d = first
    while d <= last:
        noise = 1 + 0.04 * ((d.toordinal() * 7919) % 11 - 5) / 5  # ±4 %, deterministic
        for agent, share, model, action in (*SERIES, NO_AGENT):
            factor = bumps.get(d, {}).get(agent, 1.0)
            if factor == 0:  # the series has no rows that day
                continue
            cost = level * WEEK[d.weekday()] * share * noise * factor
            when = datetime.combine(d, at, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
            out.append(log(org, when, agent=agent, model=model, action=action, cost=f"{cost:.8f}"))
        d += timedelta(days=1)
    return out


def get(client, org, **params):
    return client.get(f"{BASE}/anomalies", query_string=params, headers=auth(org))


def test_a_spike_is_found_with_its_contributors(client, engine, org_id):
    spike = date(2026, 11, 11)  # a Wednesday
    data = rows(org_id, "UTC", date(2026, 8, 1), date(2026, 11, 19), bumps={spike: {"ag-b": 8.0}})
    insert_logs(engine, data)
    body = check(get(client, org_id, **{"from": "2026-10-21", "to": "2026-11-19"}), "anomalies")
    assert [a["date"] for a in body["anomalies"]] == ["2026-11-11"]
    a = body["anomalies"][0]
    assert a["direction"] == "up" and a["score"] >= 3.5
    daily = daily_costs(data, "UTC")
    assert a["costUsd"] == pytest.approx(daily[spike], abs=1e-6)
    assert a["expectedUsd"] == pytest.approx(100 * WEEK[2], rel=0.1)
    assert a["contributors"][0] == {"kind": "agent", "id": "ag-b", "deltaUsd": pytest.approx(0.3 * 105 * 7, rel=0.1)}
    assert a["contributors"] == reference_contributors(data, "UTC", spike, "up")


def test_a_drop_and_rows_without_agent(client, engine, org_id):
    drop = date(2026, 11, 16)  # a Monday: the unassigned rows vanish, the others halve
    data = rows(
        org_id, "UTC", date(2026, 8, 1), date(2026, 11, 19), bumps={drop: {None: 0.0, "ag-a": 0.5, "ag-b": 0.5}}
    )
    insert_logs(engine, data)
    body = check(get(client, org_id, **{"from": "2026-11-01", "to": "2026-11-19"}), "anomalies")
    assert [(a["date"], a["direction"]) for a in body["anomalies"]] == [("2026-11-16", "down")]
    c = body["anomalies"][0]["contributors"]
    assert c == reference_contributors(data, "UTC", drop, "down")
    assert all(x["deltaUsd"] < 0 for x in c) and len(c) == 5
    assert {"kind": "agent", "id": None, "deltaUsd": pytest.approx(-20.0, rel=0.1)} in c


def test_a_day_of_credits_in_the_history_still_lets_a_spike_be_judged():
    """A negative day (credits: rows with a negative cost) used to make the fit NaN, and
    with it every verdict: the spike after it went unseen."""
    import numpy as np

    from queries.anomaly_model import THRESHOLD, judge

    days = 57
    dows = np.array([d % 7 for d in range(days)], dtype=np.int64)
    costs = np.array([100.0 * WEEK[d % 7] for d in range(days)])
    costs[40] = -50.0
    costs[-1] = 600.0
    with np.errstate(invalid="raise"):
        verdict = judge(costs, dows, days - 1)
    assert verdict is not None and np.isfinite(verdict.score) and verdict.score > THRESHOLD


def test_a_clean_series_gives_none(client, engine, org_id):
    insert_logs(engine, rows(org_id, "Europe/Madrid", date(2026, 6, 1), date(2026, 11, 20)))
    body = check(
        get(client, org_id, **{"from": "2026-08-23", "to": "2026-11-19", "timezone": "Europe/Madrid"}), "anomalies"
    )
    assert body == {"anomalies": [], "filters": {}}


def test_short_history_gives_none(client, engine, org_id):
    data = rows(org_id, "UTC", date(2026, 11, 1), date(2026, 11, 19), bumps={date(2026, 11, 17): {"ag-a": 10.0}})
    insert_logs(engine, data)
    assert check(get(client, org_id, preset="30d"), "anomalies") == {"anomalies": [], "filters": {}}


@pytest.mark.parametrize(
    ("tz", "spike", "at"),
    [
        ("Asia/Kathmandu", date(2026, 11, 12), time(0, 10)),  # +05:45: 18:25 UTC of the day before
        ("America/New_York", date(2026, 11, 1), time(23, 50)),  # the 25-hour day: 04:50 UTC of the 2nd
        ("Europe/Madrid", date(2026, 10, 25), time(0, 5)),  # the 25-hour day: 22:05 UTC of the 24th
    ],
)
def test_local_day_boundaries(client, engine, org_id, tz, spike, at):
    data = rows(org_id, tz, date(2026, 8, 1), date(2026, 11, 19), at=at, bumps={spike: {"ag-a": 6.0}})
    insert_logs(engine, data)
    body = check(get(client, org_id, **{"from": "2026-10-20", "to": "2026-11-19", "timezone": tz}), "anomalies")
    assert [a["date"] for a in body["anomalies"]] == [spike.isoformat()]
    a = body["anomalies"][0]
    assert a["costUsd"] == pytest.approx(daily_costs(data, tz)[spike], abs=1e-6)
    assert a["contributors"] == reference_contributors(data, tz, spike, "up")
    # The same rows judged in UTC put the spike on another day (up to the 18th: in UTC the last
    # local day's rows of Kathmandu and Madrid fall on the 18th, so the 19th has none).
    utc_body = check(get(client, org_id, **{"from": "2026-10-20", "to": "2026-11-18"}), "anomalies")
    utc_day = datetime.combine(spike, at, tzinfo=ZoneInfo(tz)).astimezone(UTC).date()
    assert [a["date"] for a in utc_body["anomalies"]] == [utc_day.isoformat()]


def test_newest_first_and_up_to_yesterday(client, engine, org_id):
    bumps = {date(2026, 11, 5): {"ag-a": 6.0}, date(2026, 11, 13): {"ag-b": 9.0}, date(2026, 11, 20): {"ag-a": 9.0}}
    data = rows(org_id, "UTC", date(2026, 8, 1), date(2026, 11, 20), at=time(9), bumps=bumps)
    insert_logs(engine, data)
    # the window runs past today (20 November, 15:00 UTC): today's spike is not judged
    body = check(get(client, org_id, **{"from": "2026-11-01", "to": "2026-11-30"}), "anomalies")
    assert [a["date"] for a in body["anomalies"]] == ["2026-11-13", "2026-11-05"]
    assert [a["contributors"][0]["id"] for a in body["anomalies"]] == ["ag-b", "ag-a"]
    CLOCK.at = datetime(2026, 11, 21, 1, tzinfo=UTC)  # a day later: the 20th is yesterday
    body = check(get(client, org_id, **{"from": "2026-11-01", "to": "2026-11-30"}), "anomalies")
    assert [a["date"] for a in body["anomalies"]] == ["2026-11-20", "2026-11-13", "2026-11-05"]
    # the window's days only, though history before it is read
    body = check(get(client, org_id, **{"from": "2026-11-06", "to": "2026-11-12"}), "anomalies")
    assert body == {"anomalies": [], "filters": {}}


def test_source_narrows_the_series(client, engine, org_id):
    data = rows(org_id, "UTC", date(2026, 8, 1), date(2026, 11, 19), bumps={date(2026, 11, 11): {"ag-b": 8.0}})
    insert_logs(engine, data)
    assert check(get(client, org_id, preset="30d", source="byok"), "anomalies") == {"anomalies": [], "filters": {}}
    assert len(check(get(client, org_id, preset="30d", source="system"), "anomalies")["anomalies"]) == 1


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"from": "2026-11-10", "to": "2026-11-01"}, "from"),
        ({"from": "2026-11-10"}, "to"),
        ({"from": "2026-13-01", "to": "2026-12-01"}, "from"),
        ({"source": "nobody"}, "source"),
        ({"preset": "1y"}, "preset"),
    ],
)
def test_bad_input_is_a_400(client, org_id, params, parameter):
    body = check(get(client, org_id, **params), "anomalies", 400)
    assert body["error"]["parameter"] == parameter


def test_needs_a_token(client):
    resp = client.get(f"{BASE}/anomalies")
    assert resp.status_code == 401
