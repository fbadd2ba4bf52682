"""GET /ai/org-usage/alerts (auth, org isolation, shape, limit) and `ai-usage alerts send-test`."""

from __future__ import annotations

import argparse
import io

import pytest
from support.api import BASE, auth, check
from support.outbox import fire_event, quiet
from support.webhook import Clock, Receiver, set_budget, verify

from alerts.deliver import Worker
from alerts.evaluate import Sources
from alerts.jobs import SendTestError, send_test
from queries import budget as budget_q
from storage.settings import Settings

SECRET = "whsec-api-" + "q" * 20


@pytest.fixture(autouse=True)
def quiet_outbox(engine):
    quiet(engine)


def fire(engine, org_id, clock, url, key, type_="budget_threshold", threshold=0.5):
    return fire_event(engine, org_id, url, clock, type_=type_, key=key, threshold=threshold)


def get(client, org_id, **params):
    return client.get(f"{BASE}/alerts", query_string=params, headers=auth(org_id))


def test_alerts_lists_events_newest_first_with_deliveries(client, engine, org_id):
    clock = Clock()
    with Receiver(plan=[500]) as rx:
        first = fire(engine, org_id, clock, rx.url, "0.5")
        clock.advance(5)
        second = fire(engine, org_id, clock, rx.url, "0.8", threshold=0.8)
        w = Worker(engine, SECRET, {"127.0.0.1"}, clock=clock)
        w.run()  # first: 500 (retrying); second: delivered
        rx.wait(2)
    body = check(get(client, org_id), "alerts")
    assert [a["id"] for a in body["alerts"]] == [second, first]
    by_id = {a["id"]: a for a in body["alerts"]}
    a1, a2 = by_id[first], by_id[second]
    assert (a1["status"], a1["attempts"], a1["key"], a1["threshold"]) == ("pending", 1, "0.5", 0.5)
    assert a1["deliveries"][0]["httpStatus"] == 500 and a1["nextAttemptAt"] is not None
    assert (a2["status"], a2["deliveries"][0]["httpStatus"], a2["nextAttemptAt"]) == ("delivered", 200, None)
    assert a2["payload"]["id"] == second and a2["payload"]["orgId"] == org_id and a2["type"] == "budget_threshold"
    assert a2["createdAt"].endswith("+00:00")


def test_alerts_are_the_token_orgs_only(client, engine, org_id):
    clock = Clock()
    fire(engine, org_id, clock, None, "0.5")
    assert check(get(client, org_id + "-b"), "alerts") == {"alerts": []}
    assert len(check(get(client, org_id), "alerts")["alerts"]) == 1
    other = client.get(f"{BASE}/alerts", query_string={"org_id": org_id}, headers=auth(org_id + "-b"))
    assert check(other, "alerts", 403)["error"]["code"] == "org_mismatch"
    hdr = {**auth(org_id + "-b"), "x-org-id": org_id}
    assert check(client.get(f"{BASE}/alerts", headers=hdr), "alerts", 403)["error"]["code"] == "org_mismatch"


def test_alerts_needs_a_token_with_the_read_policy(client, org_id):
    assert check(client.get(f"{BASE}/alerts"), "alerts", 401)["error"]["code"] == "missing_token"
    resp = client.get(f"{BASE}/alerts", headers=auth(org_id, policies=["something:else"]))
    assert check(resp, "alerts", 403)["error"]["code"] == "forbidden"


def test_undeliverable_events_say_why(client, engine, org_id):
    clock = Clock()
    fire(engine, org_id, clock, None, "0.5")
    (a,) = check(get(client, org_id), "alerts")["alerts"]
    assert a["status"] == "undeliverable" and "no webhook URL" in a["deliveries"][0]["error"]


@pytest.mark.parametrize("bad", ["0", "501", "-1", "x", "1.5", "1e2", "٣", "9" * 5000])
def test_bad_limit_is_a_400_naming_it(client, org_id, bad):
    err = check(get(client, org_id, limit=bad), "alerts", 400)["error"]
    assert (err["code"], err["parameter"]) == ("invalid_limit", "limit")
    # One rule and one wording with by-user's limit (queries.bad_input.limit_param).
    assert err["message"].startswith("'limit' must be a whole number from 1 to 500 (default 50); got ")


