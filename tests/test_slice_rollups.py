"""Filtered and compared answers from the slice rollups (issue 9): the user family, the
combined family, the users' ranking, the earlier window of a comparison — equal to the
plain-pandas reference over the same rows, on the raw path and the rollup path, on SQLite
and PostgreSQL, over random filters, windows and zones (+5:45, −3:30 with DST, New York)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from support import query_data as qd, reference as ref
from test_queries import _use, cost_ok, data, rolled, run
from test_slices import check_all, random_slice, sliced_filters

from queries import by_user
from queries.compare import earlier
from queries.slice_options import user_options
from storage.measures import MEASURES

__all__ = ["data", "rolled"]  # fixtures, used by name

ZONES = ["Asia/Kathmandu", "America/St_Johns", "America/New_York", "UTC"]
WINDOWS = ["long", "months", "year_end", "ny_fall_week", "gap"]


def check_by_user(data, f, sl, limit=50) -> None:
    rows = ref.sliced(data.rows, sl)
    got = run(data, by_user, f, limit)
    want = ref.by_user(rows, ref.Window.of(f))
    assert got.total_users == len(want)
    top, rest = want.iloc[:limit], want.iloc[limit:]
    assert list(got.users["user_id"]) == list(top["user_id"])
    for g, w in zip(got.users.to_dict("records"), top.to_dict("records")):
        assert g["cost_e8"] == w["cost_e8"] and cost_ok(g["cost_usd"], w["cost_e8"])
        assert (g["tokens"], g["executions"]) == (w["tokens"], w["executions"])
        assert len(g["sparkline"]) == len(w["sparkline_e8"])
        assert all(cost_ok(a, b) for a, b in zip(g["sparkline"], w["sparkline_e8"]))
    assert got.others["cost_e8"] == int(rest["cost_e8"].sum())
    assert (got.others["tokens"], got.others["executions"]) == (
        int(rest["tokens"].sum()),
        int(rest["executions"].sum()),
    )


def _compared(base, window, tz, sl, source, gran):
    f = sliced_filters(base, window, tz, sl, source, gran)
    return replace(f, compare="previous")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("path", ["raw", "rollup", "rollup-wide"])
def test_random_slices_with_users_and_comparison(data, rolled, seed, path):
    """A random slice (a user among its filters half the time), its window and the
    earlier window: every figure and the users' ranking equal the reference. On
    PostgreSQL "rollup" sums a narrow user's rows in numpy (queries.slice_rows);
    "rollup-wide" reads the user family as for a user past its MAX_ROWS."""
    rng = random.Random(1000 + seed)
    base = data if path == "raw" else rolled
    view = _use(path, base)
    names = ["userId", rng.choice(["agentId", "model", "actionType", "provider"])] if seed % 2 else None
    sl = random_slice(rng, base.org, names)
    f = _compared(base, rng.choice(WINDOWS), ZONES[seed % len(ZONES)], sl, rng.choice(["all", "byok"]), "auto")
    for ff in (f, earlier(f)):
        check_all(view, ff, sl)
        check_by_user(view, ff, sl, limit=rng.choice([1, 2, 50]))


SINGLE = [
    {},
    {"userId": ["u1"]},
    {"userId": ["none", "u3"]},
    {"provider": ["openai"]},
    {"actionType": ["rag_query_embedding"]},
]


@pytest.mark.parametrize("sl", SINGLE, ids=lambda s: "&".join(f"{k}={'+'.join(v)}" for k, v in s.items()) or "none")
@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "America/St_Johns"])
def test_users_ranking_on_both_paths(data, rolled, sl, tz):
    """by_user over the long window (8-day and 64-day user blocks) and a short one, in zones
    whose days start off the UTC hour, on both paths and the earlier window."""
    for path, base in (("raw", data), ("rollup", rolled)):
        for window in ("long", "ny_spring_week"):
            f = _compared(base, window, tz, sl, "all", "auto")
            for ff in (f, earlier(f)):
                check_by_user(_use(path, base), ff, sl, limit=2)


@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "America/St_Johns"])
def test_the_usuario_select_lists_every_user_of_the_window_in_the_ranking_order(data, rolled, tz):
    """The Usuario select's options (queries.slice_options.user_options): every user of the
    window whatever the slice, with its cost and executions, in the users' ranking's order
    (cost, executions, id; the row without a user last among ties), on both paths."""
    sl = {"userId": ["u1"], "provider": ["openai"]}  # the options are never narrowed by the slice
    for path, base in (("raw", data), ("rollup", rolled)):
        for window in ("long", "ny_spring_week"):
            f = sliced_filters(base, window, tz, sl, "all", "auto")
            got = run(_use(path, base), user_options, f)
            want = ref.by_user(base.rows, ref.Window.of(f))
            assert list(got["value"]) == list(want["user_id"]) and len(want) >= 3
            assert list(got["name"]) == list(want["user_id"])
            assert list(got["cost_e8"]) == list(want["cost_e8"])
            assert list(got["executions"]) == list(want["executions"])


FEWER = [
    ("cost_e8",),
    ("cost_e8", "input_tokens", "output_tokens", "cache_read_tokens", "executions"),
    ("latency_sum",),
    ("cost_e8", "tokens", "executions"),  # queries.base.DERIVED_FROM: tokens as one sum
    ("tokens",),
]


@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "Europe/Madrid"])
@pytest.mark.parametrize("measures", FEWER, ids=lambda m: "+".join(m))
def test_facts_of_fewer_measures_are_those_columns_of_every_measure(data, rolled, tz, measures):
    """facts(measures=…) sums only those (and executions) and equals the same columns of the
    full read (tokens: its input, output and cache read tokens added): per user, by bucket and
    in total; a user family's signed blocks, day rests and twins (Madrid, Kathmandu), a model
    filter's raw read; both paths and engines."""
    from queries import base as qbase
    from queries.buckets import bucket_cuts

    for path, data_ in (("raw", data), ("rollup", rolled)):
        for window, sl in (("long", {}), ("months", {"userId": ["u1", "none"]}), ("long", {"model": ["gpt-4o-mini"]})):
            f = sliced_filters(data_, window, tz, sl, "all", "day")
            for kw in ({"dims": ("user_id",)}, {"dims": ("user_id",), "by_qh": True, "boundaries": bucket_cuts(f)}, {}):
                with qbase.facts_path(data_.engine, path).connect() as c:
                    full = qbase.facts(c, f, **kw)
                    few = qbase.facts(c, f, measures=measures, **kw)
                full["tokens"] = full["input_tokens"] + full["output_tokens"] + full["cache_read_tokens"]
                keys = (["qh"] if kw.get("by_qh") else []) + list(kw.get("dims", ()))
                cols = [m for m in MEASURES if m in measures or m == "executions"]
                cols += ["tokens"] if "tokens" in measures else []
                assert list(few.columns) == keys + cols
                order = keys or cols
                want = full[keys + cols].sort_values(order, kind="stable").reset_index(drop=True)
                got = few.sort_values(order, kind="stable").reset_index(drop=True)
                assert got.to_dict("list") == want.to_dict("list") and len(got) > 0


