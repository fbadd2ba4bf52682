"""The API's routes: values equal the query layer's frames (and a hand count), bad input is a 400."""

from __future__ import annotations

import gzip
from datetime import date, timedelta

import brotli
import pytest
from support.api import BASE, MORE_ROUTES, ROUTES, SECRET, WINDOW, auth, check, dataset, log, utc
from support.db import insert_agents, insert_logs

import queries
from api import bodies
from queries.filters import parse_filters
from storage.settings import Settings


class Clock:
    """The app's clock: NOW unless a test sets another instant."""

    def __init__(self):
        self.at = NOW

    def __call__(self):
        return self.at


NOW = utc(2026, 11, 3, 17)  # the day after WINDOW (noon in New York): nothing in WINDOW is future
CLOCK = Clock()


@pytest.fixture(scope="module")
def app(engine):
    from support.api import make_app

    return make_app(engine, clock=CLOCK)


@pytest.fixture(autouse=True)
def _clock():
    CLOCK.at = NOW
    yield
    CLOCK.at = NOW


@pytest.fixture
def org(engine, org_id):
    logs, agents = dataset(org_id)
    insert_logs(engine, logs)
    insert_agents(engine, agents)
    return org_id


def get(client, org_id, route, **params):
    return client.get(f"{BASE}/{route}", query_string=params, headers=auth(org_id))


def frame_filters(org_id, default_source="all", **params):
    return parse_filters(params, org_id, now=CLOCK.at, default_source=default_source)


# ------------------------------------------------------------------ happy paths


def test_summary_counts_the_window_hand_checked(client, org):
    body = check(get(client, org, "summary", **WINDOW), "summary")
    assert body == {
        "filters": {},  # no filter applied (contract §3.1)
        "from": "2026-10-30T00:00:00-04:00",
        "to": "2026-11-03T00:00:00-05:00",  # exclusive, after the fall-back
        "timezone": "America/New_York",
        "source": "all",
        "totalCostUsd": pytest.approx(0.51274, abs=1e-12),
        "totalTokens": 3750 + 330 + 1700,
        "totalInputTokens": 3750 + 1700,
        "totalOutputTokens": 330,
        "totalCacheReadTokens": 1700,
        "executions": 5,
        # One call without a price (the byok guardrail check, gpt-4o-mini at US$ 0.15 in /
        # 0.60 out per MTok): 300 × 0.15 + 20 × 0.60 = 57 per million. Not in totalCostUsd.
        "unpricedExecutions": 1,
        "estimatedUnpricedCostUsd": pytest.approx(0.000057, abs=1e-12),
    }
    for key in ("totalTokens", "totalInputTokens", "totalOutputTokens", "totalCacheReadTokens", "executions"):
        assert type(body[key]) is int
    assert type(body["totalCostUsd"]) is float


def test_summary_source_filter(client, org):
    body = check(get(client, org, "summary", source="byok", **WINDOW), "summary")
    assert (body["source"], body["executions"], body["totalCostUsd"]) == ("byok", 2, 0.5)
    body = check(get(client, org, "summary", source="system", **WINDOW), "summary")
    assert (body["executions"], body["totalCostUsd"]) == (3, pytest.approx(0.01274, abs=1e-12))


def test_summary_preset_window_is_local_today(client, org_id):
    body = check(get(client, org_id, "summary", preset="7d", timezone="Asia/Kathmandu"), "summary")
    f = frame_filters(org_id, preset="7d", timezone="Asia/Kathmandu")
    assert body["from"] == f.start_utc.astimezone(f.tz).isoformat()
    assert body["from"].endswith("T00:00:00+05:45")
    assert body["executions"] == 0 and body["totalCostUsd"] == 0


