"""GET/PUT /ai/org-usage/budget (contract §3.4): read, write, policy, validation, history, and the
probability of overrun against an independent computation (numpy OLS + scipy.stats.t), on both engines."""

from __future__ import annotations

import calendar
import itertools
import json
from datetime import date, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from scipy import stats
from support.api import BASE, auth, log, utc
from support.db import insert_logs

from queries import budget as qbudget
from queries.filters import parse_filters
from queries.projection import projection
from storage.schema import budget_changes, org_budgets

READ = ("ai.agent:read",)
WRITE = ("ai.agent:read", "ai.agent:write")
NOW = utc(2026, 11, 20, 15)  # 15:00 UTC on the 20th: 5/8 of today still to come
URL = f"{BASE}/budget"


class Clock:
    def __init__(self):
        self.at = NOW

    def __call__(self):
        return self.at


CLOCK = Clock()


@pytest.fixture(scope="module")
def app(engine):
    from support.api import make_app

    return make_app(engine, clock=CLOCK, webhook_allow_hosts="127.0.0.1")


@pytest.fixture(autouse=True)
def _clock():
    CLOCK.at = NOW
    yield
    CLOCK.at = NOW


def put(client, org_id, body, policies=WRITE, sub="ana@example.com", raw=None):
    data = raw if raw is not None else json.dumps(body)
    return client.put(URL, data=data, content_type="application/json", headers=auth(org_id, policies=policies, sub=sub))


def get(client, org_id, policies=READ, **params):
    return client.get(URL, query_string=params, headers=auth(org_id, policies=policies))


def _stored(engine, org_id):
    with engine.connect() as c:
        rows = c.execute(sa.select(org_budgets).where(org_budgets.c.org_id == org_id)).all()
        changes = c.execute(sa.select(budget_changes).where(budget_changes.c.org_id == org_id)).all()
    return [tuple(r) for r in rows], [tuple(r) for r in changes]


# ------------------------------------------------------------------ read / write / history


