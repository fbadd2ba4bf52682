"""Filters on every figure (contract §3.1): random slices equal the pandas reference over the
same rows filtered by plain pandas, on both engines, on the raw path and the rollup path."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from support import query_data as qd, reference as ref
from test_queries import (  # the per-figure checks and data sets of the unfiltered tests
    _use,
    check_by_agent,
    check_cache_savings,
    check_heatmap,
    check_model_efficiency,
    check_projection,
    check_summary,
    check_time_series,
    data,
    make_filters,
    rolled,
)

from queries import base as qbase, rollup_read as qr, slice_rows
from queries.filters import SLICE

__all__ = ["data", "rolled"]  # fixtures, used by name

CHECKS = (
    check_summary,
    check_cache_savings,
    check_time_series,
    check_model_efficiency,
    check_by_agent,
    check_heatmap,
    check_projection,
)


def values(org: str) -> dict[str, list[str]]:
    """What each filter may draw: present values, `none`, and one that matches nothing."""
    ids = qd.agent_ids(org)
    return {
        "agentId": [ids["a1"], ids["a2"], ids["missing"], ids["foreign"], "none", "no-such-agent"],
        "userId": ["u1", "u2", "u3", "none", "nobody"],
        "provider": sorted({p for p, _ in qd.MODELS}) + ["no-such-provider"],
        "model": [m for _, m in qd.MODELS] + ["no-such-model"],
        "actionType": list(ref.ACTIONS),
    }


def random_slice(rng: random.Random, org: str, names=None) -> dict[str, list[str]]:
    pool = values(org)
    names = names or rng.sample(sorted(pool), rng.randint(1, 3))
    out = {}
    for n in names:
        picked = rng.sample(pool[n], rng.randint(1, 3))
        if rng.random() < 0.3:
            picked.append(picked[0])  # a repeated value counts once
        out[n] = picked
    return out


def sliced_filters(data, window, tz, sl, source="all", granularity="auto"):
    f = make_filters(data, window, tz, source, granularity)
    from queries import parse_filters

    params = {"from": f.start_date.isoformat(), "to": f.end_date.isoformat(), "timezone": tz}
    params.update({"source": source, "granularity": granularity, **sl})
    return parse_filters(params, data.org, now=f.now)


def check_all(data, f, sl) -> None:
    view = SimpleNamespace(**{**vars(data), "rows": ref.sliced(data.rows, sl)})
    for check in CHECKS:
        check(view, f.with_source("system") if check is check_cache_savings and f.source == "all" else f)


WINDOWS = [("ny_fall_week", "America/New_York", "hour"), ("months", "Asia/Kolkata", "week"), ("long", "UTC", "month")]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_random_slices_equal_the_reference(data, rolled, seed, path):
    rng = random.Random(seed)
    base = data if path == "raw" else rolled
    view = _use(path, base)
    window, tz, gran = WINDOWS[seed % len(WINDOWS)]
    sl = random_slice(rng, base.org)
    f = sliced_filters(base, window, tz, sl, rng.choice(["all", "system", "byok"]), gran)
    check_all(view, f, sl)


# One filter alone (the rollup families that hold it answer), and one of each across families.
SINGLE = [
    {"agentId": ["A1"]},
    {"agentId": ["none"]},
    {"provider": ["openai"]},
    {"model": ["gpt-4o-mini", "qtest-cached-1"]},
    {"actionType": ["user_interaction"]},
    {"userId": ["u1", "none"]},
    {"provider": ["openai"], "model": ["claude-sonnet-4-5"]},  # AND: nothing matches both
    {"agentId": ["A2"], "actionType": ["guardrail_check", "title_generation"], "model": ["gpt-4o-mini"]},
]


def _resolve(sl, org):
    ids = qd.agent_ids(org)
    named = {"A1": ids["a1"], "A2": ids["a2"]}
    return {k: [named.get(v, v) for v in vs] for k, vs in sl.items()}


@pytest.mark.parametrize("sl", SINGLE, ids=lambda s: "&".join(f"{k}={'+'.join(v)}" for k, v in s.items()))
def test_each_filter_on_both_paths(data, rolled, sl):
    for path, base in (("raw", data), ("rollup", rolled)):
        s = _resolve(sl, base.org)
        f = sliced_filters(base, "year_end", "Asia/Kathmandu", s, granularity="week")
        check_all(_use(path, base), f, s)


def test_value_matching_nothing_gives_empty_figures(data):
    f = sliced_filters(data, "long", "UTC", {"agentId": ["nobody"]}, granularity="month")
    check_all(data, f, {"agentId": ["nobody"]})
    from queries import by_agent, model_efficiency, summary

    with data.engine.connect() as c:
        assert int(summary(c, f).iloc[0]["executions"]) == 0
        assert model_efficiency(c, f).empty and by_agent(c, f).empty


def test_rollups_serve_the_filters_their_family_holds(rolled, monkeypatch):
    """The narrowest family holding dims ∪ sliced columns answers: agentId → agent,
    actionType → action, model → model, userId → user, several columns without a user →
    combo; a user with another column: no family, the raw rows."""
    calls, families = [], []
    real, real_build = qr.raw_facts, qr.build_query

    def spy(*a, **k):
        calls.append(a[1].slice_dims)
        return real(*a, **k)

    def spy_build(dialect, family, *a, **k):
        families.append(family)
        return real_build(dialect, family, *a, **k)

    monkeypatch.setattr(qr, "raw_facts", spy)
    monkeypatch.setattr(qr, "build_query", spy_build)
    # A narrow user's rows are summed in numpy (queries.slice_rows, tests/test_slice_rows.py):
    # the plans here are those of a user past its MAX_ROWS.
    eng = qbase.facts_path(rolled.engine, "rollup").execution_options(**{slice_rows.OPTION: False})
    ids = qd.agent_ids(rolled.org)
    cases = [
        ({"agentId": [ids["a1"]]}, ("agent_id",), "agent"),
        ({"actionType": ["guardrail_check"]}, (), "action"),
        ({"model": ["gpt-4o-mini"]}, ("provider", "model"), "model"),
        ({"userId": ["u1"]}, (), "user"),
        ({"userId": ["u1", "none"]}, ("user_id",), "user"),
        ({"agentId": [ids["a1"]], "model": ["gpt-4o-mini"]}, (), "combo"),
        ({"agentId": [ids["a1"]]}, ("provider", "model"), "combo"),
        ({"actionType": ["guardrail_check"]}, ("agent_id",), "combo"),
        ({"userId": ["u1"], "agentId": [ids["a1"]]}, (), None),
        ({"provider": ["openai"]}, ("user_id",), None),
    ]
    for sl, dims, family in cases:
        calls.clear()
        families.clear()
        f = sliced_filters(rolled, "months", "UTC", sl)
        with eng.connect() as c:
            qbase.facts(c, f, dims=dims)
        assert bool(calls) == (family is None), sl
        # One family; a statement planned again (the state moved under it: another test's
        # refresh of the shared database) asks the same family again.
        assert set(families) == ({family} if family else set()), sl


def test_slice_fields_cover_every_parameter():
    assert [api for _, api, _ in SLICE] == ["agentId", "userId", "provider", "model", "actionType"]