def test_cache_savings_defaults_to_system(client, org, engine):
    body = check(get(client, org, "cache-savings", **WINDOW), "cache-savings")
    with engine.connect() as c:
        r = queries.cache_savings(c, frame_filters(org, "system", **WINDOW)).iloc[0]
    assert body["source"] == "system"
    assert (body["totalCacheReadTokens"], body["totalInputTokens"]) == (500, 3550)
    assert body["hitRate"] == pytest.approx(500 / 3550)
    assert body["estimatedSavingsUsd"] == pytest.approx(float(r["estimated_savings_usd"]))
    assert body["skippedModelsCount"] == int(r["skipped_models_count"])
    all_ = check(get(client, org, "cache-savings", source="all", **WINDOW), "cache-savings")
    assert (all_["source"], all_["totalCacheReadTokens"], all_["totalInputTokens"]) == ("all", 1700, 5450)


def test_cache_savings_hit_rate_null_without_input(client, org_id):
    body = check(get(client, org_id, "cache-savings", **WINDOW), "cache-savings")
    assert body["hitRate"] is None and body["totalInputTokens"] == 0 and body["skippedModelsCount"] == 0


def test_projection_insufficient_data(client, org):
    body = check(get(client, org, "projection", **WINDOW), "projection")
    assert body == {
        "filters": {},  # no filter applied (contract §3.1)
        "status": "insufficient_data",
        "asOf": "2026-11-02",
        "monthStart": None,
        "monthEnd": None,
        "monthToDateUsd": None,
        "projectedTotalUsd": None,
        "lower80": None,
        "upper80": None,
        "dailyPoints": 3,
    }


def _march(engine, org_id):
    insert_logs(
        engine,
        [log(org_id, utc(2026, 3, d, 12), inp=10 * d, cost=str(1 + d * 0.25 + (d % 3) * 0.1)) for d in range(1, 32)],
    )
    return lambda last: sum(1 + d * 0.25 + (d % 3) * 0.1 for d in range(1, last + 1))


def test_projection_ok_equals_the_query_layer(client, engine, org_id):
    cost_to = _march(engine, org_id)
    CLOCK.at = utc(2026, 3, 13, 8)  # 09:00 in Madrid: the window ends yesterday
    params = {"from": "2026-03-01", "to": "2026-03-12", "timezone": "Europe/Madrid"}
    body = check(get(client, org_id, "projection", **params), "projection")
    with engine.connect() as c:
        p = queries.projection(c, frame_filters(org_id, **params))
    assert p.status == "ok"
    assert body == {
        "filters": {},  # no filter applied (contract §3.1)
        "status": "ok",
        "asOf": "2026-03-12",
        "monthStart": "2026-03-01",
        "monthEnd": "2026-03-31",
        "monthToDateUsd": pytest.approx(p.month_to_date_usd),
        "projectedTotalUsd": pytest.approx(p.projected_total_usd),
        "lower80": pytest.approx(p.lower80),
        "upper80": pytest.approx(p.upper80),
        "dailyPoints": 12,
    }
    assert body["monthToDateUsd"] == pytest.approx(cost_to(12))
    assert body["lower80"] <= body["projectedTotalUsd"] <= body["upper80"]


def test_projection_window_into_the_future_is_as_of_today(client, engine, org_id):
    """A range past today: asOf is today, today's row counts to date but is no fitting
    point, the rest of today is forecast, and the interval has width."""
    cost_to = _march(engine, org_id)
    CLOCK.at = utc(2026, 3, 20, 17)  # 18:00 in Madrid; the row of the 20th (12:00 UTC) is in
    params = {"from": "2026-03-01", "to": "2026-04-10", "timezone": "Europe/Madrid"}
    body = check(get(client, org_id, "projection", **params), "projection")
    assert (body["status"], body["asOf"], body["dailyPoints"]) == ("ok", "2026-03-20", 19)
    assert body["monthToDateUsd"] == pytest.approx(cost_to(20))
    assert body["upper80"] - body["lower80"] > 0.01
    with engine.connect() as c:
        p = queries.projection(c, frame_filters(org_id, **params))
    assert body["projectedTotalUsd"] == pytest.approx(p.projected_total_usd)
    assert p.forecast["weight"].iloc[0] == pytest.approx(6 / 24)  # 18:00 -> midnight of a 24-hour day


