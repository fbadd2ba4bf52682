"""The API's answers, byte for byte, on a recorded set of requests (issue 13's "Done when").

`tests/golden/api/<route>.json` holds, for each request: the query, the headers sent, the
status, the headers that matter (Content-Type, Cache-Control, Allow, Retry-After) and the
exact body bytes (asked with Accept-Encoding: identity). They were recorded on SQLite;
this test replays them on SQLite and PostgreSQL, through the raw facts path and through
refreshed rollups, and compares bytes. A difference means the answer changed: either a
bug, or an intended change that is re-recorded in a commit that says so:

    AI_USAGE_RECORD_GOLDEN=1 .venv/bin/python -m pytest tests/test_api_golden.py -k sqlite

The data: tests/query_data.py for one org (sparse rows over 16 months, DST changes, NULL
costs and agents, an unknown agent, another org's rows) and tests/support/api.py dataset for
another (the New York fall-back window). The clock is fixed (NOW, or a request's "now").
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from support import query_data as qd
from support.api import BASE, auth, dataset, make_app, utc
from support.db import create_pg_database, drop_pg_database, insert_agents, insert_logs

from ingest import refresh as rollups
from storage.engine import make_engine, migrate
from storage.schema import price_overrides

GOLDEN = Path(__file__).parent / "golden" / "api"
RECORD = os.environ.get("AI_USAGE_RECORD_GOLDEN") == "1"
ORG, OTHER, SMALL = "org-golden", "org-golden-other", "org-golden-small"
NOW = utc(2026, 11, 3, 17)  # noon in New York, the day after the fall-back window
KEPT_HEADERS = ("Content-Type", "Cache-Control", "Allow", "Retry-After")
ZONES = ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]
FALL = {"from": "2026-10-30", "to": "2026-11-02", "timezone": "America/New_York"}
LH_SPRING = {"from": "2026-10-01", "to": "2026-10-07", "timezone": "Australia/Lord_Howe"}


def _case(route: str, org: str = ORG, token: str = "ok", now=None, headers=None, method: str = "GET", **query):
    return {
        "route": route,
        "org": org,
        "token": token,
        "now": now,
        "headers": headers or {},
        "method": method,
        "query": query,
    }


def cases() -> dict[str, list[dict]]:
    """The recorded requests, by golden file (one per route, plus errors)."""
    figures = ["summary", "cache-savings", "projection", "model-efficiency", "by-agent", "heatmap", "anomalies"]
    out: dict[str, list[dict]] = {r: [] for r in figures + ["time-series", "openapi", "errors"]}
    for route in figures:
        for tz in ZONES:
            out[route].append(_case(route, timezone=tz))  # preset 30d by default
        out[route].append(_case(route, preset="7d", timezone="America/New_York", source="byok"))
        out[route].append(_case(route, preset="ytd", timezone="Asia/Kathmandu", source="system"))
        out[route].append(_case(route, preset="90d", timezone="Australia/Lord_Howe", granularity="week"))
        out[route].append(_case(route, **LH_SPRING, granularity="hour"))
        out[route].append(_case(route, org=SMALL, **FALL))
        out[route].append(
            _case(
                route,
                **{
                    "from": "2025-09-01",
                    "to": "2026-12-31",
                    "timezone": "UTC",
                    "granularity": "month",
                    "source": "all",
                },
            )
        )
    out["projection"] += [
        _case("projection", now=utc(2026, 12, 1, 3), timezone="America/New_York"),  # 1st of a month (local: Nov 30)
        _case("projection", now=utc(2026, 12, 1, 3), timezone="Asia/Kathmandu"),  # the 1st in Kathmandu
        _case("projection", **{"from": "2026-05-01", "to": "2026-06-20", "timezone": "UTC"}),  # closed month
        _case(
            "projection", **{"from": "2026-06-01", "to": "2026-06-25", "timezone": "UTC"}, now=utc(2026, 6, 25, 12)
        ),  # the sparse gap: insufficient_data
        _case("projection", org="org-golden-empty", timezone="UTC"),
    ]
    out["by-agent"].append(_case("by-agent", org="org-golden-empty", timezone="UTC"))
    for tz in ZONES:
        for gran in ("auto", "hour", "day", "week", "month"):
            window = LH_SPRING if gran == "hour" else {}
            out["time-series"].append(_case("time-series", **{"timezone": tz, "granularity": gran, **window}))
        out["time-series"].append(_case("time-series", timezone=tz, groupBy="action", preset="7d"))
    out["time-series"] += [
        _case("time-series", org=SMALL, **FALL, granularity="hour"),
        _case("time-series", org=SMALL, **FALL, granularity="hour", groupBy="action"),
        _case("time-series", org=SMALL, **FALL, groupBy="ACTION ", source="byok"),
        _case("time-series", org=SMALL, **FALL, groupBy=""),
        _case("time-series", preset="ytd", timezone="Australia/Lord_Howe", granularity="week", groupBy="action"),
        _case("time-series", org="org-golden-empty", timezone="UTC"),
    ]
    out["openapi"] = [_case("openapi.json", token="none"), _case("openapi.json", token="ok")]
    bad = [
        {"timezone": "Mars/Olympus"},
        {"from": "2026-13-01", "to": "2026-12-01"},
        {"from": "26-1-1", "to": "2026-01-02"},
        {"from": "1969-12-31", "to": "1970-01-02"},
        {"from": "2199-12-01", "to": "2200-01-01"},
        {"from": "2026-10-01"},
        {"to": "2026-10-01"},
        {"from": "2026-10-05", "to": "2026-10-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"preset": "90d", "granularity": "hour"},
        {"from": "2026-01-01", "to": "2026-06-30", "granularity": "hour"},
        {"source": "mine"},
        {"granularity": "minute"},
        {"preset": "1y"},
    ]
    errors = [_case("summary", **q) for q in bad]
    errors += [
        _case("time-series", groupBy="agent"),
        _case("summary", token="none"),
        _case("summary", token="garbage"),
        _case("summary", token="expired"),
        _case("summary", token="nopolicy"),
        _case("summary", headers={"x-org-id": "org-someone-else"}),
        _case("summary", headers={"x-org-id": ORG}),
        _case("nope"),
        _case("summary/"),
        _case(""),
        _case("summary", method="POST"),
        _case("heatmap", method="DELETE"),
    ]
    out["errors"] = errors
    out["by-user"] = [_case("by-user", timezone=tz) for tz in ZONES] + [
        _case("by-user", preset="7d", timezone="America/New_York", source="byok", limit="2"),
        _case("by-user", preset="ytd", timezone="Asia/Kathmandu", limit="1"),
        _case("by-user", preset="90d", timezone="Australia/Lord_Howe", granularity="week", limit="1000"),
        _case("by-user", **LH_SPRING, granularity="hour", userId="none"),
        _case("by-user", org=SMALL, **FALL),
        _case("by-user", org="org-golden-empty", timezone="UTC"),
        *(_case("by-user", limit=v) for v in ("0", "1001", "abc", "")),
    ]
    # The comparison (contract §3.2): every route that takes it, both modes, a window so far
    # (preset: it ends today) and wholly past ones; routes without it ignore it; bad values.
    compared = ["summary", "cache-savings", "time-series", "model-efficiency", "by-agent", "by-user"]
    out["compare"] = [
        _case(route, timezone=tz, compare=mode)
        for route in compared
        for tz, mode in (("America/New_York", "previous"), ("Asia/Kathmandu", "year"))
    ]
    out["compare"] += [_case(route, org=SMALL, **FALL, compare="previous") for route in compared]
    out["compare"] += [
        _case("time-series", **LH_SPRING, granularity="hour", groupBy="action", compare="year"),
        _case("by-user", **{"from": "2026-01-01", "to": "2026-03-31", "timezone": "UTC"}, limit="2", compare="year"),
        _case("by-agent", **{"from": "2026-02-01", "to": "2026-02-28", "timezone": "UTC"}, compare="previous"),
        *(_case(route, compare="previous") for route in ("projection", "heatmap", "anomalies")),
        _case("summary", compare="bogus"),
        _case("summary", **{"from": "1970-01-01", "to": "1970-01-31"}, compare="previous"),
    ]
    return out


def _token_headers(case: dict) -> dict:
    kind, org = case["token"], case["org"]
    if kind == "ok":
        return auth(org)
    if kind == "none":
        return {}
    if kind == "garbage":
        return {"Authorization": "Bearer not.a.jwt"}
    if kind == "expired":
        return auth(org, ttl=timedelta(hours=-2))
    if kind == "nopolicy":
        return auth(org, policies=["ai.other:read"])
    raise ValueError(kind)


def call(client, clock, case: dict) -> dict:
    clock.at = (case["now"] and _instant(case["now"])) or NOW
    headers = {**_token_headers(case), **case["headers"], "Accept-Encoding": "identity"}
    path = f"{BASE}/{case['route']}" if case["route"] else BASE
    resp = client.open(path, method=case["method"], query_string=case["query"], headers=headers)
    return {
        "status": resp.status_code,
        "headers": {h: resp.headers[h] for h in KEPT_HEADERS if h in resp.headers},
        "body": resp.get_data().decode("utf-8"),
    }


def _instant(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Clock:
    def __init__(self):
        self.at = NOW

    def __call__(self):
        return self.at


def load(engine) -> None:
    rows, late, other_rows, agents = qd.build(ORG, OTHER)
    insert_logs(engine, other_rows)
    insert_logs(engine, rows)
    insert_logs(engine, late)
    insert_agents(engine, agents)
    small_logs, small_agents = dataset(SMALL)
    insert_logs(engine, small_logs)
    insert_agents(engine, small_agents)
    with engine.begin() as c:
        for provider, model, inp, cache in qd.OVERRIDES:
            c.execute(
                price_overrides.delete().where(price_overrides.c.provider == provider, price_overrides.c.model == model)
            )
            c.execute(
                price_overrides.insert().values(
                    provider=provider, model=model, input_usd_per_mtok=inp, cache_read_usd_per_mtok=cache
                )
            )


def _serializable(case: dict) -> dict:
    return {**case, "now": case["now"].isoformat() if case["now"] else None}


def replay(app, clock) -> dict[str, list[dict]]:
    client = app.server.test_client()
    return {
        name: [{"request": _serializable(c), **call(client, clock, c)} for c in group]
        for name, group in cases().items()
    }


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def golden_engine(request, tmp_path_factory):
    """A private database per engine: the same rows and ids every run, and the session's
    shared database (whose whole-table rollup refreshes other tests time) stays as it was."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('golden') / 'golden.sqlite3'}"
    else:
        url = create_pg_database()
    eng = make_engine(url)
    migrate(eng)
    load(eng)
    yield eng
    eng.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