def test_defaults_without_a_row(client, org_id):
    resp = get(client, org_id, timezone="Europe/Madrid")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["monthlyBudgetUsd"] is None
    assert body["thresholds"] == [0.5, 0.8, 1.0]
    assert body["webhookUrl"] is None
    assert body["history"] == []
    assert body["month"]["monthStart"] == "2026-11-01" and body["month"]["monthEnd"] == "2026-11-30"
    assert body["month"]["monthToDateUsd"] == 0
    assert body["month"]["probabilityOverBudget"] is None
    assert body["month"]["status"] == "insufficient_data"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_write_then_read_and_history(client, org_id):
    resp = put(client, org_id, {"monthlyBudgetUsd": 500.25, "thresholds": [1, 0.5, 0.5, 0.9]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "monthlyBudgetUsd": 500.25,
        "thresholds": [0.5, 0.9, 1.0],
        "webhookUrl": None,
        "timezone": "UTC",
    }
    hook = "http://127.0.0.1:9/hook/secret-path"
    resp = put(client, org_id, {"monthlyBudgetUsd": 800, "webhookUrl": hook, "timezone": "Europe/Madrid"}, sub="luis")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["thresholds"] == [0.5, 0.9, 1.0]  # left out: kept
    # The same settings again: answered, no new change row.
    assert put(client, org_id, {"monthlyBudgetUsd": 800.0}, sub="luis").status_code == 200
    body = get(client, org_id, policies=WRITE).get_json()
    assert body["monthlyBudgetUsd"] == 800 and body["webhookUrl"] == hook and body["timezone"] == "Europe/Madrid"
    h = body["history"]
    assert [c["changedBy"] for c in h] == ["luis", "ana@example.com"]
    assert h[1]["from"] is None and h[1]["to"]["monthlyBudgetUsd"] == 500.25
    assert h[0]["from"]["monthlyBudgetUsd"] == 500.25 and h[0]["to"]["monthlyBudgetUsd"] == 800
    assert h[0]["to"]["webhookUrl"] == hook
    assert h[0]["changedAt"].startswith("2026-11-20T15:00:00")
    # A reader without the write policy sees the webhook's host, not its (secret) path.
    read = get(client, org_id).get_json()
    assert read["webhookUrl"] == "http://127.0.0.1:9/…"
    assert read["history"][0]["to"]["webhookUrl"] == "http://127.0.0.1:9/…"
    # null clears; thresholds null is the default again.
    resp = put(client, org_id, {"monthlyBudgetUsd": None, "webhookUrl": None, "thresholds": None})
    assert resp.get_json() == {
        "monthlyBudgetUsd": None,
        "thresholds": [0.5, 0.8, 1.0],
        "webhookUrl": None,
        "timezone": "Europe/Madrid",
    }
    assert len(get(client, org_id).get_json()["history"]) == 3


def test_exact_amount_is_stored(client, engine, org_id):
    assert put(client, org_id, {"monthlyBudgetUsd": 0.1}).status_code == 200
    with engine.connect() as c:
        assert qbudget.load_settings(c, org_id).monthly_budget_usd == qbudget.Decimal("0.1")


def test_orgs_are_apart(client, org_id):
    assert put(client, org_id, {"monthlyBudgetUsd": 10}).status_code == 200
    other = org_id + "-other"
    assert get(client, other).get_json()["monthlyBudgetUsd"] is None
    resp = client.put(
        URL,
        data='{"monthlyBudgetUsd": 1}',
        content_type="application/json",
        headers={**auth(org_id, policies=WRITE), "x-org-id": other},
    )
    assert resp.status_code == 403
    assert get(client, org_id).get_json()["monthlyBudgetUsd"] == 10


# ------------------------------------------------------------------ policy and validation


@pytest.mark.parametrize("sub", ["ana\x00@example.com", "ana\ud800"])
def test_put_by_a_sub_that_cannot_be_stored_is_401_and_changes_nothing(client, engine, org_id, sub):
    """The history stores who changed the budget: a signed sub with a NUL or a lone surrogate
    was a 500 at the INSERT (PostgreSQL) or its log line (UTF-8)."""
    assert put(client, org_id, {"monthlyBudgetUsd": 100}).status_code == 200
    before = _stored(engine, org_id)
    resp = put(client, org_id, {"monthlyBudgetUsd": 5}, sub=sub)
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_token"
    assert _stored(engine, org_id) == before


def test_put_without_write_policy_is_403_and_changes_nothing(client, engine, org_id):
    assert put(client, org_id, {"monthlyBudgetUsd": 100}).status_code == 200
    before = _stored(engine, org_id)
    resp = put(client, org_id, {"monthlyBudgetUsd": 5}, policies=READ)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert "ai.agent:write" in resp.get_json()["error"]["message"]
    assert _stored(engine, org_id) == before
    assert client.put(URL, data="{}", content_type="application/json").status_code == 401
    assert get(client, org_id, policies=("ai.agent:write",)).status_code == 403  # read needs ai.agent:read


BAD = [
    ({"monthlyBudgetUsd": -1}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": 0}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": 1e9 + 1}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": 1e300}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": "100"}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": True}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": [1]}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": 0.123456789}, "monthlyBudgetUsd"),
    ({"thresholds": [0]}, "thresholds"),
    ({"thresholds": [10.5]}, "thresholds"),
    ({"thresholds": [-0.5]}, "thresholds"),
    ({"thresholds": "0.5"}, "thresholds"),
    ({"thresholds": [0.5, "0.8"]}, "thresholds"),
    ({"thresholds": [True]}, "thresholds"),
    ({"thresholds": [0.1 * i for i in range(1, 13)]}, "thresholds"),
    ({"webhookUrl": "ftp://example.com/x"}, "webhookUrl"),
    ({"webhookUrl": "http://example.com/x"}, "webhookUrl"),  # http only to allowed hosts
    ({"webhookUrl": "https://10.0.0.5/x"}, "webhookUrl"),  # private
    ({"webhookUrl": "https://169.254.169.254/latest"}, "webhookUrl"),  # link-local (cloud metadata)
    ({"webhookUrl": "https://127.0.0.2/x"}, "webhookUrl"),  # loopback, not the allowed 127.0.0.1
    ({"webhookUrl": "https://localhost/x"}, "webhookUrl"),
    ({"webhookUrl": 5}, "webhookUrl"),
    ({"webhookUrl": ""}, "webhookUrl"),
    # Not ASCII: a lone surrogate was a 500 at the INSERT (PostgreSQL), a path like /café was
    # stored but no delivery could send it (the request line is ASCII), a bidi control disguises it.
    ({"webhookUrl": "http://127.0.0.1:9/\ud800"}, "webhookUrl"),
    ({"webhookUrl": "http://127.0.0.1:9/caf\u00e9"}, "webhookUrl"),
    ({"webhookUrl": "http://127.0.0.1:9/\u202etxt.exe"}, "webhookUrl"),
    ({"webhookUrl": "http://127.0.0.1:9/a\x7f"}, "webhookUrl"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"budget": 5}, "budget"),
]