def test_projection_of_a_past_month_is_closed(client, engine, org_id):
    cost_to = _march(engine, org_id)
    CLOCK.at = utc(2026, 4, 2, 9)
    params = {"from": "2026-03-10", "to": "2026-03-15", "timezone": "Europe/Madrid"}
    body = check(get(client, org_id, "projection", **params), "projection")
    total = pytest.approx(cost_to(31))  # the whole of March, not only the window's six days
    assert body == {
        "filters": {},  # no filter applied (contract §3.1)
        "status": "closed",
        "asOf": "2026-03-15",
        "monthStart": "2026-03-01",
        "monthEnd": "2026-03-31",
        "monthToDateUsd": total,
        "projectedTotalUsd": total,
        "lower80": total,
        "upper80": total,
        "dailyPoints": 6,
    }


def test_time_series_hourly_over_the_25_hour_day(client, org, engine):
    body = check(get(client, org, "time-series", **WINDOW), "time-series")
    assert (body["granularity"], body["timezone"]) == ("hour", "America/New_York")
    points = body["points"]
    assert len(points) == 4 * 24 + 1
    buckets = [p["bucket"] for p in points]
    assert buckets[0] == "2026-10-30T00:00:00-04:00" and buckets[-1] == "2026-11-02T23:00:00-05:00"
    by = {p["bucket"]: p for p in points}
    assert by["2026-11-01T01:00:00-04:00"]["executions"] == 1 and by["2026-11-01T01:00:00-04:00"]["tokens"] == 60
    assert by["2026-11-01T01:00:00-05:00"]["executions"] == 1 and by["2026-11-01T01:00:00-05:00"]["tokens"] == 2000
    assert sum(p["executions"] for p in points) == 5
    with engine.connect() as c:
        df = queries.time_series(c, frame_filters(org, **WINDOW))
    assert buckets == [t.isoformat() for t in df["bucket"]]
    assert [p["costUsd"] for p in points] == pytest.approx(df["cost_usd"].tolist())
    assert [p["tokens"] for p in points] == df["tokens"].tolist()
    assert all(type(p["tokens"]) is int and type(p["executions"]) is int for p in points)


def test_time_series_daily_group_by_action(client, org, engine):
    params = {**WINDOW, "granularity": "day", "groupBy": "action"}
    body = check(get(client, org, "time-series", **params), "time-series")
    assert body["granularity"] == "day"
    with engine.connect() as c:
        df = queries.time_series(c, frame_filters(org, **WINDOW, granularity="day"), by_action=True)
    assert len(body["points"]) == len(df) == 4 * 5
    got = [(p["bucket"], p["actionType"], p["executions"], p["tokens"]) for p in body["points"]]
    assert got == [
        (b.isoformat(), a, e, t) for b, a, e, t in zip(df["bucket"], df["action_type"], df["executions"], df["tokens"])
    ]
    nov1 = {p["actionType"]: p for p in body["points"] if p["bucket"] == "2026-11-01T00:00:00-04:00"}
    assert nov1["title_generation"]["executions"] == 1 and nov1["document_indexing"]["tokens"] == 2000
    assert nov1["user_interaction"]["executions"] == 0


def test_time_series_without_group_by_has_no_action_type(client, org):
    body = check(get(client, org, "time-series", granularity="week", **WINDOW), "time-series")
    assert [p["bucket"] for p in body["points"]] == ["2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00"]
    assert all("actionType" not in p for p in body["points"])
    assert [p["executions"] for p in body["points"]] == [4, 1]


def test_time_series_leaves_out_the_future_and_marks_partial_buckets(client, org, engine):
    CLOCK.at = utc(2026, 11, 2, 15)  # 10:00 EST on Monday 2 November
    params = {"from": "2026-10-28", "to": "2026-11-08", "timezone": "America/New_York"}
    body = check(get(client, org, "time-series", granularity="day", **params), "time-series")
    assert [p["bucket"][:10] for p in body["points"]] == [f"2026-10-{d}" for d in range(28, 32)] + [
        "2026-11-01",
        "2026-11-02",
    ]  # nothing after today: no zeros for the days to come
    assert [p["partial"] for p in body["points"]] == [False] * 5 + [True]
    weeks = check(get(client, org, "time-series", granularity="week", **params), "time-series")["points"]
    # The week of 26 Oct is cut by the window's start (Wednesday 28), the week of 2 Nov is running.
    assert [(p["bucket"][:10], p["partial"]) for p in weeks] == [("2026-10-26", True), ("2026-11-02", True)]
    actions = check(get(client, org, "time-series", granularity="day", groupBy="action", **params), "time-series")[
        "points"
    ]
    assert len(actions) == 6 * 5 and {p["partial"] for p in actions if p["bucket"].startswith("2026-11-02")} == {True}
    assert not any(p["partial"] for p in actions if not p["bucket"].startswith("2026-11-02"))
    agents = check(get(client, org, "by-agent", granularity="day", **params), "by-agent")["agents"]
    assert {len(a["sparkline"]) for a in agents} == {6}
    with engine.connect() as c:
        df = queries.time_series(c, frame_filters(org, **params, granularity="day"))
    assert [p["partial"] for p in body["points"]] == df["partial"].tolist()


