"""The page's budget pieces without a browser: the form read as the API's body, the save callback's
policy check, and the «Acumulado» data against a plain-Python cumulative sum (both engines)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from support.api import SECRET, log, make_app, utc
from support.db import insert_logs

from callbacks import budget as cb
from queries.burndown import burn_down
from queries.filters import parse_filters
from queries.projection import projection
from storage.schema import org_budgets
from web.auth import mint_token

NOW = utc(2026, 11, 20, 15)
WRITE = ("ai.agent:read", "ai.agent:write")


@pytest.mark.parametrize(
    ("typed", "want"),
    [
        ("1500", Decimal("1500")),
        ("1.500,50", Decimal("1500.50")),
        ("1,500.50", Decimal("1500.50")),
        ("12,5", Decimal("12.5")),
        (" 7 ", Decimal("7")),
        ("mil", "mil"),
        ("1e5", "1e5"),
        ("", None),
    ],
)
def test_the_amount_as_typed(typed, want):
    assert cb.form_body(typed, None, None, None)["monthlyBudgetUsd"] == want


def test_thresholds_are_percentages():
    body = cb.form_body("10", "50 80;100", "", "Europe/Madrid")
    assert body == {
        "monthlyBudgetUsd": Decimal("10"),
        "webhookUrl": None,
        "thresholds": [Decimal("0.5"), Decimal("0.8"), Decimal("1")],
        "timezone": "Europe/Madrid",
    }
    assert cb.form_body("10", "50 x", "", "Nowhere/Land")["thresholds"][1] == "x"
    assert "timezone" not in cb.form_body("10", "", "", "Nowhere/Land")


@pytest.fixture
def app(engine):
    return make_app(engine, clock=lambda: NOW, webhook_allow_hosts="127.0.0.1")


def _save(app, token, amount="500", thresholds="50 100", webhook=""):
    with app.server.test_request_context():
        return cb.save(1, amount, thresholds, webhook, token, "UTC", 3)


def _row(engine, org_id):
    with engine.connect() as c:
        return c.execute(sa.select(org_budgets).where(org_budgets.c.org_id == org_id)).first()


def test_save_checks_the_policy_on_the_server(app, engine, org_id):
    status, version = _save(app, mint_token(SECRET, org_id))
    assert "no permite" in str(status) and _row(engine, org_id) is None
    status, version = _save(app, mint_token(SECRET, org_id, policies=WRITE), amount="-5")
    assert "El presupuesto debe ser" in str(status) and _row(engine, org_id) is None
    status, version = _save(app, mint_token(SECRET, org_id, policies=WRITE), webhook="https://192.168.1.1/x")
    assert "webhook" in str(status) and _row(engine, org_id) is None
    status, version = _save(app, mint_token(SECRET, org_id, policies=WRITE, sub="eva"))
    assert version == 4 and "guardado" in str(status)
    row = _row(engine, org_id)
    assert row.monthly_budget_usd == Decimal(500) and json.loads(row.thresholds) == [0.5, 1.0]
    assert row.updated_by == "eva" and row.timezone == "UTC"


def test_editor_only_for_writers(app, org_id):
    with app.server.test_request_context():
        assert cb.editor(mint_token(SECRET, org_id), 0) == (True, "", "", "")
        assert cb.editor("forged", 0) == (True, "", "", "")
        assert cb.editor(mint_token(SECRET, org_id, policies=WRITE), 0) == (False, "", "50 80 100", "")
        assert _save(app, mint_token(SECRET, org_id, policies=WRITE), "1234.5", "80", "http://127.0.0.1:9/h")[1] == 4
        assert cb.editor(mint_token(SECRET, org_id, policies=WRITE), 0) == (
            False,
            "1.234,50",
            "80",
            "http://127.0.0.1:9/h",
        )
        assert cb.editor(mint_token(SECRET, org_id), 0) == (True, "", "", "")


def test_burn_down_against_a_plain_cumulative_sum(engine, org_id):
    costs = {date(2026, 10, 22) + timedelta(days=i): 5 + (i % 4) * 1.25 for i in range(30) if i != 20}
    insert_logs(engine, [log(org_id, utc(d.year, d.month, d.day, 2), inp=1, cost=str(c)) for d, c in costs.items()])
    f = parse_filters({"timezone": "UTC"}, org_id, now=NOW)
    with engine.connect() as c:
        p = projection(c, f)
        bd = burn_down(c, f, p)
    assert p.status == "ok" and bd.month_start == date(2026, 11, 1)
    running, want = 0.0, [0.0]
    for k in range(20):
        running += costs.get(date(2026, 11, 1) + timedelta(days=k), 0.0)
        want.append(running)
    assert list(bd.actual["cum_usd"]) == pytest.approx(want)
    assert str(bd.actual["at"].iloc[-1]) == "2026-11-20 15:00:00"  # today: up to now
    last = bd.forecast.iloc[-1]
    assert str(last["at"]) == "2026-12-01 00:00:00"
    assert (last["cum_usd"], last["lower80"], last["upper80"]) == pytest.approx(
        (p.projected_total_usd, p.lower80, p.upper80)
    )
    assert (bd.forecast["cum_usd"].diff().dropna() >= -1e-9).all()


def test_token_command_mints_a_writer(monkeypatch, capsys):
    from ai_usage import cli
    from web.auth import verify_token

    monkeypatch.setenv("AI_USAGE_SECRET", SECRET)
    assert cli.main(["token", "--org", "acme", "--write", "--sub", "ana"]) == 0
    claims = verify_token(capsys.readouterr().out.strip(), SECRET)
    assert claims.may("ai.agent:write") and claims.sub == "ana"
    assert cli.main(["token", "--org", "acme"]) == 0
    reader = verify_token(capsys.readouterr().out.strip(), SECRET)
    assert not reader.may("ai.agent:write") and reader.sub is None