def test_limit(client, engine, org_id):
    clock = Clock()
    for k in range(3):
        fire(engine, org_id, clock, None, str(k))
        clock.advance(1)
    assert len(check(get(client, org_id, limit="2"), "alerts")["alerts"]) == 2
    assert len(check(get(client, org_id, limit=" 2 "), "alerts")["alerts"]) == 2  # trimmed, as by-user's
    assert len(check(get(client, org_id, limit=""), "alerts")["alerts"]) == 3


def test_alerts_route_is_in_the_openapi_document(client):
    doc = client.get(f"{BASE}/openapi.json").get_json()
    op = doc["paths"][f"{BASE}/alerts"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Alerts")
    assert "AlertEvent" in doc["components"]["schemas"] and "AlertDelivery" in doc["components"]["schemas"]


# ------------------------------------------------------------------ ai-usage alerts send-test


def sources():
    return Sources(budget_q.load_settings, budget_q.month_status, None)


def test_send_test_delivers_a_signed_test_event(engine, org_id):
    with Receiver() as rx:
        set_budget(engine, org_id, "100", (0.5,), rx.url)
        settings = Settings(webhook_secret=SECRET, webhook_allow_hosts="127.0.0.1")
        result = send_test(engine, settings, org_id, sources=sources())
        (req,) = rx.wait(1)
    assert result.event.status == "delivered" and result.event.type == "test"
    assert "Delivered test event" in result.message
    assert verify(SECRET, req.headers["X-AI-Usage-Signature"], req.body)
    assert req.json["type"] == "test" and req.json["id"] == result.event.id and req.json["orgId"] == org_id
    # Never deduplicated: a second test is a second event.
    with Receiver() as rx2:
        set_budget(engine, org_id, "100", (0.5,), rx2.url)
        again = send_test(engine, settings, org_id, sources=sources())
        rx2.wait(1)
    assert again.event.id != result.event.id


def test_send_test_failure_is_reported_and_left_to_retry(engine, org_id):
    with Receiver(plan=[500]) as rx:
        set_budget(engine, org_id, "100", (0.5,), rx.url)
        settings = Settings(webhook_secret=SECRET, webhook_allow_hosts="127.0.0.1")
        result = send_test(engine, settings, org_id, sources=sources())
    assert result.event.status == "pending" and "HTTP 500" in result.message and "retries" in result.message


def test_send_test_clear_errors(engine, org_id):
    set_budget(engine, org_id, "100", (0.5,), None)
    with pytest.raises(SendTestError, match="AI_USAGE_WEBHOOK_SECRET"):
        send_test(engine, Settings(webhook_secret=""), org_id, sources=sources())
    with pytest.raises(SendTestError, match="no webhook URL"):
        send_test(engine, Settings(webhook_secret=SECRET), org_id, sources=sources())
    with pytest.raises(SendTestError, match="no webhook URL"):
        send_test(engine, Settings(webhook_secret=SECRET), org_id + "-unset", sources=sources())


def test_cli_send_test(engine, org_id, monkeypatch):
    from ai_usage import cli
    from ai_usage.alerts import alerts_cli

    args = cli.build_parser().parse_args(["alerts", "send-test", "--org", org_id])
    assert (args.command, args.alerts_command, args.org) == ("alerts", "send-test", org_id)
    out, err = io.StringIO(), io.StringIO()
    assert alerts_cli(engine, Settings(webhook_secret=""), args, out, err) == 2
    assert "AI_USAGE_WEBHOOK_SECRET is not set" in err.getvalue()
    with Receiver() as rx:
        set_budget(engine, org_id, "100", (0.5,), rx.url)
        settings = Settings(webhook_secret=SECRET, webhook_allow_hosts="127.0.0.1")
        out = io.StringIO()
        assert alerts_cli(engine, settings, argparse.Namespace(alerts_command="send-test", org=org_id), out, err) == 0
        rx.wait(1)
    assert "Delivered test event" in out.getvalue() and "HTTP 200" in out.getvalue()