def test_model_efficiency(client, org, engine):
    body = check(get(client, org, "model-efficiency", **WINDOW), "model-efficiency")
    models = body["models"]
    assert [(m["provider"], m["model"]) for m in models] == [
        ("anthropic", "claude-sonnet-4-5"),
        ("openai", "gpt-4o-mini"),
        ("openai", "text-embedding-3-small"),
    ]
    claude, mini, emb = models
    assert claude == {
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "costUsd": pytest.approx(0.5123),
        "inputTokens": 1400,
        "outputTokens": 300,
        "cacheReadTokens": 1700,
        "executions": 2,
        "avgLatencyMs": 900.0,
        # Latencies 800 and 1000 ms: nearest rank ⌈q·2⌉ gives 800, 1000, 1000 (within 1 %).
        "p50LatencyMs": pytest.approx(800, rel=0.01),
        "p95LatencyMs": pytest.approx(1000, rel=0.01),
        "p99LatencyMs": pytest.approx(1000, rel=0.01),
    }
    assert mini["avgLatencyMs"] == 120.0 and mini["executions"] == 2
    assert mini["p50LatencyMs"] == mini["p99LatencyMs"] == pytest.approx(120, rel=0.01)
    assert emb["avgLatencyMs"] is None and emb["p50LatencyMs"] is emb["p95LatencyMs"] is emb["p99LatencyMs"] is None
    with engine.connect() as c:
        df = queries.model_efficiency(c, frame_filters(org, **WINDOW))
    assert [m["costUsd"] for m in models] == pytest.approx(df["cost_usd"].tolist())


def test_by_agent(client, org, engine):
    body = check(get(client, org, "by-agent", granularity="day", **WINDOW), "by-agent")
    agents = body["agents"]
    assert [(a["agentId"], a["name"], a["avatarUrl"]) for a in agents] == [
        (f"{org}-a2", "Soporte", None),
        (f"{org}-a1", "Asistente de ventas", "https://x.test/a1.png"),
        (None, None, None),  # the page labels it 'Sin agente'; the API carries no UI language
    ]
    a2, a1, none = agents
    assert (a2["costUsd"], a2["tokens"], a2["executions"]) == (pytest.approx(0.5004), 60 + 1700, 2)
    assert a2["sparkline"] == pytest.approx([0, 0, 0.0004, 0.5])
    assert a1["sparkline"] == pytest.approx([0.0123, 0, 0, 0])
    assert none["sparkline"] == pytest.approx([0, 0, 0.00004, 0])
    with engine.connect() as c:
        df = queries.by_agent(c, frame_filters(org, **WINDOW, granularity="day"))
    assert [a["sparkline"] for a in agents] == [pytest.approx(s) for s in df["sparkline"]]


def test_heatmap(client, org, engine):
    body = check(get(client, org, "heatmap", **WINDOW), "heatmap")
    cells = {(c["dow"], c["hour"]): c for c in body["cells"]}
    # Fri 10:00 and 23:30 EDT; both Sunday 01:30s (EDT then EST) in one cell; Mon 10:00 EST.
    assert sorted(cells) == [(0, 1), (1, 10), (5, 10), (5, 23)]
    assert (cells[(0, 1)]["tokens"], cells[(0, 1)]["executions"]) == (2060, 2)
    assert cells[(0, 1)]["costUsd"] == pytest.approx(0.00044)
    with engine.connect() as c:
        df = queries.heatmap(c, frame_filters(org, **WINDOW))
    assert [(c["dow"], c["hour"], c["tokens"]) for c in body["cells"]] == list(
        zip(df["dow"].tolist(), df["hour"].tolist(), df["tokens"].tolist())
    )