def test_api_answers_are_byte_for_byte_the_recorded_ones(golden_engine):
    """Raw facts path first, then refreshed rollups (the app's default, left in place after)."""
    engine = golden_engine
    clock = Clock()
    answers = {"raw": replay(make_app(engine, clock=clock, use_rollups=False), clock)}
    rollups.refresh(engine)
    answers["rollups"] = replay(make_app(engine, clock=clock), clock)
    if RECORD:
        assert engine.dialect.name == "sqlite", "record on SQLite only"
        assert answers["raw"] == answers["rollups"]
        for name, recorded in answers["raw"].items():
            (GOLDEN / f"{name}.json").write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
        return
    diffs = []
    for name, group in cases().items():
        want = json.loads((GOLDEN / f"{name}.json").read_text())
        assert len(want) == len(group), name
        for path, got in answers.items():
            for w, g in zip(want, got[name]):
                assert w["request"] == g["request"], (name, "the request list changed: re-record")
                if (w["status"], w["headers"], w["body"].encode()) != (g["status"], g["headers"], g["body"].encode()):
                    diffs.append((path, name, w["request"], w["status"], g["status"], w["body"][:300], g["body"][:300]))
    assert not diffs, f"{len(diffs)} answers differ ({sorted({(d[0], d[1]) for d in diffs})}); first: {diffs[:3]}"


def test_the_recorded_requests_cover_every_route_and_error_status():
    from support.api import ROUTES

    recorded = [c for group in cases().values() for c in group]
    assert {c["route"] for c in recorded} >= set(ROUTES) | {"openapi.json"}
    statuses = {
        json.loads(r["body"]).get("error", {}).get("code") if r["status"] >= 400 else None
        for r in json.loads((GOLDEN / "errors.json").read_text())
    }
    assert {
        "invalid_timezone",
        "invalid_date",
        "date_out_of_range",
        "incomplete_window",
        "invalid_window",
        "window_too_long",
        "too_many_buckets",
        "invalid_source",
        "invalid_granularity",
        "invalid_preset",
        "invalid_groupBy",
        "missing_token",
        "invalid_token",
        "token_expired",
        "forbidden",
        "org_mismatch",
        "not_found",
        "method_not_allowed",
    } <= statuses