def test_user_filter_reads_the_user_family_and_its_pieces(rolled, monkeypatch):
    """A user-filtered week in Kathmandu: whole UTC days from rollup_user, the sub-day rest
    (every local midnight is 18:15 UTC) from the raw rows, in one statement."""
    from queries import base as qbase, buckets as qbuckets, rollup_read as qr, slice_rows

    seen = []
    real = qr.build_query

    def spy(dialect, family, *a, **k):
        seen.append((family, len(k.get("pieces", a[9] if len(a) > 9 else ()))))
        return real(dialect, family, *a, **k)

    monkeypatch.setattr(qr, "build_query", spy)
    f = sliced_filters(rolled, "months", "Asia/Kathmandu", {"userId": ["u2"]}, granularity="day")
    narrow_off = {slice_rows.OPTION: False}  # the plan for a user past queries.slice_rows.MAX_ROWS
    with qbase.facts_path(rolled.engine, "rollup").execution_options(**narrow_off).connect() as c:
        qbase.facts(c, f, by_qh=True, boundaries=qbuckets.bucket_cuts(f))
    assert seen and seen[0][0] == "user" and seen[0][1] > 0
    check_all(_use("rollup", rolled), f, {"userId": ["u2"]})


def test_the_data_set_has_users():
    """The fixtures' rows carry users (u1 … u4 and rows without one), or the tests above prove nothing."""
    rows = qd.build("x", "x")[0]
    assert {r["user_id"] for r in rows} >= {None, "u1", "u2", "u3", "u4"}


