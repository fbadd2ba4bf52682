"""The comparison (contract §3.2) and /by-user (§3.3) through the API, against plain pandas.

Every answer is compared with support.reference(_compare) over the same rows, on SQLite and
PostgreSQL, through the raw facts path and through rollups with a live tail: random
windows in zones offset by 45 minutes (Kathmandu), −3:30 (St John's, with DST), New York
across its 23- and 25-hour days and Lord Howe, random sources and filters, compare=previous
and year, with the clock after the window or inside it (the earlier window is then cut at
now moved back). Costs to 1e-8 US$ (far finer than a cent); by-user's rows and `others`
add up to the summary's totals in both windows. A window holding 29 February has its own
rows (tests/support/query_data.py has no leap day).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from support import reference as ref, reference_compare as rcmp, reference_cost as rc
from support.api import BASE, SECRET, auth, check, make_app
from support.db import insert_agents, insert_logs
from test_queries import data, load, rolled
from test_slices import random_slice

from queries.filters import local_instant
from storage.answer_cache import AnswerCache
from storage.lru import LocalBackend
from web import context

__all__ = ["data", "rolled"]  # fixtures, used by name

NOW = datetime(2027, 1, 4, 12, tzinfo=UTC)  # after every window but the "so far" ones
ZONES = ["Asia/Kathmandu", "America/St_Johns", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"]
LENGTHS = [1, 2, 5, 7, 10, 31, 45, 92, 120, 200, 400]
COMPARED = ["summary", "cache-savings", "time-series", "model-efficiency", "by-agent", "by-user"]
TOL = 5e-9  # costs are sums of integers of 1e-8 US$
E8 = 100_000_000
PREV = ("previousCostUsd", "previousTokens", "previousExecutions")
PLAIN = ("costUsd", "tokens", "executions")


class Clock:
    def __init__(self):
        self.at = NOW

    def __call__(self):
        return self.at


def _served(ds, use_rollups: bool) -> SimpleNamespace:
    clock = Clock()
    with ds.engine.connect() as c:
        prices = rc.load_price_rows(c)
    app = make_app(ds.engine, clock=clock, use_rollups=use_rollups)
    return SimpleNamespace(app=app, client=app.server.test_client(), clock=clock, ds=ds, prices=prices)


@pytest.fixture(scope="module")
def served(data, rolled):
    """Apps on the query data set: raw rows, and rollups refreshed before the late rows."""
    return {"raw": _served(data, False), "rollup": _served(rolled, True)}


def get(s, route, params, now=NOW, status=200):
    s.clock.at = now
    resp = s.client.get(f"{BASE}/{route}", query_string=params, headers=auth(s.ds.org))
    return check(resp, route, status)


def cost_ok(usd, e8) -> bool:
    return abs(float(usd) - e8 / E8) < TOL


def e8(usd) -> int:
    return round(float(usd) * E8)


def applied(days: int) -> str:
    return "hour" if days <= 7 else "day" if days <= 90 else "week" if days <= 365 else "month"


# ------------------------------------------------------------------ one question, every route


def question(start: date, end: date, tz: str, mode: str | None, now=NOW, source="all", sl=None, limit=50):
    return SimpleNamespace(start=start, end=end, tz=tz, mode=mode, now=now, source=source, sl=sl or {}, limit=limit)


def params_of(q, route) -> list[tuple[str, str]]:
    p = [("from", q.start.isoformat()), ("to", q.end.isoformat()), ("timezone", q.tz), ("source", q.source)]
    p += [(k, v) for k, vs in q.sl.items() for v in vs]
    if q.mode:
        p.append(("compare", q.mode))
    if route == "by-user":
        p.append(("limit", str(q.limit)))
    return p


def windows(s, q):
    rows = ref.sliced(s.ds.rows, q.sl)
    w = ref.Window(q.tz, q.start, q.end, q.source, applied((q.end - q.start).days + 1), pd.Timestamp(q.now))
    prows, pw, then = rcmp.earlier(rows, w, q.mode or "previous")
    return rows, w, prows, pw, then


def check_question(s, q) -> None:
    """Every compared route's answer for q equals the reference, and by-user adds up."""
    rows, w, prows, pw, then = windows(s, q)
    got = {r: get(s, r, params_of(q, r), q.now) for r in COMPARED}
    got["time-series-action"] = get(s, "time-series", [*params_of(q, "time-series"), ("groupBy", "action")], q.now)
    compared = q.mode is not None
    _summary(got["summary"], rows, w, prows, pw, then, compared)
    _cache(got["cache-savings"], s.prices, rows, w, prows, pw, then, compared)
    for name, by_action in (("time-series", False), ("time-series-action", True)):
        _series(got[name]["points"], rows, w, prows, pw, by_action, compared)
    _models(got["model-efficiency"]["models"], rows, w, prows, pw, compared)
    _agents(got["by-agent"]["agents"], s.ds.agents, rows, w, prows, pw, compared)
    _users(got["by-user"], rows, w, prows, pw, q.limit, compared)
    # by-user adds up to the summary, in each window
    u, sm = got["by-user"], got["summary"]
    sides = [(("costUsd", "tokens", "executions"), sm)]
    if compared:
        sides.append((PREV, sm["previous"]))
    for (cost, tokens, execs), total in sides:
        rows_sum = sum(e8(r[cost]) for r in u["users"]) + e8(u["others"][cost])
        assert rows_sum == e8(total["totalCostUsd"]), cost
        assert sum(r[execs] for r in u["users"]) + u["others"][execs] == total["executions"], execs
        assert sum(r[tokens] for r in u["users"]) + u["others"][tokens] == total["totalTokens"], tokens


