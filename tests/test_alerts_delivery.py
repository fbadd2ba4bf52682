"""Webhook delivery from the outbox, against a real local HTTP receiver (both engines).

Signature checked by the receiver's own code (support.webhook.verify: hmac stdlib only);
retries through 500, a hang (timeout) and a reset, with the same id; the backoff schedule;
a restart mid-retry; one attempt per due row with two workers; SSRF rules at delivery time.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from support.outbox import fire_event, quiet
from support.webhook import Clock, Receiver, verify

from alerts import deliver, outbox
from alerts.deliver import Worker, backoff
from storage.engine import make_engine
from storage.schema import alert_events

SECRET = "whsec-test-" + "k" * 20
ALLOWED = frozenset({"127.0.0.1"})


@pytest.fixture(autouse=True)
def quiet_outbox(engine):
    """A worker serves every org's due events: other tests' leftovers are put out of its way."""
    quiet(engine)


def new_event(engine, org_id, url, clock, type_="budget_threshold", key="0.5", can_sign=True) -> str:
    return fire_event(engine, org_id, url, clock, type_=type_, key=key, can_sign=can_sign, month_to_date=55.5)


def event(engine, org_id, eid) -> outbox.Event:
    with engine.connect() as c:
        (e,) = outbox.events(c, org_id, event_id=eid)
    return e


def test_signed_post_verified_by_an_independent_receiver(engine, org_id):
    clock = Clock()
    with Receiver() as rx:
        eid = new_event(engine, org_id, rx.url, clock)
        assert Worker(engine, SECRET, ALLOWED, clock=clock).run() == 1
        (req,) = rx.wait(1)
    assert req.path == "/hook" and req.headers["Content-Type"] == "application/json"
    assert verify(SECRET, req.headers["X-AI-Usage-Signature"], req.body, now=clock().timestamp())
    assert not verify("another-secret", req.headers["X-AI-Usage-Signature"], req.body, now=clock().timestamp())
    assert not verify(SECRET, req.headers["X-AI-Usage-Signature"], req.body + b" ", now=clock().timestamp())
    body = req.json
    assert list(body) == list(outbox.PAYLOAD_KEYS) and body["id"] == eid and body["orgId"] == org_id
    e = event(engine, org_id, eid)
    assert (e.status, e.attempts, e.next_attempt_at) == ("delivered", 1, None)
    assert [(d.http_status, d.error) for d in e.deliveries] == [(200, None)]
    assert req.body == e_payload(engine, eid)  # the stored bytes, verbatim


def e_payload(engine, eid) -> bytes:
    with engine.connect() as c:
        return c.execute(sa.select(alert_events.c.payload).where(alert_events.c.id == eid)).scalar_one().encode()


def test_500_then_hang_then_reset_are_retried_with_the_same_id(engine, org_id):
    clock = Clock()
    with Receiver(plan=[500, "hang", "reset"]) as rx:
        eid = new_event(engine, org_id, rx.url, clock)
        worker = Worker(engine, SECRET, ALLOWED, clock=clock, draw=lambda: 0.5, timeout=0.5)
        for i in range(4):
            assert worker.run() == 1, i
            assert worker.run() == 0  # not due again before its backoff
            clock.advance(3600)
        got = rx.wait(4)
    assert [r.json["id"] for r in got] == [eid] * 4
    assert len({r.body for r in got}) == 1  # byte for byte the same body each time
    e = event(engine, org_id, eid)
    assert e.status == "delivered" and e.attempts == 4
    attempts = [(d.http_status, d.error) for d in e.deliveries]
    assert attempts[0] == (500, None) and attempts[3] == (200, None)
    assert attempts[1][0] is None and "timeout" in attempts[1][1]
    assert attempts[2][0] is None and "reset" in attempts[2][1]
    assert e.last_error is None


def test_backoff_schedule_exponential_with_full_jitter_and_24h_limit(engine, org_id):
    assert [backoff(n, 1.0) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert backoff(20, 1.0) == deliver.CAP_S and backoff(3, 0.0) == deliver.MIN_DELAY_S
    assert backoff(3, 0.25) == 30.0  # full jitter: a uniform share of the ceiling
    clock = Clock()
    start = clock()
    with Receiver(plan=[503] * 100) as rx:
        eid = new_event(engine, org_id, rx.url, clock)
        worker = Worker(engine, SECRET, ALLOWED, clock=clock, draw=lambda: 1.0)
        delays = []
        while event(engine, org_id, eid).status == "pending":
            assert worker.run() == 1
            e = event(engine, org_id, eid)
            if e.next_attempt_at is not None:
                delays.append((e.next_attempt_at - clock()).total_seconds())
                clock.now = e.next_attempt_at
        n = len(rx.requests)
    e = event(engine, org_id, eid)
    assert e.status == "failed" and e.attempts == n and len(e.deliveries) == n
    assert delays[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert max(delays) <= deliver.CAP_S
    assert e.deliveries[-1].attempted_at == start + timedelta(hours=24)  # one last try at the deadline
    assert e.deliveries[-2].attempted_at < start + timedelta(hours=24)


def test_retry_survives_a_restart(engine, org_id):
    """A first worker fails an attempt and goes away; a fresh worker on a new engine (a new
    process's view: all state in the tables) delivers the same event id."""
    clock = Clock()
    url = engine.url.render_as_string(hide_password=False)
    with Receiver(plan=[500]) as rx:
        eid = new_event(engine, org_id, rx.url, clock)
        first_engine = make_engine(url)
        Worker(first_engine, SECRET, ALLOWED, clock=clock).run()
        first_engine.dispose()
        clock.advance(deliver.CAP_S)
        second_engine = make_engine(url)
        assert Worker(second_engine, SECRET, ALLOWED, clock=clock).run() == 1
        second_engine.dispose()
        got = rx.wait(2)
    assert [r.json["id"] for r in got] == [eid, eid]
    e = event(engine, org_id, eid)
    assert e.status == "delivered" and [d.http_status for d in e.deliveries] == [500, 200]


def test_a_worker_that_died_mid_attempt_leaves_a_lease_that_expires(engine, org_id):
    clock = Clock()
    with Receiver() as rx:
        eid = new_event(engine, org_id, rx.url, clock)
        w = Worker(engine, SECRET, ALLOWED, clock=clock)
        with engine.begin() as c:  # claimed by a worker that then crashed before posting
            assert w._claim(c, eid, 0, clock())
        assert w.run() == 0 and rx.requests == []
        clock.advance(deliver.LEASE_S + 1)
        assert w.run() == 1
        rx.wait(1)
    assert event(engine, org_id, eid).status == "delivered"


def test_two_workers_racing_make_one_attempt_per_due_row(engine, org_id):
    clock = Clock()
    url = engine.url.render_as_string(hide_password=False)
    with Receiver() as rx:
        ids = [new_event(engine, org_id, rx.url, clock, key=str(k)) for k in range(6)]
        engines = [make_engine(url) for _ in range(3)]
        barrier = threading.Barrier(3)
        done = []

        def run(eng):
            barrier.wait(10)
            done.append(Worker(eng, SECRET, ALLOWED, clock=clock).run())

        threads = [threading.Thread(target=run, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for e in engines:
            e.dispose()
        got = rx.wait(6)
    assert sum(done) == 6 and sorted(r.json["id"] for r in got) == sorted(ids)
    assert all(event(engine, org_id, i).attempts == 1 for i in ids)


def test_dns_rebinding_to_a_private_address_is_refused_at_delivery(engine, org_id):
    """The URL passed its check when stored; at delivery its name resolves to 10.0.0.7: no connection."""
    clock = Clock()
    answers = {"hooks.example.com": ["93.184.216.34"]}
    from alerts.urls import check_url

    url = "https://hooks.example.com/ai"
    assert check_url(url, ALLOWED, lambda h, p: answers[h]) == url
    answers["hooks.example.com"] = ["10.0.0.7"]
    eid = new_event(engine, org_id, url, clock)
    connects = []
    worker = Worker(engine, SECRET, ALLOWED, resolver=lambda h, p: answers[h], clock=clock)
    orig = deliver.socket.create_connection
    deliver.socket.create_connection = lambda *a, **k: connects.append(a) or orig(*a, **k)
    try:
        assert worker.run() == 1
    finally:
        deliver.socket.create_connection = orig
    assert connects == []
    e = event(engine, org_id, eid)
    assert e.status == "pending" and "refused" in e.deliveries[0].error and "10.0.0.7" in e.deliveries[0].error


def test_connection_goes_to_the_checked_address_not_a_second_lookup(engine, org_id):
    """The name is allowed and checked once: the worker connects to that address (Host = the name)."""
    clock = Clock()
    with Receiver() as rx:
        url = f"http://receiver.test:{rx.port}/hook"
        lookups = []

        def resolver(host, port):
            lookups.append(host)
            return ["127.0.0.1"] if len(lookups) == 1 else ["10.9.9.9"]

        eid = new_event(engine, org_id, url, clock)
        assert Worker(engine, SECRET, frozenset({"receiver.test"}), resolver=resolver, clock=clock).run() == 1
        (req,) = rx.wait(1)
    assert lookups == ["receiver.test"] and req.headers["Host"] == f"receiver.test:{rx.port}"
    assert event(engine, org_id, eid).status == "delivered"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https_goes_to_the_checked_address_with_sni_and_a_verified_certificate(engine, org_id, tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
         "-subj", "/CN=receiver.test", "-addext", "subjectAltName=DNS:receiver.test"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    clock = Clock()
    ctx = ssl.create_default_context(cafile=cert)  # trusts this certificate only; verification stays on
    allowed = frozenset({"receiver.test", "other.test"})
    with Receiver(tls=(cert, key)) as rx:
        good = new_event(engine, org_id, f"https://receiver.test:{rx.port}/hook", clock, key="good")
        wrong = new_event(engine, org_id, f"https://other.test:{rx.port}/hook", clock, key="wrong")
        w = Worker(engine, SECRET, allowed, resolver=lambda h, p: ["127.0.0.1"], clock=clock, context=ctx)
        assert w.run() == 2
        (req,) = rx.wait(1)
    assert req.json["id"] == good and req.headers["Host"] == f"receiver.test:{rx.port}"
    assert event(engine, org_id, good).status == "delivered"
    bad = event(engine, org_id, wrong)  # the certificate does not name other.test: no request was sent
    assert bad.status == "pending" and "TLS" in bad.deliveries[0].error


def test_redirects_are_not_followed(engine, org_id):
    clock = Clock()
    with Receiver(plan=[302]) as rx:
        eid = new_event(engine, org_id, rx.url, clock)
        Worker(engine, SECRET, ALLOWED, clock=clock).run()
        got = rx.wait(1)
    assert [r.path for r in got] == ["/hook"]  # /redirected was never asked for
    e = event(engine, org_id, eid)
    assert e.status == "pending" and e.deliveries[0].http_status == 302
    assert e.last_error.startswith("HTTP 302: redirect not followed (to http://127.0.0.1:")


@pytest.mark.parametrize(
    "url",
    ["http://localhost:9/hook", "http://10.0.0.5/hook", "ftp://127.0.0.1/hook", "https://internal.example:9/hook"],
)
def test_plain_http_to_a_host_not_allowed_and_private_addresses_are_refused(engine, org_id, url):
    clock = Clock()
    eid = new_event(engine, org_id, url, clock)
    Worker(engine, SECRET, ALLOWED, clock=clock, resolver=lambda h, p: ["127.0.0.1"]).run()
    e = event(engine, org_id, eid)
    assert e.status == "pending" and e.deliveries[0].http_status is None
    assert e.deliveries[0].error.startswith("refused:")


def test_secret_removed_after_firing_makes_the_event_undeliverable(engine, org_id):
    clock = Clock()
    eid = new_event(engine, org_id, "https://hooks.example.com/x", clock)
    Worker(engine, "", ALLOWED, clock=clock).run()
    e = event(engine, org_id, eid)
    assert e.status == "undeliverable" and "AI_USAGE_WEBHOOK_SECRET" in e.deliveries[-1].error


def test_metrics_count_deliveries(engine, org_id):
    from storage import metrics

    def value(outcome):
        return metrics.ALERT_DELIVERIES.labels(channel="webhook", outcome=outcome)._value.get()

    before = value("retried"), value("delivered")
    clock = Clock()
    with Receiver(plan=[500]) as rx:
        new_event(engine, org_id, rx.url, clock)
        w = Worker(engine, SECRET, ALLOWED, clock=clock)
        w.run()
        clock.advance(deliver.CAP_S)
        w.run()
        rx.wait(2)
    assert (value("retried"), value("delivered")) == (before[0] + 1, before[1] + 1)


def test_payload_json_is_plain_and_hostile_strings_stay_data(engine, org_id):
    clock = Clock()
    hostile = '<script>alert(1)</script>"\u2028'
    with Receiver() as rx:
        eid = outbox.new_id()
        body = outbox.payload(eid, hostile, "anomaly", clock(), "2026-11", anomaly={"date": "2026-11-19", "x": hostile})
        with engine.begin() as c:
            outbox.fire(
                c,
                event_id=eid,
                org_id=org_id,
                type_="anomaly",
                month="2026-11",
                dedup_key="2026-11-19",
                created_at=clock(),
                body=body,
                webhook_url=rx.url,
                can_sign=True,
            )
        Worker(engine, SECRET, ALLOWED, clock=clock).run()
        (req,) = rx.wait(1)
    assert json.loads(req.body)["anomaly"]["x"] == hostile