def test_empty_org_answers_zeros_everywhere(client, org_id):
    for route in ROUTES:
        body = check(get(client, org_id, route, **WINDOW), route)
        assert body
    assert check(get(client, org_id, "model-efficiency", **WINDOW), "model-efficiency") == {"models": [], "filters": {}}
    assert check(get(client, org_id, "by-agent", **WINDOW), "by-agent") == {"agents": [], "filters": {}}
    assert check(get(client, org_id, "heatmap", **WINDOW), "heatmap")["cells"] == []


def test_head_and_compression(client, org):
    assert client.head(f"{BASE}/summary", headers=auth(org)).status_code == 200
    for enc, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        resp = client.get(f"{BASE}/time-series", query_string=WINDOW, headers={**auth(org), "Accept-Encoding": enc})
        assert resp.status_code == 200 and resp.headers["Content-Encoding"] == enc
        assert b'"points"' in decode(resp.data)


def test_openapi_json_needs_no_token(client):
    resp = client.get(f"{BASE}/openapi.json")
    doc = check(resp, "openapi.json")
    assert doc["openapi"].startswith("3.")
    others = {f"{BASE}/alerts"}  # routes without the window parameters
    assert set(doc["paths"]) == {f"{BASE}/{r}" for r in ROUTES + MORE_ROUTES} | {f"{BASE}/openapi.json"} | others
    assert "servers" not in doc  # served at the root


def test_prefix_is_honoured(engine, org):
    from app import create_app

    url = engine.url.render_as_string(hide_password=False)
    mounted = create_app(Settings(database_url=url, secret=SECRET), engine=engine, url_base_pathname="/tools/")
    c = mounted.server.test_client()
    assert c.get(f"/tools{BASE}/summary", query_string=WINDOW, headers=auth(org)).get_json()["executions"] == 5
    assert c.get(f"/tools{BASE}/openapi.json").get_json()["servers"] == [{"url": "/tools"}]
    assert c.get(f"{BASE}/summary", headers=auth(org)).status_code == 404


# ------------------------------------------------------------------ bad input -> 400

BAD = [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "invalid_timezone"),
    ({"timezone": "utc; drop table"}, "timezone", "invalid_timezone"),
    ({"from": "2026-13-01", "to": "2026-12-01"}, "from", "invalid_date"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from", "invalid_date"),
    ({"from": "2026/01/01", "to": "2026-01-02"}, "from", "invalid_date"),
    ({"from": "2026-01-01", "to": "yesterday"}, "to", "invalid_date"),
    ({"from": "2026-02-01", "to": "2026-01-01"}, "from", "invalid_window"),
    ({"from": "2026-01-01"}, "to", "incomplete_window"),
    ({"to": "2026-01-01"}, "from", "incomplete_window"),
    ({"from": "2020-01-01", "to": "2023-01-02"}, "from", "window_too_long"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "from", "date_out_of_range"),
    ({"from": "9999-12-31", "to": "9999-12-31"}, "to", "date_out_of_range"),
    ({"from": "1971-06-01", "to": "1971-06-30", "timezone": "Africa/Monrovia"}, "from", "zone_offset_out_of_range"),
    ({"preset": "1y"}, "preset", "invalid_preset"),
    ({"source": "everyone"}, "source", "invalid_source"),
    ({"granularity": "minute"}, "granularity", "invalid_granularity"),
    ({"from": "2026-01-01", "to": "2026-06-30", "granularity": "hour"}, "granularity", "too_many_buckets"),
]


@pytest.mark.parametrize("params,parameter,code", BAD, ids=[c for _, _, c in BAD])
def test_bad_parameters_are_400_on_every_route(client, org_id, params, parameter, code):
    for route in ROUTES:
        body = check(get(client, org_id, route, **params), route, 400)
        assert body["error"]["parameter"] == parameter and body["error"]["code"] == code, (route, body)
        assert body["error"]["message"]