def same_instant(text: str, ts: pd.Timestamp) -> bool:
    """An ISO-8601 answer names ts: the same instant, with ts's local offset."""
    got = datetime.fromisoformat(text)
    return got.astimezone(UTC) == ts.tz_convert("UTC").to_pydatetime() and got.utcoffset() == ts.utcoffset()


def _summary(body, rows, w, prows, pw, then, compared):
    want = ref.summary(rows, w)
    assert cost_ok(body["totalCostUsd"], want["total_cost_e8"])
    assert body["executions"] == want["executions"] and body["totalTokens"] == want["total_tokens"]
    if not compared:
        assert "previous" not in body
        return
    p, pwant = body["previous"], ref.summary(prows, pw)
    assert cost_ok(p["totalCostUsd"], pwant["total_cost_e8"])
    for k in ("total_tokens", "total_input_tokens", "total_output_tokens", "total_cache_read_tokens", "executions"):
        camel = "".join(x.capitalize() if i else x for i, x in enumerate(k.split("_")))
        assert p[camel] == pwant[k], k
    assert p["unpricedExecutions"] == int(ref.in_window(prows, pw)["cost_is_null"].sum())
    a, b = rcmp.bounds(pw, then)
    assert same_instant(p["from"], a) and same_instant(p["to"], b), (p["from"], p["to"], a, b)
    assert (p["timezone"], p["source"]) == (w.timezone, w.source)


def _cache(body, prices, rows, w, prows, pw, then, compared):
    want = rc.cache_economics(rows, w, prices)
    assert abs(body["estimatedSavingsUsd"] - float(want["estimated_savings_usd"])) < TOL
    if not compared:
        assert "previous" not in body
        return
    p, pwant = body["previous"], rc.cache_economics(prows, pw, prices)
    assert "points" not in p
    assert p["totalCacheReadTokens"] == pwant["total_cache_read_tokens"]
    assert p["totalInputTokens"] == pwant["total_input_tokens"]
    assert p["cacheWriteTokens"] == pwant["cache_write_tokens"]
    assert p["skippedModelsCount"] == pwant["skipped_models_count"]
    for k, wk in (("estimatedSavingsUsd", "estimated_savings_usd"), ("writePremiumUsd", "write_premium_usd")):
        assert abs(p[k] - float(pwant[wk])) < TOL, k
    assert abs(p["netSavingsUsd"] - float(pwant["net_savings_usd"])) < TOL
    if pwant["hit_rate"] is None:
        assert p["hitRate"] is None
    else:
        assert abs(p["hitRate"] - pwant["hit_rate"]) < 1e-9
    a, b = rcmp.bounds(pw, then)
    assert same_instant(p["from"], a) and same_instant(p["to"], b), (p["from"], p["to"], a, b)


