"""The API's filters (contract §3.1): echoed as `filters` on every data route, bad input is a
400 naming the parameter, and the answer cache keys the slice (a cached answer for one
slice is never served for another)."""

from __future__ import annotations

import json

import pytest
from support.api import BASE, ROUTES, WINDOW, auth, check, dataset
from support.db import insert_agents, insert_logs
from test_answer_cache import NOW as CACHE_NOW, apps, backend, counts, get as cached_get, seed

from ingest import refresh as rollups

__all__ = ["backend"]  # a fixture, used by name


@pytest.fixture
def org(engine, org_id):
    logs, agents = dataset(org_id)
    insert_logs(engine, logs)
    insert_agents(engine, agents)
    return org_id


def get(client, org_id, route, params):
    return client.get(f"{BASE}/{route}", query_string=params, headers=auth(org_id))


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_echoes_the_filters(client, org, route):
    params = [*WINDOW.items(), ("agentId", "b"), ("agentId", "a"), ("agentId", "a"), ("actionType", "")]
    params += [("model", "gpt-4o-mini"), ("actionType", "guardrail_check")]
    body = check(get(client, org, route, params), route)
    assert body["filters"] == {"agentId": ["a", "b"], "model": ["gpt-4o-mini"], "actionType": ["guardrail_check"]}
    assert check(get(client, org, route, WINDOW), route)["filters"] == {}


def test_filters_narrow_every_figure(client, org):
    a1 = f"{org}-a1"
    whole = check(get(client, org, "by-agent", WINDOW), "by-agent")["agents"]
    one = check(get(client, org, "by-agent", {**WINDOW, "agentId": a1}), "by-agent")["agents"]
    assert [a["agentId"] for a in one] == [a1]
    assert one[0] == next(a for a in whole if a["agentId"] == a1)
    s = check(get(client, org, "summary", {**WINDOW, "agentId": a1}), "summary")
    assert (s["executions"], s["totalCostUsd"]) == (one[0]["executions"], one[0]["costUsd"])
    none = check(get(client, org, "by-agent", {**WINDOW, "agentId": "none"}), "by-agent")["agents"]
    assert [a["agentId"] for a in none] == ([None] if any(a["agentId"] is None for a in whole) else [])
    empty = check(get(client, org, "summary", {**WINDOW, "userId": "nobody"}), "summary")
    assert (empty["executions"], empty["totalCostUsd"]) == (0, 0)
    assert (
        check(get(client, org, "model-efficiency", {**WINDOW, "provider": "nobody"}), "model-efficiency")["models"]
        == []
    )


@pytest.mark.parametrize(
    "params,parameter,code",
    [
        ([("agentId", f"a{i}") for i in range(51)], "agentId", "too_many_values"),
        ([("userId", "u" * 201)], "userId", "value_too_long"),
        ([("model", "m" * 201)], "model", "value_too_long"),
        ([("provider", "p")] * 51, "provider", "too_many_values"),
        ([("actionType", "chat")], "actionType", "invalid_actionType"),
        ([("actionType", "USER_INTERACTION")], "actionType", "invalid_actionType"),
        ([("agentId", "a\x00b"), ("agentId", "ok")], "agentId", "invalid_agentId"),
        ([("userId", "\x00")], "userId", "invalid_userId"),
    ],
)
@pytest.mark.parametrize("route", ["summary", "heatmap"])
def test_bad_filters_are_a_400_naming_the_parameter(client, org_id, route, params, parameter, code):
    body = check(get(client, org_id, route, [*WINDOW.items(), *params]), route, 400)
    assert (body["error"]["parameter"], body["error"]["code"]) == (parameter, code)


def test_fifty_values_and_200_characters_are_allowed(client, org_id):
    params = [*WINDOW.items(), *[("agentId", f"a{i}") for i in range(50)], ("userId", "u" * 200)]
    assert check(get(client, org_id, "summary", params), "summary")["executions"] == 0


def test_the_cache_keys_the_slice(engine, org_id, backend):
    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    window = {"from": "2026-05-01", "to": "2026-05-10", "timezone": "America/New_York"}
    whole = json.loads(cached_get(cached, org_id, "summary", **window))
    before = counts(cached)["misses"]
    for model in ("gpt-4o-mini", "other-model"):
        a = cached_get(cached, org_id, "summary", **window, model=model)
        assert a == cached_get(plain, org_id, "summary", **window, model=model)
    assert counts(cached)["misses"] == before + 2
    assert json.loads(cached_get(cached, org_id, "summary", **window, model="other-model"))["executions"] == 0
    assert (
        json.loads(cached_get(cached, org_id, "summary", **window, model="gpt-4o-mini"))["executions"]
        == (whole["executions"])
    )
    assert CACHE_NOW.year == 2026