def test_group_by_other_than_action_is_400(client, org_id):
    for value in ("agent", "model", "ACTION2"):
        body = check(get(client, org_id, "time-series", groupBy=value), "time-series", 400)
        assert body["error"]["parameter"] == "groupBy" and body["error"]["code"] == "invalid_groupBy"
    assert check(get(client, org_id, "time-series", groupBy="", **WINDOW), "time-series")["points"]


def test_three_years_are_allowed(client, org_id):
    end = date(2026, 1, 1)
    start = end - timedelta(days=3 * 365)
    body = check(
        get(client, org_id, "time-series", **{"from": start.isoformat(), "to": end.isoformat()}), "time-series"
    )
    assert body["granularity"] == "month" and len(body["points"]) == 37


def test_unknown_route_and_wrong_method_are_json(client, org_id):
    for path in (f"{BASE}/nope", f"{BASE}", f"{BASE}/", f"{BASE}/summary/extra"):
        resp = client.get(path, headers=auth(org_id))
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found", path
        assert resp.headers["Cache-Control"] == "no-store"
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        resp = client.open(f"{BASE}/summary", method=method, headers=auth(org_id))
        assert resp.status_code == 405, method
        assert resp.get_json()["error"] == {
            "code": "method_not_allowed",
            "parameter": None,
            "message": f"Only GET is allowed on {BASE}/summary.",
        }
        assert "GET" in resp.headers["Allow"]
    # Outside the API the dashboard keeps its own behaviour.
    assert client.post("/some/page").status_code == 405
    assert client.post("/some/page").mimetype != "application/json"


@pytest.mark.parametrize(
    "route,param",
    [
        ("summary", "timezone"),
        ("summary", "source"),
        ("summary", "preset"),
        ("summary", "compare"),
        ("summary", "from"),
        ("time-series", "granularity"),
        ("time-series", "groupBy"),
        ("by-user", "limit"),
        ("by-agent", "actionType"),
    ],
)
def test_a_huge_bad_value_is_quoted_cut_in_the_error(client, org_id, route, param):
    """A 50 KB timezone (source, granularity…) was echoed back whole in the 400's message, and so
    in the page's «Filtros no válidos» banner: now every quoted value is cut at 40 characters."""
    value = "Ø<x>" + "A" * (100 if param == "actionType" else 50_000)  # a filter value: ≤ 200 characters
    params = {param: value, **({"to": "2026-01-31"} if param == "from" else {})}
    body = check(get(client, org_id, route, **params), route, 400)
    assert body["error"]["parameter"] == param
    assert len(body["error"]["message"]) < 300, body["error"]["message"][:400]
    assert repr(value[:40] + "…") in body["error"]["message"]


@pytest.mark.parametrize(
    "route,param,values",
    [
        ("summary", "timezone", ["UTC", "Asia/Kathmandu"]),
        ("summary", "timezone", ["", "UTC"]),
        ("summary", "preset", ["7d", "90d"]),
        ("summary", "source", ["byok", "system"]),
        ("summary", "compare", ["previous", "year"]),
        ("time-series", "granularity", ["day", "week"]),
        ("time-series", "groupBy", ["", "action"]),
        ("by-user", "limit", ["5", "500"]),
        ("alerts", "limit", ["5", "50"]),
        ("budget", "timezone", ["UTC", "Europe/Madrid"]),
    ],
)
def test_a_single_parameter_given_twice_differently_is_400(client, org_id, route, param, values):
    """?timezone=UTC&timezone=Asia/Kathmandu answered in UTC (the first won, silently): which one
    was meant? Now a 400 naming it. The same value twice is that value."""
    qs = "&".join(f"{param}={v}" for v in values)
    resp = client.get(f"{BASE}/{route}?{qs}", headers=auth(org_id))
    body = check(resp, route, 400)
    assert body["error"]["parameter"] == param and body["error"]["code"] == "repeated_parameter"
    assert "give it once" in body["error"]["message"]
    same = "&".join(f"{param}={values[-1]}" for _ in range(3))
    assert client.get(f"{BASE}/{route}?{same}", headers=auth(org_id)).status_code == 200