def _series(points, rows, w, prows, pw, by_action, compared):
    cur = ref.time_series(rows, w, by_action).to_dict("records")
    assert len(points) == len(cur)
    for p, c in zip(points, cur):
        assert same_instant(p["bucket"], c["bucket"]), (p["bucket"], c["bucket"])
        assert cost_ok(p["costUsd"], c["cost_e8"]) and (p["tokens"], p["executions"]) == (c["tokens"], c["executions"])
        if by_action:
            assert p["actionType"] == c["action_type"]
    if not compared:
        assert all("previousCostUsd" not in p for p in points)
        return
    before = ref.time_series(prows, pw, by_action).to_dict("records")
    want = rcmp.by_position(cur, before, "action_type" if by_action else None)
    for p, b in zip(points, want):
        assert cost_ok(p["previousCostUsd"], b["cost_e8"]), p
        assert (p["previousTokens"], p["previousExecutions"]) == (b["tokens"], b["executions"]), p


def _rows_beside(got, cur_keys, prev_by_key, key_of):
    """The current rows first, then the earlier-only ones by earlier cost descending."""
    keys = [key_of(r) for r in got]
    n = len(cur_keys)
    assert set(keys[:n]) == set(cur_keys) and len(keys) == len(set(keys))
    assert set(keys[n:]) == set(prev_by_key) - set(cur_keys)
    tail = [r["previousCostUsd"] for r in got[n:]]
    assert tail == sorted(tail, reverse=True)
    return n


def _models(got, rows, w, prows, pw, compared):
    cur = {(r["provider"], r["model"]): r for r in ref.model_efficiency(rows, w).to_dict("records")}
    if not compared:
        assert sorted((r["provider"], r["model"]) for r in got) == sorted(cur)
        return
    prev = {(r["provider"], r["model"]): r for r in ref.model_efficiency(prows, pw).to_dict("records")}
    n = _rows_beside(got, list(cur), prev, lambda r: (r["provider"], r["model"]))
    for i, r in enumerate(got):
        k = (r["provider"], r["model"])
        if i < n:
            assert cost_ok(r["costUsd"], cur[k]["cost_e8"]) and r["executions"] == cur[k]["executions"]
        else:
            assert (r["costUsd"], r["executions"], r["inputTokens"]) == (0, 0, 0)
            assert r["avgLatencyMs"] is None and r["p50LatencyMs"] is None and r["p99LatencyMs"] is None
        p = prev.get(k)
        if p is None:
            assert (r["previousCostUsd"], r["previousTokens"], r["previousExecutions"]) == (0, 0, 0)
        else:
            assert cost_ok(r["previousCostUsd"], p["cost_e8"]) and r["previousExecutions"] == p["executions"]
            assert r["previousTokens"] == p["input_tokens"] + p["output_tokens"] + p["cache_read_tokens"]


def _agents(got, agents, rows, w, prows, pw, compared):
    cur = {r["agent_id"]: r for r in ref.by_agent(rows, agents, w).to_dict("records")}
    n_buckets = len(ref.all_buckets(w))
    if not compared:
        assert sorted(map(str, (r["agentId"] for r in got))) == sorted(map(str, cur))
        return
    prev = {r["agent_id"]: r for r in ref.by_agent(prows, agents, pw).to_dict("records")}
    n = _rows_beside(got, list(cur), prev, lambda r: r["agentId"])
    for i, r in enumerate(got):
        a = r["agentId"]
        assert len(r["sparkline"]) == n_buckets
        if i < n:
            assert cost_ok(r["costUsd"], cur[a]["cost_e8"]) and r["executions"] == cur[a]["executions"]
            assert all(cost_ok(g, e) for g, e in zip(r["sparkline"], cur[a]["sparkline_e8"]))
        else:
            assert (r["costUsd"], r["tokens"], r["executions"]) == (0, 0, 0) and set(r["sparkline"]) <= {0}
            name, avatar = agents.get(a, (a, None))
            assert (r["name"], r["avatarUrl"]) == (name, avatar)
        p = prev.get(a, {"cost_e8": 0, "tokens": 0, "executions": 0})
        assert cost_ok(r["previousCostUsd"], p["cost_e8"])
        assert (r["previousTokens"], r["previousExecutions"]) == (p["tokens"], p["executions"])


