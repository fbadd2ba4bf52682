"""Rows the platform writes out of range: every figure saturates each row, none fails or wraps.

The platform writes token_usage_logs itself, so a row can hold any BIGINT token count and
any NUMERIC(18,8) cost: 2^62 or 2^63 - 1 tokens, negative counts, a cost of 9,999,999,999
USD. Before, a dozen such rows overflowed the BIGINT sums (routes answered 500, or 503
«database unavailable»; the refresh failed for every org) or wrapped in numpy (a cost of
minus 64 billion USD). Now each row counts its tokens within [0, 2^31 - 1] per column and
its cost within ±1,000,000 USD, and a NUMERIC 'NaN' cost is no cost, as NULL (docs/figures.md,
«Values out of range»).

Checked against the pandas reference (which saturates each row the same way, on its own)
on both engines, through the rollups with a live tail, through the live tail alone, and
through every API route with and without rollups.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from support import reference as ref
from support.api import BASE, ROUTES, auth, log, make_app
from support.db import insert_agents, insert_logs
from test_queries import (
    check_by_agent,
    check_cache_savings,
    check_heatmap,
    check_model_efficiency,
    check_projection,
    check_summary,
    check_time_series,
    make_filters,
)

from ingest import refresh as rollups

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOWS = [(date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 11, 20), date(2026, 11, 26))]
ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns"]
BIG = "9999999999.99999999"  # the largest NUMERIC(18,8)


@pytest.fixture(scope="module")
def engine(own_engine):
    return own_engine  # this module refreshes the rollups of the whole database


def ordinary_rows(org: str) -> list[dict]:
    """90 ordinary rows over November: three agents (one None), users, models, sources, NULL
    costs and latencies (also tests/test_long_names.py's)."""
    agents, users = [f"{org}-a1", f"{org}-a2", None], ["u1", "u2", None]
    models = [("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"), ("acme", "no-price-model")]
    rows = []
    for i in range(90):
        at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=8 * i, minutes=7 * i)
        provider, model = models[i % 3]
        r = log(
            org,
            at,
            agent=agents[i % 3],
            source=("system", "byok")[i % 2],
            provider=provider,
            model=model,
            inp=1000 + i,
            out=200 + i,
            cr=300 * (i % 4),
            cost=None if i % 7 == 0 else f"0.{i:02d}123456",
            lat=None if i % 5 == 0 else 100 + 13 * i,
        )
        r["user_id"] = users[i % 3]
        r["cache_write_tokens"] = 50 * (i % 3)
        rows.append(r)
    return rows


def _rows(org: str) -> list[dict]:
    """Ordinary rows on every day of November, and rows out of range among them."""
    agents, users = [f"{org}-a1", f"{org}-a2", None], ["u1", "u2", None]
    rows = ordinary_rows(org)
    hostile = [
        dict(inp=2**62, out=2**62, cr=2**62, cost="1"),
        dict(inp=2**63 - 1, out=2**63 - 1, cr=2**63 - 1, cost=None),  # unpriced: estimated from saturated tokens
        dict(inp=-5, out=-(2**62), cr=-1, cost="0.5"),
        dict(inp=2**31, out=2**31 - 1, cr=2**40, cost="-0.25"),
        *[dict(inp=10, cost=BIG) for _ in range(12)],
        *[dict(inp=10, cost="-" + BIG) for _ in range(3)],
        dict(inp=10, cost="1000000"),
        dict(inp=10, cost="-1000000"),
        dict(inp=7000, out=70, cost="NaN"),  # PostgreSQL keeps NUMERIC 'NaN' (SQLite: NULL): no cost
        dict(inp=7000, out=70, cr=700, cost="NaN"),
    ]
    for j, h in enumerate(hostile):
        at = datetime(2026, 11, 3, tzinfo=UTC) + timedelta(days=j % 25, hours=5 * j, minutes=15 + j)
        r = log(org, at, agent=agents[j % 3], source=("system", "byok")[j % 2], lat=200 + j, **h)
        r["user_id"] = users[j % 3]
        r["cache_write_tokens"] = (2**62, -7, 3)[j % 3]
        rows.append(r)
    return rows


def _load(engine, org: str, rows: list[dict]) -> SimpleNamespace:
    insert_agents(engine, [{"id": f"{org}-a1", "org_id": org, "name": "<b>Uno</b>", "avatar_url": None}])
    with engine.connect() as c:
        loaded, names = ref.load_rows(c, org), ref.load_agents(c, org)
    assert len(loaded) == len(rows)
    return SimpleNamespace(engine=engine, org=org, rows=loaded, agents=names)


