"""Org isolation, as a property: whatever the window, zone, source and granularity, answers under
org B's token count exactly B's rows (computed here in Python) and nothing of org A's."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from support.api import BASE, auth, check, log, make_app
from support.db import insert_agents, insert_logs

from queries.filters import local_midnight, zone

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Madrid",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "Pacific/Kiritimati",
]
FIRST, LAST = date(2025, 9, 1), date(2027, 1, 31)


def _rows(org: str, rng: random.Random, n: int, scale: int, models, agents) -> list[dict]:
    span = int((datetime(2027, 1, 31, tzinfo=UTC) - datetime(2025, 9, 1, tzinfo=UTC)).total_seconds())
    return [
        log(
            org,
            datetime(2025, 9, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(span)),
            agent=rng.choice(agents),
            source=rng.choice(["system", "byok"]),
            model=rng.choice(models),
            action=rng.choice(["user_interaction", "guardrail_check", "title_generation"]),
            inp=rng.randrange(1, 50) * scale,
            out=rng.randrange(0, 20) * scale,
            cr=rng.randrange(0, 30) * scale,
            cost=str(Decimal(rng.randrange(0, 10_000)) / 10_000 * scale),
            lat=rng.choice([None, 100, 250]),
        )
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def two_orgs(engine):
    a, b = f"org-a-{uuid.uuid4().hex[:8]}", f"org-b-{uuid.uuid4().hex[:8]}"
    rng = random.Random(20260)
    # A's rows are a million times larger and use their own models and agents: any leak shows.
    a_rows = _rows(a, rng, 150, 1_000_000, ["a-secret-model"], [f"{a}-agent", None])
    b_rows = _rows(b, rng, 150, 1, ["gpt-4o-mini", "claude-sonnet-4-5"], [f"{b}-agent", None])
    insert_logs(engine, a_rows + b_rows)
    insert_agents(
        engine,
        [
            {"id": f"{a}-agent", "org_id": a, "name": "A", "avatar_url": None},
            {"id": f"{b}-agent", "org_id": b, "name": "B", "avatar_url": None},
        ],
    )
    return a, b, b_rows


@pytest.fixture(scope="module")
def client(engine):
    # A clock after every window and row: the future (left out of series) is never reached.
    later = datetime(2027, 3, 15, 12, tzinfo=UTC)
    return make_app(engine, clock=lambda: later).server.test_client()


@st.composite
def questions(draw):
    tz = draw(st.sampled_from(ZONES))
    start = draw(st.dates(min_value=FIRST, max_value=LAST))
    days = draw(st.integers(min_value=1, max_value=400))
    end = min(start + timedelta(days=days - 1), LAST + timedelta(days=30))
    grains = ["auto", "day", "week", "month"] + (["hour"] if (end - start).days < 92 else [])
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": tz,
        "source": draw(st.sampled_from(["all", "system", "byok"])),
        "granularity": draw(st.sampled_from(grains)),
    }


def expected(rows, q):
    tz = zone(q["timezone"])
    lo = local_midnight(date.fromisoformat(q["from"]), tz)
    hi = local_midnight(date.fromisoformat(q["to"]) + timedelta(days=1), tz)
    sel = [r for r in rows if lo <= r["created_at"] < hi and q["source"] in ("all", r["source"])]
    return {
        "executions": len(sel),
        "tokens": sum(r["input_tokens"] + r["output_tokens"] + r["cache_read_tokens"] for r in sel),
        "input": sum(r["input_tokens"] + r["cache_read_tokens"] for r in sel),
        "cost": float(sum((r["cost_usd"] or Decimal(0)) for r in sel)),
        "days": len({r["created_at"].astimezone(tz).date() for r in sel}),
    }


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=questions())
def test_answers_under_b_count_only_b(client, two_orgs, q):
    a, b, b_rows = two_orgs
    exp = expected(b_rows, q)
    h = auth(b)

    def get(route, **extra):
        return check(client.get(f"{BASE}/{route}", query_string={**q, **extra}, headers=h), route)

    s = get("summary")
    assert (s["executions"], s["totalTokens"], s["totalInputTokens"]) == (
        exp["executions"],
        exp["tokens"],
        exp["input"],
    )
    assert s["totalCostUsd"] == pytest.approx(exp["cost"], abs=1e-9)

    ts = get("time-series")
    assert sum(p["executions"] for p in ts["points"]) == exp["executions"]
    assert sum(p["tokens"] for p in ts["points"]) == exp["tokens"]

    models = get("model-efficiency")["models"]
    assert sum(m["executions"] for m in models) == exp["executions"]
    assert {m["model"] for m in models} <= {"gpt-4o-mini", "claude-sonnet-4-5"}

    agents = get("by-agent")["agents"]
    assert sum(x["executions"] for x in agents) == exp["executions"]
    assert {x["agentId"] for x in agents} <= {f"{b}-agent", None}

    cells = get("heatmap")["cells"]
    assert sum(c["executions"] for c in cells) == exp["executions"]
    assert sum(c["tokens"] for c in cells) == exp["tokens"]

    cs = get("cache-savings")
    assert cs["totalInputTokens"] == exp["input"]

    assert get("projection")["dailyPoints"] == exp["days"]


def test_a_token_never_sees_b_and_vice_versa(client, two_orgs):
    a, b, _ = two_orgs
    q = {"from": FIRST.isoformat(), "to": (FIRST + timedelta(days=3 * 365)).isoformat()}
    sa_ = check(client.get(f"{BASE}/summary", query_string=q, headers=auth(a)), "summary")
    sb = check(client.get(f"{BASE}/summary", query_string=q, headers=auth(b)), "summary")
    assert sa_["executions"] == sb["executions"] == 150
    assert sa_["totalTokens"] >= 1_000_000 * 150 > sb["totalTokens"]