def _users(body, rows, w, prows, pw, limit, compared):
    n_buckets = len(ref.all_buckets(w))
    cur = rcmp.users(rows, w)
    want = rcmp.by_user(cur, rcmp.users(prows, pw) if compared else None, limit, n_buckets)
    assert [u["userId"] for u in body["users"]] == [u["user_id"] for u in want["users"]]
    assert body["totalUsers"] == want["total_users"]
    for g, u in zip(body["users"], want["users"]):
        assert cost_ok(g["costUsd"], u["cost_e8"]) and (g["tokens"], g["executions"]) == (u["tokens"], u["executions"])
        assert len(g["sparkline"]) == n_buckets
        assert all(cost_ok(a, b) for a, b in zip(g["sparkline"], u["sparkline_e8"]))
        if compared:
            assert cost_ok(g["previousCostUsd"], u["previous_cost_e8"])
            assert (g["previousTokens"], g["previousExecutions"]) == (u["previous_tokens"], u["previous_executions"])
        else:
            assert "previousCostUsd" not in g
    o, wo = body["others"], want["others"]
    assert cost_ok(o["costUsd"], wo["cost_e8"]) and (o["tokens"], o["executions"]) == (wo["tokens"], wo["executions"])
    if compared:
        assert cost_ok(o["previousCostUsd"], wo["previous_cost_e8"])
        assert (o["previousTokens"], o["previousExecutions"]) == (wo["previous_tokens"], wo["previous_executions"])
    else:
        assert "previousCostUsd" not in o


# ------------------------------------------------------------------ random questions


def random_question(rng: random.Random, org: str):
    tz, n, mode = rng.choice(ZONES), rng.choice(LENGTHS), rng.choice(["previous", "year"])
    lo = date(2025, 10, 1) if mode == "previous" else date(2026, 9, 25)
    start = lo + timedelta(days=rng.randrange(max(1, (date(2026, 12, 31) - lo).days - n)))
    end = start + timedelta(days=n - 1)
    now = NOW
    if rng.random() < 0.4:  # the window holds now: the earlier window is cut at now moved back
        day = start + timedelta(days=rng.randrange(n))
        wall = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), rng.randrange(60))
        now = local_instant(wall.replace(microsecond=rng.randrange(10**6)), ZoneInfo(tz))
    sl = random_slice(rng, org) if rng.random() < 0.4 else {}
    return question(start, end, tz, mode, now, rng.choice(["all", "system", "byok"]), sl, rng.randint(1, 7))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_random_comparisons_equal_the_reference(served, path, seed):
    s = served[path]
    q = random_question(random.Random(seed * 7919 + (path == "rollup")), s.ds.org)
    check_question(s, q)


# DST days, half- and three-quarter-hour zones, "so far" windows: each mode, each path.
FIXED = [
    ("America/New_York", date(2026, 11, 1), date(2026, 11, 1), "previous", NOW),  # 25 hours vs 24
    ("America/New_York", date(2026, 3, 8), date(2026, 3, 14), "year", NOW),  # 23-hour day vs none
    ("America/St_Johns", date(2026, 10, 28), date(2026, 11, 10), "previous", NOW),
    ("Asia/Kathmandu", date(2026, 10, 1), date(2026, 10, 31), "year", NOW),
    ("Asia/Kathmandu", date(2026, 12, 1), date(2026, 12, 31), "previous", datetime(2026, 12, 17, 9, 50, tzinfo=UTC)),
    ("America/St_Johns", date(2026, 11, 1), date(2026, 11, 30), "year", datetime(2026, 11, 16, 2, 31, tzinfo=UTC)),
    ("America/New_York", date(2026, 11, 2), date(2026, 11, 8), "previous", datetime(2026, 11, 8, 6, 45, tzinfo=UTC)),
    # no current usage (the data end on 2027-01-05): every row comes from the earlier window
    ("Asia/Kathmandu", date(2027, 2, 1), date(2027, 2, 28), "year", datetime(2027, 3, 15, 8, tzinfo=UTC)),
    ("America/St_Johns", date(2027, 1, 20), date(2027, 2, 18), "previous", datetime(2027, 3, 1, tzinfo=UTC)),
]