def test_from_and_to_given_twice_differently_are_400(client, org_id):
    resp = client.get(f"{BASE}/summary?from=2026-01-01&to=2026-01-31&from=2025-12-01", headers=auth(org_id))
    assert check(resp, "summary", 400)["error"]["parameter"] == "from"


API_ROUTES = [*ROUTES, *MORE_ROUTES, "alerts", "openapi.json"]


@pytest.mark.parametrize("route", API_ROUTES)
def test_options_names_exactly_the_methods_a_route_takes(client, org_id, route):
    """OPTIONS answers the route's true Allow (it listed every method once: the catch-all
    route's), without a token; each method it leaves out is a JSON 405, TRACE and made-up
    methods included (TRACE fell to the not-normalised 404)."""
    path = f"{BASE}/{route}"
    resp = client.open(path, method="OPTIONS")
    assert resp.status_code == 204 and resp.data == b""
    allowed = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert allowed == ({"GET", "PUT", "HEAD", "OPTIONS"} if route == "budget" else {"GET", "HEAD", "OPTIONS"})
    for method in ("POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT", "PROPFIND", "FOO"):
        if method in allowed:
            continue
        resp = client.open(path, method=method, headers=auth(org_id))
        assert resp.status_code == 405 and resp.mimetype == "application/json", (route, method)
        assert resp.get_json()["error"]["code"] == "method_not_allowed"
        assert {m.strip() for m in resp.headers["Allow"].split(",")} == allowed
    assert client.open(path, method="GET", headers=auth(org_id)).status_code == 200


@pytest.mark.parametrize("path", [f"{BASE}/nope", BASE, f"{BASE}/", f"{BASE}/summary/extra", f"{BASE}//summary"])
def test_options_and_odd_methods_on_no_route_are_json_404(client, org_id, path):
    for method in ("OPTIONS", "TRACE", "FOO"):
        resp = client.open(path, method=method, headers=auth(org_id))
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found", (path, method)


ODD_API_PATHS = [
    f"{BASE}//summary",
    f"{BASE}/summary/",
    f"{BASE}/%2e%2e/summary",
    f"{BASE}/../summary",
    f"{BASE}/./summary",
    "/ai//org-usage/summary",
    f"{BASE}///summary",
    f"/x/..{BASE}/summary",
    "/ai/./org-usage/summary",
    f"{BASE}//",
    f"{BASE}/summary;x",
    f"{BASE}/SUMMARY",
    f"{BASE}/openapi.json/",
]


@pytest.mark.parametrize("path", ODD_API_PATHS)
def test_odd_paths_under_the_api_are_json_404_never_the_page(client, org_id, path):
    """Paths are not normalised: a doubled or trailing slash or a dot segment is no route (JSON 404).
    ('//ai/…' is a host to the test client: test_server sends it raw through waitress.)"""
    for method in ("GET", "HEAD", "POST"):
        resp = client.open(path, method=method, headers=auth(org_id))
        assert resp.mimetype == "application/json", (path, method, resp.status_code)
        assert resp.status_code in ((404,) if method != "POST" else (404, 405)), (path, method)
        if method == "GET":
            assert resp.get_json()["error"]["code"] == "not_found", path
            assert resp.headers["Cache-Control"] == "no-store"
    # The page itself still answers at / and at paths outside the API.
    assert client.get("/").mimetype == "text/html" and client.get("/ai/other").mimetype == "text/html"


def test_json_helpers_map_missing_values_to_null():
    import math

    import pandas as pd

    assert bodies.num(float("nan")) is None and bodies.num(None) is None and bodies.num(pd.NA) is None
    assert bodies.num(2) == 2.0 and type(bodies.num(2)) is float
    assert bodies.text(float("nan")) is None and bodies.text("x") == "x"
    assert (
        bodies.iso(pd.Timestamp("2026-11-01 05:00", tz="UTC").tz_convert("America/New_York"))
        == "2026-11-01T01:00:00-04:00"
    )
    assert not math.isnan(bodies.num(0.0))