def test_percentiles_under_a_filter_on_another_column_read_sketches(rolled, monkeypatch):
    """p95 per agent under a model filter, per model under an agent or action filter: the
    combined sketches; under a user filter: the raw rows (no sketch keys users), as for a user
    past queries.slice_rows.MAX_ROWS (a narrow one's rows are counted in numpy)."""
    from queries import base as qbase, latency as ql, slice_rows

    raw = []
    real = ql._raw_sketch

    def spy(*a, **k):
        raw.append(a[1].slice_dims)
        return real(*a, **k)

    monkeypatch.setattr(ql, "_raw_sketch", spy)
    ids = qd.agent_ids(rolled.org)
    cases = [
        ({"model": ["gpt-4o-mini"]}, ("agent_id",), False),
        ({"agentId": [ids["a1"], "none"]}, ("provider", "model"), False),
        ({"actionType": ["guardrail_check"]}, ("provider", "model"), False),
        ({"userId": ["u1"]}, ("agent_id",), True),
    ]
    for sl, dims, is_raw in cases:
        raw.clear()
        f = sliced_filters(rolled, "months", "America/St_Johns", sl)
        with qbase.facts_path(rolled.engine, "rollup").execution_options(**{slice_rows.OPTION: False}).connect() as c:
            ql.latency_sketch(c, f, dims)
        assert bool(raw) == is_raw, sl
        check_all(_use("rollup", rolled), f, sl)


ONE_READ = [{"provider": ["openai"]}, {"actionType": ["rag_query_embedding"]}, {"model": ["gpt-4o-mini"]}]


@pytest.mark.parametrize("sl", ONE_READ, ids=lambda s: "&".join(f"{k}={'+'.join(v)}" for k, v in s.items()))
@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "America/New_York"])
def test_users_ranking_in_one_read_and_in_two(rolled, sl, tz, monkeypatch):
    """A slice no user family holds: with few rows, the ranking and the sparklines come from
    one raw read by (bucket, user) (queries.users.ONE_READ_ROWS); with more, from the totals
    and a second read for the top users. Both equal the reference, the row without a user
    among the listed ones (limit 50) and not (limit 1), with and without the comparison."""
    from queries import base as qbase, users

    view = _use("rollup", rolled)
    for one_read in (True, False):
        monkeypatch.setattr(users, "ONE_READ_ROWS", 10**9 if one_read else 0)
        for window in ("long", "ny_spring_week"):
            f = _compared(rolled, window, tz, sl, "all", "auto")
            with qbase.facts_path(rolled.engine, "rollup").connect() as c:
                assert users._one_read(c, f) is one_read
            for ff in (f, earlier(f)):
                for limit in (1, 50):
                    check_by_user(view, ff, sl, limit=limit)
            want = ref.by_user(ref.sliced(view.rows, sl), ref.Window.of(f))
            assert want["user_id"].isna().any() and len(want) > 1  # the row without a user is ranked