@pytest.mark.parametrize("tz,start,end,mode,now", FIXED, ids=lambda v: str(v))
@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_fixed_comparisons(served, path, tz, start, end, mode, now):
    s = served[path]
    check_question(s, question(start, end, tz, mode, now, limit=3))


def test_without_compare_nothing_is_added(served):
    s = served["raw"]
    check_question(s, question(date(2026, 10, 1), date(2026, 10, 31), "Asia/Kathmandu", None, limit=2))


@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_users_none_filter_and_limits(served, path):
    """NULL users (userId=none): one row with userId null; every limit adds up."""
    s = served[path]
    for sl, limit in (({"userId": ["none"]}, 1), ({"userId": ["none", "u1"]}, 1), ({}, 1000), ({}, 2)):
        q = question(date(2026, 9, 1), date(2026, 11, 30), "America/St_Johns", "previous", sl=sl, limit=limit)
        check_question(s, q)
    body = get(s, "by-user", [("from", "2026-09-01"), ("to", "2026-11-30"), ("userId", "none")])
    assert [u["userId"] for u in body["users"]] == [None] and body["totalUsers"] == 1
    assert body["filters"] == {"userId": ["none"]}


def test_the_cut_at_now_leaves_out_the_earlier_rows_after_it(served):
    """A month so far vs the previous month so far: the earlier month's rows after now
    moved back are not counted (the data set has rows there)."""
    s = served["raw"]
    now = datetime(2026, 12, 16, 12, 5, tzinfo=UTC)
    q = question(date(2026, 12, 1), date(2026, 12, 31), "UTC", "previous", now)
    body = get(s, "summary", params_of(q, "summary"), now)
    whole = get(s, "summary", [("from", "2026-10-31"), ("to", "2026-11-30"), ("timezone", "UTC")], now)
    assert body["previous"]["to"] == "2026-11-15T12:05:00+00:00"
    assert 0 < body["previous"]["executions"] < whole["executions"]
    check_question(s, q)


# ------------------------------------------------------------------ previous* = the plain earlier answer


def _plain(s, q, route, now, extra=()):
    days = (q.end - q.start).days + 1
    a, b = q.start - timedelta(days=days), q.end - timedelta(days=days)
    p = [("from", a.isoformat()), ("to", b.isoformat()), ("timezone", q.tz), ("source", q.source), *extra]
    p += [(k, v) for k, vs in q.sl.items() for v in vs]
    return get(s, route, p, now)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_previous_is_the_plain_answer_of_the_earlier_window(served, path, seed):
    """For a wholly past window (previous mode), previous* equal the plain answers asked
    with the earlier window's explicit from/to (granularity pinned to the current one)."""
    s, rng = served[path], random.Random(1000 + seed)
    n = rng.choice([3, 7, 20, 60])
    start = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
    sl = random_slice(rng, s.ds.org) if seed else {}
    q = question(start, start + timedelta(days=n - 1), rng.choice(ZONES), "previous", sl=sl, limit=3)
    gran = ("granularity", applied(n))
    cur = {r: get(s, r, [*params_of(q, r), gran]) for r in COMPARED}
    plain = {r: _plain(s, q, r, NOW, [gran, ("limit", "1000")] if r == "by-user" else [gran]) for r in COMPARED}
    prev = dict(cur["summary"]["previous"])
    assert prev == {k: v for k, v in plain["summary"].items() if k != "filters"}
    cp = cur["cache-savings"]["previous"]
    assert {k: v for k, v in cp.items() if k not in ("from", "to")} == {
        k: plain["cache-savings"][k] for k in cp if k not in ("from", "to")
    }
    assert (cp["from"], cp["to"]) == (plain["summary"]["from"], plain["summary"]["to"])
    for p, e in zip(cur["time-series"]["points"], plain["time-series"]["points"] + [None] * 10**4):
        assert [p[k] for k in PREV] == ([e[k] for k in PLAIN] if e else [0, 0, 0])
    models = {(r["provider"], r["model"]): r for r in plain["model-efficiency"]["models"]}
    for r in cur["model-efficiency"]["models"]:
        e = models.get((r["provider"], r["model"]))
        toks = e and e["inputTokens"] + e["outputTokens"] + e["cacheReadTokens"]
        assert [r[k] for k in PREV] == ([e["costUsd"], toks, e["executions"]] if e else [0, 0, 0])
    for route, list_key, key in (("by-agent", "agents", "agentId"), ("by-user", "users", "userId")):
        by_key = {r[key]: r for r in plain[route][list_key]}
        for r in cur[route][list_key]:
            e = by_key.get(r[key])
            assert [r[k] for k in PREV] == ([e[k] for k in PLAIN] if e else [0, 0, 0]), (route, r)