@pytest.mark.parametrize(("body", "field"), BAD, ids=[f"{f}-{i}" for i, (_b, f) in enumerate(BAD)])
def test_bad_field_is_400_naming_it_and_changes_nothing(client, engine, org_id, body, field):
    assert put(client, org_id, {"monthlyBudgetUsd": 100}).status_code == 200
    before = _stored(engine, org_id)
    resp = put(client, org_id, {"monthlyBudgetUsd": 200, **body} if field != "monthlyBudgetUsd" else body)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["parameter"] == field
    assert _stored(engine, org_id) == before


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "[1, 2]",
        '"text"',
        "null",
        '{"monthlyBudgetUsd": NaN}',
        '{"monthlyBudgetUsd": Infinity}',
        '{"monthlyBudgetUsd": 1, "monthlyBudgetUsd": 2}',
        "[" * 5000 + "]" * 5000,
        '{"a": ' + "1" * 5000 + "}",
        b"\xff\xfe",
        " " * 20000,
    ],
)
def test_bad_body_is_400(client, engine, org_id, raw):
    resp = put(client, org_id, None, raw=raw)
    assert resp.status_code == 400, (raw[:20], resp.get_json())
    assert resp.get_json()["error"]["parameter"] == "body"
    assert "sys." not in resp.get_json()["error"]["message"]  # Python's advice (set_int_max_str_digits) is not ours
    assert _stored(engine, org_id) == ([], [])


def test_bad_timezone_parameter(client, org_id):
    resp = get(client, org_id, timezone="Nowhere/Land")
    assert resp.status_code == 400 and resp.get_json()["error"]["parameter"] == "timezone"


def test_other_methods_are_405(client, org_id):
    for method in ("POST", "DELETE", "PATCH"):
        resp = client.open(URL, method=method, headers=auth(org_id, policies=WRITE))
        assert resp.status_code == 405, method
        assert resp.get_json()["error"]["code"] == "method_not_allowed"
        assert resp.headers["Allow"] == "GET, PUT, HEAD, OPTIONS"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


# ------------------------------------------------------------------ the probability, independently


def _costs(org_id):
    """30 days of usage up to today (2026-10-22 .. 2026-11-20 UTC), with a trend and noise."""
    rng = np.random.default_rng(3)
    rows, per_day = [], {}
    for i in range(30):
        d = date(2026, 10, 22) + timedelta(days=i)
        cost = round(10 + 0.4 * i + float(rng.normal(0, 2)), 6)
        if i == 7:
            continue  # a day without usage: no fitting point
        per_day[d] = cost
        hour = 3 if d == date(2026, 11, 20) else 12  # today's row before now
        rows.append(log(org_id, utc(d.year, d.month, d.day, hour), inp=10, cost=str(cost)))
    return rows, per_day


def reference(per_day, today, now_share_left, budget):
    """numpy OLS over the window's days before today, predictive t with n − 2 degrees of freedom."""
    start = today - timedelta(days=29)
    pts = sorted((d, c) for d, c in per_day.items() if start <= d < today)
    x = np.array([(d - start).days for d, _c in pts], dtype=float)
    y = np.array([c for _d, c in pts])
    X = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    n = len(y)
    sigma2 = float(((y - X @ beta) ** 2).sum() / (n - 2))
    cov = sigma2 * np.linalg.inv(X.T @ X)
    end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    days = [today + timedelta(days=k) for k in range((end - today).days + 1)]
    w = np.array([now_share_left] + [1.0] * (len(days) - 1))
    XF = np.column_stack([np.ones(len(days)), [(d - start).days for d in days]])
    S = float(w @ XF @ beta)
    se = float(np.sqrt((w @ w) * sigma2 + w @ XF @ cov @ XF.T @ w))
    mtd = sum(c for d, c in per_day.items() if d >= today.replace(day=1))
    t90 = stats.t.ppf(0.9, n - 2)
    p = 1.0 if mtd > budget else float(stats.t.sf((budget - mtd - S) / se, n - 2))
    return p, mtd, mtd + S - t90 * se, mtd + S + t90 * se