@pytest.fixture(scope="module")
def orgs(engine):
    """Three orgs with the same rows: all rolled up; rolled up with half as a live tail;
    all in the live tail (inserted after the refresh)."""
    names = {k: f"oor-{k}-{uuid.uuid4().hex[:6]}" for k in ("rolled", "tail", "live")}
    rows = {k: _rows(org) for k, org in names.items()}
    insert_logs(engine, rows["rolled"])
    insert_logs(engine, rows["tail"][::2])
    result = rollups.refresh(engine)  # used to fail: BIGINT out of range / integer overflow
    assert not result.skipped
    with engine.connect() as c:
        newest = c.execute(sa.text("SELECT MAX(id) FROM token_usage_logs")).scalar_one()
        assert c.execute(sa.text("SELECT watermark FROM rollup_state")).scalar_one() == newest
    insert_logs(engine, rows["tail"][1::2])
    insert_logs(engine, rows["live"])
    return {k: _load(engine, names[k], rows[k]) for k in names}


@pytest.mark.parametrize("path", ["rolled", "tail", "live"])
@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("tz", ZONES)
def test_every_figure_counts_each_row_saturated(orgs, path, window, tz):
    data = orgs[path]
    for source in ("all", "system", "byok"):
        f = make_filters(data, window, tz, source, now=NOW)
        want = check_summary(data, f)
        assert want["executions"] > 0
        check_cache_savings(data, f)
        check_model_efficiency(data, f)
        check_by_agent(data, f)
        check_heatmap(data, f)
    f = make_filters(data, window, tz, now=NOW)
    check_time_series(data, f)
    check_projection(data, f)


def test_the_saturated_figures_are_the_bounds(orgs):
    """The reference's rule, spelled out on the whole month: 12 rows of 9,999,999,999 USD
    count 1,000,000 each, and 3 of minus that count minus 1,000,000 each."""
    rows = orgs["rolled"].rows
    assert int(rows["input_tokens"].max()) == 2**31 - 1 and int(rows["output_tokens"].min()) == 0
    big = rows[rows["input_tokens"] == 10]
    assert sorted(big["e8"].unique().tolist()) == [-(10**14), 10**14]
    assert (big["e8"] == 10**14).sum() == 13 and (big["e8"] == -(10**14)).sum() == 4
    nan = rows[rows["input_tokens"] == 7000]
    assert len(nan) == 2 and nan["cost_is_null"].all() and (nan["e8"] == 0).all()


@pytest.mark.parametrize("use_rollups", [True, False])
@pytest.mark.parametrize("path", ["rolled", "tail"])
def test_every_route_answers_with_the_saturated_totals(engine, orgs, path, use_rollups):
    data = orgs[path]
    client = make_app(engine, use_rollups=use_rollups).server.test_client()
    query = "from=2026-11-01&to=2026-11-30&timezone=Asia/Kathmandu&compare=previous"
    for route in ROUTES:
        resp = client.get(f"{BASE}/{route}?{query}", headers=auth(data.org))
        assert resp.status_code == 200, (route, resp.data[:300])
    body = client.get(f"{BASE}/summary?{query}", headers=auth(data.org)).get_json()
    f = make_filters(data, WINDOWS[0], "Asia/Kathmandu", now=NOW)
    want = ref.summary(data.rows, ref.Window.of(f))
    assert body["totalTokens"] == want["total_tokens"] > 3 * (2**31 - 1)
    assert abs(body["totalCostUsd"] - want["total_cost_e8"] / 1e8) < 1e-6
    assert 13 * 1e6 - 4 * 1e6 < body["totalCostUsd"] < 13 * 1e6 - 4 * 1e6 + 100
    savings = client.get(f"{BASE}/cache-savings?{query}", headers=auth(data.org)).get_json()
    assert 0 <= savings["hitRate"] <= 1
    assert body["unpricedExecutions"] == int(ref.in_window(data.rows, ref.Window.of(f))["cost_is_null"].sum())
    users = client.get(f"{BASE}/by-user?{query}", headers=auth(data.org)).get_json()
    assert sum(u["tokens"] for u in users["users"]) + users["others"]["tokens"] == want["total_tokens"]
    assert all(u["tokens"] >= 0 for u in users["users"])