# ------------------------------------------------------------------ 29 February


def leap_rows(org: str, agent: str) -> list[dict]:
    """A row every 7 h 13 min from 2023-01-20 to 2024-03-25: users, agents, models, sources."""
    out, at, i = [], datetime(2023, 1, 20, 0, 7, tzinfo=UTC), 0
    models = [("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"), ("openai", "text-embedding-3-small")]
    while at < datetime(2024, 3, 25, tzinfo=UTC):
        provider, model = models[i % 3]
        out.append(
            {
                "org_id": org,
                "created_at": at,
                "agent_id": None if i % 6 == 0 else f"{agent}{i % 4}",
                "user_id": None if i % 5 == 0 else f"lu{i % 7}",
                "action_type": ref.ACTIONS[i % 5],
                "source": "system" if i % 3 else "byok",
                "provider": provider,
                "model": model,
                "input_tokens": 100 + i % 97,
                "output_tokens": 10 + i % 13,
                "cache_read_tokens": (i * 37) % 400,
                "cache_write_tokens": (i * 11) % 50,
                "cost_usd": None if i % 11 == 0 else Decimal(f"0.{(i * 7919) % 10**8:08d}"),
                "latency_ms": None if i % 9 == 0 else 100 + i % 900,
            }
        )
        at += timedelta(hours=7, minutes=13)
        i += 1
    return out


@pytest.fixture(scope="module")
def leap(engine):
    """A data set over February 2023 and February 2024 (one org), served raw and rolled."""
    ds = load(engine)  # the regular data set gives the org its agents and price overrides
    insert_logs(engine, leap_rows(ds.org, f"{ds.org}-leap"))
    insert_agents(engine, [{"id": f"{ds.org}-leap1", "org_id": ds.org, "name": "Bisiesto", "avatar_url": None}])
    with engine.connect() as c:
        ds.rows, ds.agents = ref.load_rows(c, ds.org), ref.load_agents(c, ds.org)
    return {"raw": _served(ds, False), "rollup": _served(ds, True)}


LEAP = [
    ("UTC", date(2024, 2, 29), date(2024, 2, 29), "year", NOW),  # -> 2023-02-28
    ("Asia/Kathmandu", date(2024, 2, 1), date(2024, 2, 29), "year", NOW),  # 29 days vs 28
    ("America/St_Johns", date(2024, 2, 25), date(2024, 3, 5), "year", NOW),
    ("America/New_York", date(2024, 3, 1), date(2024, 3, 31), "previous", NOW),  # -> 2024-01-30 .. 02-29
    ("Asia/Kathmandu", date(2024, 3, 1), date(2024, 3, 31), "previous", datetime(2024, 3, 20, 4, 20, tzinfo=UTC)),
    ("UTC", date(2024, 2, 20), date(2024, 3, 10), "year", datetime(2024, 2, 29, 15, 0, tzinfo=UTC)),  # now on 29 Feb
]


@pytest.mark.parametrize("tz,start,end,mode,now", LEAP, ids=lambda v: str(v))
@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_leap_day(leap, path, tz, start, end, mode, now):
    check_question(leap[path], question(start, end, tz, mode, now, limit=4))


def test_leap_day_maps_to_28_february(leap):
    s = leap["raw"]
    body = get(s, "summary", [("from", "2024-02-29"), ("to", "2024-02-29"), ("compare", "year")])
    assert (body["previous"]["from"], body["previous"]["to"]) == (
        "2023-02-28T00:00:00+00:00",
        "2023-03-01T00:00:00+00:00",
    )
    now = datetime(2024, 2, 29, 15, 0, tzinfo=UTC)
    body = get(s, "summary", [("from", "2024-02-01"), ("to", "2024-02-29"), ("compare", "year")], now)
    assert body["previous"]["to"] == "2023-02-28T15:00:00+00:00"  # now moved back a year: 28 February