@pytest.mark.parametrize("budget", [150.0, 500.0, 605.0, 620.0, 635.0, 800.0])
def test_probability_against_an_independent_computation(client, engine, org_id, budget):
    rows, per_day = _costs(org_id)
    insert_logs(engine, rows)
    assert put(client, org_id, {"monthlyBudgetUsd": budget}).status_code == 200
    m = get(client, org_id, timezone="UTC").get_json()["month"]
    p, mtd, low, high = reference(per_day, date(2026, 11, 20), 9 / 24, budget)
    assert m["status"] == "ok"
    # The API rounds its fitted figures to six decimals (api/bodies.py estimate): equal to 1e-6.
    assert m["monthToDateUsd"] == pytest.approx(mtd, abs=1e-6)
    assert m["lower80"] == pytest.approx(max(mtd, low), abs=1e-6)
    assert m["upper80"] == pytest.approx(high, abs=1e-6)
    assert m["probabilityOverBudget"] == pytest.approx(p, abs=1e-6)
    assert 0 <= m["probabilityOverBudget"] <= 1


def test_probability_at_the_band_edges(engine, org_id):
    """A budget at upper80 is exceeded with probability 10 %, one at lower80 with 90 %."""
    rows, _ = _costs(org_id)
    insert_logs(engine, rows)
    with engine.connect() as c:
        m = qbudget.month_status(c, org_id, "UTC", NOW, None)
        assert m.probability_over_budget is None  # no budget
        hi = qbudget.month_status(c, org_id, "UTC", NOW, qbudget.Decimal(str(m.upper80)))
        lo = qbudget.month_status(c, org_id, "UTC", NOW, qbudget.Decimal(str(m.lower80)))
    assert hi.probability_over_budget == pytest.approx(0.10, abs=1e-6)
    assert m.lower80 > m.month_to_date_usd  # the band's lower edge is the t quantile itself here
    assert lo.probability_over_budget == pytest.approx(0.90, abs=1e-6)


def test_probability_insufficient_data(client, engine, org_id):
    insert_logs(engine, [log(org_id, utc(2026, 11, d, 12), inp=1, cost="2.5") for d in (17, 18, 19, 20)])
    assert put(client, org_id, {"monthlyBudgetUsd": 3}).status_code == 200
    m = get(client, org_id).get_json()["month"]
    assert m["status"] == "insufficient_data"
    assert m["monthToDateUsd"] == pytest.approx(10.0)
    assert m["probabilityOverBudget"] is None and m["projectedTotalUsd"] is None


def test_probability_closed_month_is_0_or_1(engine, org_id):
    rows, per_day = _costs(org_id)
    insert_logs(engine, rows)
    october = sum(c for d, c in per_day.items() if d.month == 10)
    f = parse_filters({"from": "2026-10-01", "to": "2026-10-31", "timezone": "UTC"}, org_id, now=NOW)
    with engine.connect() as c:
        p = projection(c, f)
    assert p.status == "closed" and p.month_to_date_usd == pytest.approx(october)
    assert qbudget.probability_over_budget(p, qbudget.Decimal(str(round(october - 1, 2)))) == 1.0
    assert qbudget.probability_over_budget(p, qbudget.Decimal(str(round(october + 1, 2)))) == 0.0
    assert qbudget.probability_over_budget(p, None) is None


def test_over_budget_already_is_certain(client, engine, org_id):
    rows, per_day = _costs(org_id)
    insert_logs(engine, rows)
    assert put(client, org_id, {"monthlyBudgetUsd": 50}).status_code == 200
    assert get(client, org_id).get_json()["month"]["probabilityOverBudget"] == 1.0


def test_concurrent_writers_keep_the_change_chain(engine, org_id):
    """Two writers at once: each change's `from` is what the change before it stored."""
    import threading

    from queries.budget import BudgetSettings, save_settings

    errors = []

    def write(amount):
        try:
            for k in range(5):
                s = BudgetSettings(monthly_budget_usd=qbudget.Decimal(amount + k))
                save_settings(engine, org_id, s, f"w{amount}", NOW + timedelta(seconds=k))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(a,)) for a in (100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as c:
        rows = c.execute(
            sa.select(budget_changes.c.old_settings, budget_changes.c.new_settings)
            .where(budget_changes.c.org_id == org_id)
            .order_by(budget_changes.c.id)
        ).all()
    assert len(rows) == 10 and rows[0].old_settings is None
    for before, after in itertools.pairwise(rows):
        assert json.loads(after.old_settings) == json.loads(before.new_settings)