# ------------------------------------------------------------------ bad input, routes without compare


@pytest.mark.parametrize("route", COMPARED)
def test_bad_compare_is_a_400(served, route):
    s = served["raw"]
    base = [("from", "2026-10-01"), ("to", "2026-10-31")]
    for value in ("bogus", "prev", "years"):
        err = get(s, route, [*base, ("compare", value)], status=400)["error"]
        assert (err["parameter"], err["code"]) == ("compare", "invalid_compare")
    err = get(s, route, [("from", "1970-01-01"), ("to", "1970-01-31"), ("compare", "previous")], status=400)["error"]
    assert (err["parameter"], err["code"]) == ("compare", "date_out_of_range")
    err = get(s, route, [("from", "1970-02-01"), ("to", "1970-02-28"), ("compare", "year")], status=400)["error"]
    assert err["parameter"] == "compare"
    ok = get(s, route, [("from", "1970-02-01"), ("to", "1970-02-28"), ("compare", "previous")])  # 1970-01-04 ..
    assert ok["filters"] == {}


@pytest.mark.parametrize("value", ["0", "1001", "abc", "-1", "1.5", "1e3", " ", "9" * 5000, "٣"])
def test_bad_limit_is_a_400(served, value):
    err = get(served["raw"], "by-user", [("preset", "7d"), ("limit", value)], status=400)["error"]
    assert (err["parameter"], err["code"]) == ("limit", "invalid_limit")
    assert err["message"].startswith("'limit' must be a whole number from 1 to 1000 (default 50); got ")


def test_limit_bounds_are_allowed(served):
    s = served["raw"]
    window = [("from", "2026-09-01"), ("to", "2026-11-30"), ("timezone", "Asia/Kathmandu")]
    one = get(s, "by-user", [*window, ("limit", "1")])
    most = get(s, "by-user", [*window, ("limit", "1000")])
    default = get(s, "by-user", window)
    assert len(one["users"]) == 1 and one["totalUsers"] == len(most["users"]) == len(default["users"])
    assert most["others"] == {"costUsd": 0.0, "tokens": 0, "executions": 0}


@pytest.mark.parametrize("route", ["projection", "heatmap", "anomalies"])
def test_routes_without_compare_ignore_it(served, route):
    """Same bytes with any compare value, and the answer cache serves them one entry."""
    s = served["raw"]
    app = make_app(s.ds.engine, clock=lambda: NOW, use_rollups=False)
    context.attach_cache(app.server, AnswerCache(LocalBackend(), SECRET, "cmp:"))
    client = app.server.test_client()
    window = [("from", "2026-10-01"), ("to", "2026-12-31"), ("timezone", "Asia/Kathmandu")]

    def raw(extra):
        resp = client.get(f"{BASE}/{route}", query_string=[*window, *extra], headers=auth(s.ds.org))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_data()

    plain = raw([])
    misses = context.cache(app.server).counters.snapshot()["misses"]
    for extra in ([("compare", "previous")], [("compare", "year")], [("compare", "bogus")], [("compare", "")]):
        assert raw(extra) == plain, extra
    assert context.cache(app.server).counters.snapshot()["misses"] == misses
    early = [("from", "1970-01-01"), ("to", "1970-01-10")]
    resp = client.get(f"{BASE}/{route}", query_string=[*early, ("compare", "previous")], headers=auth(s.ds.org))
    assert resp.status_code == 200


def test_the_cache_keys_the_comparison(served):
    s = served["raw"]
    app = make_app(s.ds.engine, clock=lambda: NOW, use_rollups=False)
    context.attach_cache(app.server, AnswerCache(LocalBackend(), SECRET, "cmp2:"))
    client = app.server.test_client()
    window = [("from", "2026-10-01"), ("to", "2026-10-31"), ("timezone", "Asia/Kathmandu")]

    def body(extra):
        resp = client.get(f"{BASE}/summary", query_string=[*window, *extra], headers=auth(s.ds.org))
        return resp.get_json()

    plain, prev, year = body([]), body([("compare", "previous")]), body([("compare", "year")])
    assert "previous" not in plain and prev["previous"]["from"] != year["previous"]["from"]
    assert body([]) == plain and body([("compare", "previous")]) == prev
