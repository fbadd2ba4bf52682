"""The query layer equals an independent pandas reference, on SQLite and PostgreSQL.

Every figure is compared with tests/reference.py over the data set of
tests/query_data.py, in five zones (UTC, New York, Kolkata +5:30, Kathmandu +5:45,
Lord Howe with its 30-minute DST) and windows around the DST days; counts and tokens
exactly, costs to 1e-8, ratios and the projection to 1e-6.

The clock is explicit: by default NOW lies after every window (nothing is in the
future); the cases about "today" pass their own `now`.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from support import query_data as qd, reference as ref, reference_cost as rc
from support.db import insert_agents, insert_logs

from queries import (
    BadParameter,
    base as qbase,
    buckets as qbuckets,
    by_agent,
    cache_savings,
    heatmap,
    model_efficiency,
    parse_filters,
    projection,
    slice_rows,
    summary,
    time_series,
)
from queries.filters import local_instant
from storage.measures import MEASURES, segment_thresholds
from storage.schema import price_overrides

COST_TOL = 5e-9  # costs are exact to 1e-8 USD
TOL = 1e-6
GRANULARITIES = ["hour", "day", "week", "month"]
DST_WEEKS = ["ny_spring_week", "ny_fall_week", "lh_fall_week", "lh_spring_week"]
# Longer windows (a year end, partial months, > 365 days, the projection gap): two zones each.
LONG = {
    "year_end": ["UTC", "Asia/Kathmandu"],
    "months": ["Asia/Kolkata", "Australia/Lord_Howe"],
    "long": ["America/New_York", "Asia/Kathmandu"],
    "gap": ["America/New_York", "Asia/Kolkata"],
}


def _case(*values):
    return pytest.param(*values, id="-".join(map(str, values)))


# Whole-window figures: every DST week in every zone, and the longer windows.
CASES = [_case(w, tz) for w in DST_WEEKS for tz in qd.ZONES] + [
    _case(w, tz) for w, zones in LONG.items() for tz in zones
]
# Time series: hours and days around every DST change in every zone; weeks and months
# where they mean something (long windows, partial first and last periods).
SERIES = (
    [_case(w, tz, "hour") for w in DST_WEEKS for tz in qd.ZONES]
    + [_case("ny_fall_week", "America/New_York", "day"), _case("lh_spring_week", "Australia/Lord_Howe", "day")]
    + [_case("year_end", tz, g) for tz in LONG["year_end"] for g in GRANULARITIES]
    + [_case("months", tz, g) for tz in LONG["months"] for g in ("day", "week", "month")]
    + [_case("long", tz, g) for tz in LONG["long"] for g in ("week", "month")]
    + [_case("long", "UTC", "day"), _case("gap", "Asia/Kolkata", "hour")]
    + [_case(w, tz, "hour") for w in ("ny_spring_day", "ny_fall_day") for tz in ("America/New_York", "Asia/Kolkata")]
)
# Agents (sparklines follow the same buckets): each granularity in a few zones.
AGENTS = [_case(w, tz, "hour") for w in DST_WEEKS for tz in ("America/New_York", "Australia/Lord_Howe")] + [
    _case("ny_fall_week", "Asia/Kathmandu", "day"),
    _case("year_end", "Asia/Kolkata", "week"),
    _case("year_end", "UTC", "day"),
    _case("months", "America/New_York", "week"),
    _case("long", "Australia/Lord_Howe", "month"),
    _case("gap", "Asia/Kathmandu", "hour"),
]


def load(engine, refresh_before_late: bool = False):
    """Insert the data set for a new org (another org's rows around it, late rows last)."""
    org, other = f"qorg-{uuid.uuid4().hex[:8]}", f"qoth-{uuid.uuid4().hex[:8]}"
    rows, late, other_rows, agents = qd.build(org, other)
    half = len(other_rows) // 2
    insert_logs(engine, other_rows[:half])
    insert_logs(engine, rows)
    insert_logs(engine, other_rows[half:])
    if refresh_before_late:  # the rollups hold everything so far; late rows are the live tail
        from ingest import refresh as rollups

        rollups.refresh(engine)
    insert_logs(engine, late)
    insert_agents(engine, agents)
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
    with engine.connect() as c:
        loaded = ref.load_rows(c, org)
        names = ref.load_agents(c, org)
        overrides = ref.load_overrides(c)
    assert len(loaded) == len(rows) + len(late)
    return SimpleNamespace(
        engine=engine, org=org, other=other, rows=loaded, agents=names, overrides=overrides, late=late
    )


@pytest.fixture(scope="module")
def data(engine):
    """The data set inserted once per engine."""
    return load(engine)


@pytest.fixture(scope="module")
def rolled(engine):
    """The same data set for another org, rolled up before its late rows arrive."""
    return load(engine, refresh_before_late=True)


NOW = datetime(2027, 1, 4, 12, tzinfo=UTC)  # after every window of these tests


def at(day, tz, hour=0, minute=0) -> datetime:
    """The instant tz's clocks first read `day hour:minute` (UTC)."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return local_instant(datetime(day.year, day.month, day.day, hour, minute), ZoneInfo(tz))


def make_filters(data, window, tz, source="all", granularity="auto", org=None, now=NOW):
    start, end = qd.WINDOWS[window] if isinstance(window, str) else window
    return parse_filters(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "timezone": tz,
            "source": source,
            "granularity": granularity,
        },
        org or data.org,
        now=now,
    )


def run(data, fn, f, *args):
    with data.engine.connect() as c:
        return fn(c, f, *args)


def iso(ts) -> str:
    return pd.Timestamp(ts).isoformat()


def within_1pct(got, exact) -> bool:
    """A percentile from the latency sketches: None/NaN exactly when there is none, else within 1 %."""
    if exact is None or pd.isna(exact):
        return got is None or pd.isna(got)
    return got is not None and not pd.isna(got) and abs(float(got) - exact) <= 0.01 * abs(exact)


def cost_ok(usd: float, e8: int) -> bool:
    return abs(float(usd) - e8 / 1e8) < COST_TOL


# ------------------------------------------------------------------ every figure, every zone


def _sources(window, tz):
    """ "all" and, alternating between cases, one of the two sources."""
    return ("all", ("system", "byok")[(list(qd.WINDOWS).index(window) + qd.ZONES.index(tz)) % 2])


def check_summary(data, f):
    got = run(data, summary, f).iloc[0]
    want = ref.summary(data.rows, ref.Window.of(f))
    assert cost_ok(got["total_cost_usd"], want["total_cost_e8"]), f.source
    for k in ("total_tokens", "total_input_tokens", "total_output_tokens", "total_cache_read_tokens", "executions"):
        assert int(got[k]) == want[k], (f.source, k)
    return want


def check_cache_savings(data, f):
    got = run(data, cache_savings, f).iloc[0]
    with data.engine.connect() as c:
        prices = rc.load_price_rows(c)
    want = rc.cache_economics(data.rows, ref.Window.of(f), prices)
    assert int(got["total_cache_read_tokens"]) == want["total_cache_read_tokens"]
    assert int(got["total_input_tokens"]) == want["total_input_tokens"]
    if want["hit_rate"] is None:
        assert got["hit_rate"] is None or math.isnan(got["hit_rate"])
    else:
        assert abs(got["hit_rate"] - want["hit_rate"]) < TOL
    assert abs(got["estimated_savings_usd"] - float(want["estimated_savings_usd"])) < COST_TOL
    assert int(got["skipped_models_count"]) == want["skipped_models_count"]
    assert int(got["cache_write_tokens"]) == want["cache_write_tokens"]
    assert abs(got["write_premium_usd"] - float(want["write_premium_usd"])) < COST_TOL
    assert abs(got["net_savings_usd"] - float(want["net_savings_usd"])) < COST_TOL


def _check_series(got: pd.DataFrame, want: pd.DataFrame, by_action: bool):
    assert len(got) == len(want)
    assert [iso(b) for b in got["bucket"]] == [iso(b) for b in want["bucket"]]
    if by_action:
        assert list(got["action_type"]) == list(want["action_type"])
    assert list(got["partial"].astype(bool)) == list(want["partial"])
    assert list(got["tokens"].astype(int)) == list(want["tokens"])
    assert list(got["executions"].astype(int)) == list(want["executions"])
    bad = [(iso(b), g, w) for b, g, w in zip(want["bucket"], got["cost_usd"], want["cost_e8"]) if not cost_ok(g, w)]
    assert not bad


def check_time_series(data, f):
    w = ref.Window.of(f)
    for by_action in (False, True):
        got = run(data, time_series, f, by_action)
        _check_series(got, ref.time_series(data.rows, w, by_action), by_action)
    # Zero-filled buckets add up to the window's totals (when no row is dated after now).
    if f.now >= f.end_utc:
        assert int(got["executions"].sum()) == ref.summary(data.rows, w)["executions"]


def check_model_efficiency(data, f):
    got = run(data, model_efficiency, f)
    want = ref.model_efficiency(data.rows, ref.Window.of(f)).set_index(["provider", "model"])
    assert len(got) == len(want)
    for r in got.itertuples(index=False):
        w = want.loc[(r.provider, r.model)]
        assert cost_ok(r.cost_usd, w["cost_e8"])
        for k in ("input_tokens", "output_tokens", "cache_read_tokens", "executions"):
            assert int(getattr(r, k)) == w[k], k
        if w["avg_latency_ms"] is None or pd.isna(w["avg_latency_ms"]):
            assert r.avg_latency_ms is None or pd.isna(r.avg_latency_ms)
        else:
            assert abs(r.avg_latency_ms - w["avg_latency_ms"]) < TOL
        for q in (50, 95, 99):
            assert within_1pct(getattr(r, f"p{q}_latency_ms"), w[f"p{q}_latency_ms"]), (q, r)
    assert list(got["cost_usd"]) == sorted(got["cost_usd"], reverse=True)


def check_by_agent(data, f):
    got = run(data, by_agent, f)
    want = ref.by_agent(data.rows, data.agents, ref.Window.of(f))
    assert sorted(got["agent_id"], key=str) == sorted(want["agent_id"], key=str)
    byid = {a: r for a, r in zip(want["agent_id"], want.to_dict("records"))}
    for r in got.to_dict("records"):
        w = byid[r["agent_id"]]
        assert cost_ok(r["cost_usd"], w["cost_e8"])
        assert (int(r["tokens"]), int(r["executions"])) == (w["tokens"], w["executions"])
        if w["known"]:
            assert (r["name"], r["avatar_url"]) == (w["name"], w["avatar_url"])
        elif r["agent_id"] is None:  # no agent: no name (the page labels it), no avatar
            assert (r["name"], r["avatar_url"]) == (None, None)
        else:  # no agents row of this org: a readable name, never another org's, no avatar
            assert isinstance(r["name"], str) and r["name"] and r["name"] != "De otra org"
            assert r["avatar_url"] is None
        assert len(r["sparkline"]) == len(w["sparkline_e8"])
        assert all(cost_ok(g, e) for g, e in zip(r["sparkline"], w["sparkline_e8"]))
        assert within_1pct(r["p95_latency_ms"], w["p95_latency_ms"]), r
    assert list(got["cost_usd"]) == sorted(got["cost_usd"], reverse=True)


def check_heatmap(data, f):
    got = run(data, heatmap, f)
    want = ref.heatmap(data.rows, ref.Window.of(f))
    assert list(zip(got["dow"], got["hour"])) == list(zip(want["dow"], want["hour"]))
    assert list(got["tokens"]) == list(want["tokens"])
    assert list(got["executions"]) == list(want["executions"])
    assert all(cost_ok(g, w) for g, w in zip(got["cost_usd"], want["cost_e8"]))


def _check_projection(got, want):
    assert got.status == want["status"]
    assert got.daily_points == want["daily_points"]
    assert got.as_of == want["as_of"]
    if want["status"] == "insufficient_data":
        assert got.projected_total_usd is None and got.lower80 is None and got.upper80 is None
        return
    assert (got.month_start, got.month_end) == (want["month_start"], want["month_end"])
    for k in ("month_to_date_usd", "projected_total_usd", "lower80", "upper80"):
        assert abs(getattr(got, k) - want[k]) < TOL, k
    assert got.lower80 <= got.projected_total_usd <= got.upper80 + TOL
    assert dict(zip(got.daily["date"], got.daily["cost_usd"])) == pytest.approx(want["daily"], abs=COST_TOL)
    if want["status"] == "closed":
        assert got.month_to_date_usd == got.projected_total_usd == got.lower80 == got.upper80
        assert got.forecast.empty
        return
    assert dict(zip(got.forecast["date"], got.forecast["yhat"])) == pytest.approx(want["forecast"], abs=TOL)
    assert dict(zip(got.forecast["date"], got.forecast["weight"])) == pytest.approx(want["weights"], abs=1e-12)


def check_projection(data, f):
    want = ref.projection(data.rows, ref.Window.of(f))
    _check_projection(run(data, projection, f), want)
    return want


@pytest.mark.parametrize("window,tz", CASES)
def test_summary(data, window, tz):
    for source in _sources(window, tz):
        want = check_summary(data, make_filters(data, window, tz, source))
    assert want["executions"] > 0  # the window is not empty: the comparison means something


@pytest.mark.parametrize("window,tz", CASES)
def test_cache_savings(data, window, tz):
    for source in _sources(window, tz):
        check_cache_savings(data, make_filters(data, window, tz, source))


@pytest.mark.parametrize("window,tz,granularity", SERIES)
def test_time_series(data, window, tz, granularity):
    check_time_series(data, make_filters(data, window, tz, granularity=granularity))


@pytest.mark.parametrize("window,tz", CASES)
def test_model_efficiency(data, window, tz):
    check_model_efficiency(data, make_filters(data, window, tz))


def test_hourly_refused_beyond_92_days(data):
    with pytest.raises(BadParameter) as e:
        make_filters(data, "months", "UTC", granularity="hour")
    assert e.value.parameter == "granularity"


@pytest.mark.parametrize("window,tz,granularity", AGENTS)
def test_by_agent(data, window, tz, granularity):
    check_by_agent(data, make_filters(data, window, tz, granularity=granularity))


@pytest.mark.parametrize("window,tz", CASES)
def test_heatmap(data, window, tz):
    check_heatmap(data, make_filters(data, window, tz))


@pytest.mark.parametrize("window,tz", CASES)
def test_projection(data, window, tz):
    """Each window seen at 15:00 local on its last day (asOf = today: the rest of today is
    forecast; the 7-day windows the day after, as today would leave 6 fitting days) and
    from a later month (closed: the month's actual total)."""
    source = _sources(window, tz)[1]
    start, end = qd.WINDOWS[window]
    today = end + timedelta(days=1) if (end - start).days < 7 else end
    want = check_projection(data, make_filters(data, window, tz, source, now=at(today, tz, 15)))
    assert want["status"] in (("insufficient_data",) if window == "gap" else ("ok", "insufficient_data"))
    if want["status"] == "ok" and today == end:
        assert want["weights"][end] == pytest.approx(9 / 24)
    assert check_projection(data, make_filters(data, window, tz, source))["status"] == "closed"


# The rollup path (facts() from pre-aggregated tables plus the live tail) answers the same.
ROLLUP = [
    _case("ny_fall_week", "America/New_York", "hour", "all"),
    _case("ny_spring_day", "America/New_York", "hour", "byok"),
    _case("lh_spring_week", "Australia/Lord_Howe", "hour", "system"),
    _case("lh_fall_week", "Australia/Lord_Howe", "day", "all"),
    _case("year_end", "Asia/Kathmandu", "week", "byok"),
    _case("months", "Asia/Kolkata", "month", "all"),
    _case("long", "America/New_York", "month", "system"),
    _case("gap", "Asia/Kolkata", "day", "all"),
]


@pytest.mark.parametrize("window,tz,granularity,source", ROLLUP)
def test_rollup_path(rolled, window, tz, granularity, source):
    f = make_filters(rolled, window, tz, source, granularity)
    rolled = _use("rollup", rolled)
    for check in (
        check_summary,
        check_cache_savings,
        check_time_series,
        check_model_efficiency,
        check_by_agent,
        check_heatmap,
        check_projection,
    ):
        check(rolled, f)


@pytest.mark.parametrize(
    "window,source,status,points",
    [
        (("2026-06-10", "2026-06-25"), "all", "insufficient_data", 3),  # the gap: three days with rows
        (("2026-06-02", "2026-06-07"), "all", "insufficient_data", 6),
        (("2026-06-02", "2026-06-14"), "byok", "insufficient_data", 6),
        (("2026-06-01", "2026-06-12"), "byok", "ok", 7),  # the fewest points that fit
        (("2026-05-20", "2026-05-31"), "all", "closed", 12),  # seen on 1 June: May is over
        (("2026-01-14", "2026-02-03"), "all", "ok", 21),  # the window starts in the month before `to`'s
        (("2026-02-10", "2026-03-05"), "byok", "ok", 19),  # month to date includes days before the window
    ],
)
def test_projection_points(data, window, source, status, points):
    """Seen the morning after `to` (asOf = to < today: the days left are forecast whole)."""
    now = datetime.fromisoformat(window[1]).replace(tzinfo=UTC) + timedelta(days=1, hours=10)
    f = parse_filters({"from": window[0], "to": window[1], "timezone": "UTC", "source": source}, data.org, now=now)
    got = run(data, projection, f)
    want = ref.projection(data.rows, ref.Window.of(f))
    assert (want["status"], want["daily_points"]) == (status, points)  # the data set is as designed
    _check_projection(got, want)


# (window, timezone, source, now as local (date, hour, minute)): the clock inside the data.
TODAY_CASES = [
    # Today is not a fitting point: seven days with rows before today, the eighth is today.
    _case("2026-06-01", "2026-06-13", "UTC", "byok", ("2026-06-13", 18, 0)),
    # DST days as today: r over a 25-hour and a 23-hour local day.
    _case("2026-10-15", "2026-11-01", "America/New_York", "all", ("2026-11-01", 10, 0)),
    _case("2026-02-20", "2026-03-08", "America/New_York", "system", ("2026-03-08", 10, 0)),
    _case("2026-09-20", "2026-10-04", "Australia/Lord_Howe", "all", ("2026-10-04", 5, 15)),
    # +5:30 and +5:45 zones, today in the middle of the window (the window reaches into the future).
    _case("2026-02-20", "2026-03-20", "Asia/Kolkata", "all", ("2026-03-12", 7, 45)),
    _case("2026-11-20", "2026-12-10", "Asia/Kathmandu", "byok", ("2026-11-26", 0, 0)),
    # Today is the 1st of the month: the whole month is forecast, month to date is today so far.
    _case("2026-10-02", "2026-11-01", "America/New_York", "all", ("2026-11-01", 9, 30)),
    _case("2026-09-02", "2026-10-01", "Asia/Kathmandu", "all", ("2026-10-01", 23, 45)),
    # `to` before today, same month; and a past month seen from the next (closed).
    _case("2026-08-01", "2026-08-20", "Asia/Kolkata", "all", ("2026-08-25", 12, 0)),
    _case("2026-03-04", "2026-03-20", "Asia/Kathmandu", "all", ("2026-04-02", 8, 0)),
    _case("2026-11-10", "2026-12-09", "Australia/Lord_Howe", "system", ("2026-12-01", 0, 30)),
]


@pytest.mark.parametrize("start,end,tz,source,now", TODAY_CASES)
def test_projection_as_of_today(data, start, end, tz, source, now):
    f = parse_filters(
        {"from": start, "to": end, "timezone": tz, "source": source}, data.org, now=at(now[0], tz, *now[1:])
    )
    want = check_projection(data, f)
    today = date.fromisoformat(now[0])
    assert want["as_of"] == min(date.fromisoformat(end), today)
    assert today not in want.get("daily", {})  # today is never a fitting point
    if want["status"] == "ok":
        assert want["upper80"] > want["lower80"]  # never a zero-width interval with days left
        if want["as_of"] == today:
            a, b = at(today, tz), at(today + timedelta(days=1), tz)
            assert want["weights"][today] == pytest.approx((b - f.now) / (b - a), abs=1e-12)


def test_projection_r_uses_the_real_length_of_today():
    """23- and 25-hour days: 14 hours are left at 10:00 local, of 23, 25 or 24; at 01:30 on
    the 25-hour day (first reading) 23.5 of 25."""
    from queries.projection import remaining_share

    for day, share in (("2026-03-08", 14 / 23), ("2026-11-01", 14 / 25), ("2026-06-01", 14 / 24)):
        f = parse_filters(
            {"from": day, "to": day, "timezone": "America/New_York"}, "o", now=at(day, "America/New_York", 10)
        )
        assert remaining_share(f) == pytest.approx(share, abs=1e-12)
    f = parse_filters(
        {"from": "2026-11-01", "to": "2026-11-01", "timezone": "America/New_York"},
        "o",
        now=at("2026-11-01", "America/New_York", 1, 30),
    )
    assert remaining_share(f) == pytest.approx(23.5 / 25, abs=1e-12)


def test_projection_closed_counts_the_whole_month(data):
    """A window in a past month: the month's actual total, days outside the window included."""
    f = parse_filters(
        {"from": "2026-03-04", "to": "2026-03-20", "timezone": "Asia/Kathmandu"},
        data.org,
        now=datetime(2026, 4, 2, tzinfo=UTC),
    )
    got = run(data, projection, f)
    month = ref.summary(data.rows, ref.Window("Asia/Kathmandu", date(2026, 3, 1), date(2026, 3, 31)))
    inside = ref.summary(data.rows, ref.Window("Asia/Kathmandu", date(2026, 3, 4), date(2026, 3, 20)))
    assert got.status == "closed" and got.month_start == date(2026, 3, 1) and got.as_of == date(2026, 3, 20)
    assert cost_ok(got.projected_total_usd, month["total_cost_e8"]) and got.lower80 == got.upper80
    assert got.projected_total_usd > inside["total_cost_e8"] / 1e8


def test_projection_month_to_date_reaches_before_window(data):
    """monthToDateUsd counts the month's days before the window's first day too."""
    f = parse_filters(
        {"from": "2026-03-04", "to": "2026-03-20", "timezone": "Asia/Kathmandu"},
        data.org,
        now=datetime(2026, 3, 21, 9, tzinfo=UTC),
    )
    got = run(data, projection, f)
    inside = ref.summary(data.rows, ref.Window("Asia/Kathmandu", date(2026, 3, 4), date(2026, 3, 20)))
    assert got.status == "ok" and got.month_to_date_usd > inside["total_cost_e8"] / 1e8


# ------------------------------------------------------------------ the clock: future and partial buckets


# (window, timezone, granularity, now as local (date, hour, minute)).
CLOCK_CASES = [
    _case("ny_fall_day", "America/New_York", "hour", ("2026-11-01", 1, 30)),  # inside the first 01:00
    _case("ny_fall_week", "America/New_York", "day", ("2026-11-01", 12, 0)),
    _case("lh_spring_week", "Australia/Lord_Howe", "hour", ("2026-10-04", 2, 45)),
    _case("year_end", "Asia/Kathmandu", "week", ("2026-01-07", 6, 0)),
    _case("months", "Asia/Kolkata", "week", ("2026-04-15", 23, 59)),
    _case("months", "Asia/Kolkata", "month", ("2026-03-01", 0, 0)),  # a bucket starting exactly now
    _case("long", "America/New_York", "month", ("2026-07-31", 22, 0)),
    _case("year_end", "UTC", "day", ("2025-12-16", 12, 0)),  # the whole window is in the future
]


@pytest.mark.parametrize("window,tz,granularity,now", CLOCK_CASES)
def test_future_buckets_left_out_partial_marked(data, window, tz, granularity, now):
    f = make_filters(data, window, tz, granularity=granularity, now=at(now[0], tz, *now[1:]))
    check_time_series(data, f)
    check_by_agent(data, f)
    got = run(data, time_series, f)
    assert all(b <= f.now for b in got["bucket"])  # nothing starts after now
    if len(got):
        assert bool(got["partial"].iloc[-1])  # the bucket in progress
    else:
        assert f.now < f.start_utc


def test_ytd_weekly_first_and_last_weeks_are_partial(data):
    """YTD at weekly resolution: the week cut by 1 January and the week in progress."""
    f = parse_filters(
        {"preset": "ytd", "granularity": "week", "timezone": "Asia/Kolkata"},
        data.org,
        now=at("2026-11-25", "Asia/Kolkata", 14),
    )
    got = run(data, time_series, f)
    assert iso(got["bucket"].iloc[0]) == "2025-12-29T00:00:00+05:30"  # Monday before 1 January
    assert iso(got["bucket"].iloc[-1]) == "2026-11-23T00:00:00+05:30"
    assert list(got["partial"]) == [True] + [False] * (len(got) - 2) + [True]
    check_time_series(data, f)


def test_custom_week_starting_on_a_wednesday(data):
    f = make_filters(data, (date(2026, 4, 1), date(2026, 4, 30)), "Asia/Kathmandu", granularity="week")
    got = run(data, time_series, f)
    assert [iso(b)[:10] for b in got["bucket"]] == [
        "2026-03-30",
        "2026-04-06",
        "2026-04-13",
        "2026-04-20",
        "2026-04-27",
    ]
    assert list(got["partial"]) == [True, False, False, False, True]


# ------------------------------------------------------------------ exact bucket labels


@pytest.mark.parametrize(
    "tz,day,labels",
    [
        (
            "America/New_York",
            "2026-11-01",
            [
                "2026-11-01T00:00:00-04:00",
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T02:00:00-05:00",
            ]
            + [f"2026-11-01T{h:02d}:00:00-05:00" for h in range(3, 24)],
        ),
        (
            "America/New_York",
            "2026-03-08",
            ["2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00"]
            + [f"2026-03-08T{h:02d}:00:00-04:00" for h in range(3, 24)],
        ),
        (
            "Australia/Lord_Howe",
            "2026-04-05",  # 01:30-02:00 repeats: one 90-minute 01:00 hour
            ["2026-04-05T00:00:00+11:00", "2026-04-05T01:00:00+11:00"]
            + [f"2026-04-05T{h:02d}:00:00+10:30" for h in range(2, 24)],
        ),
        (
            "Australia/Lord_Howe",
            "2026-10-04",  # 02:00-02:30 does not exist: the 02 hour starts 02:30
            ["2026-10-04T00:00:00+10:30", "2026-10-04T01:00:00+10:30", "2026-10-04T02:30:00+11:00"]
            + [f"2026-10-04T{h:02d}:00:00+11:00" for h in range(3, 24)],
        ),
        ("Asia/Kolkata", "2026-03-08", [f"2026-03-08T{h:02d}:00:00+05:30" for h in range(24)]),
        ("Asia/Kathmandu", "2026-11-01", [f"2026-11-01T{h:02d}:00:00+05:45" for h in range(24)]),
    ],
)
def test_hour_labels_on_dst_days(data, tz, day, labels):
    f = parse_filters({"from": day, "to": day, "timezone": tz}, data.org)
    assert f.granularity == "hour"
    got = run(data, time_series, f)
    assert [iso(b) for b in got["bucket"]] == labels
    assert len(got) == {
        "2026-11-01": 25 if tz == "America/New_York" else 24,
        "2026-03-08": 23 if tz == "America/New_York" else 24,
    }.get(day, 24)
    # The dense rows put usage in every hour of these days, both 01:xx hours included.
    if tz in ("America/New_York", "Australia/Lord_Howe"):
        assert (got["executions"] > 0).all()


def test_two_fall_back_hours_hold_their_own_rows(data):
    f = parse_filters({"from": "2026-11-01", "to": "2026-11-01", "timezone": "America/New_York"}, data.org)
    got = run(data, time_series, f)
    got.index = [iso(b) for b in got["bucket"]]
    rows = data.rows
    first = rows[(rows["ts"] >= pd.Timestamp("2026-11-01 05:00Z")) & (rows["ts"] < pd.Timestamp("2026-11-01 06:00Z"))]
    second = rows[(rows["ts"] >= pd.Timestamp("2026-11-01 06:00Z")) & (rows["ts"] < pd.Timestamp("2026-11-01 07:00Z"))]
    assert got.loc["2026-11-01T01:00:00-04:00", "executions"] == len(first) > 0
    assert got.loc["2026-11-01T01:00:00-05:00", "executions"] == len(second) > 0


@pytest.mark.parametrize(
    "window,tz,granularity,first,last",
    [
        ("year_end", "UTC", "week", "2025-12-15T00:00:00+00:00", "2026-01-19T00:00:00+00:00"),
        ("year_end", "Asia/Kathmandu", "month", "2025-12-01T00:00:00+05:45", "2026-01-01T00:00:00+05:45"),
        ("months", "Asia/Kolkata", "week", "2026-01-12T00:00:00+05:30", "2026-05-18T00:00:00+05:30"),
        ("months", "America/New_York", "month", "2026-01-01T00:00:00-05:00", "2026-05-01T00:00:00-04:00"),
        ("months", "Australia/Lord_Howe", "month", "2026-01-01T00:00:00+11:00", "2026-05-01T00:00:00+10:30"),
        ("long", "America/New_York", "month", "2025-10-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"),
        ("ny_fall_week", "America/New_York", "day", "2026-10-29T00:00:00-04:00", "2026-11-04T00:00:00-05:00"),
    ],
)
def test_partial_period_labels(data, window, tz, granularity, first, last):
    """Cut periods keep their calendar start as label and count only the window's rows."""
    f = make_filters(data, window, tz, granularity=granularity)
    got = run(data, time_series, f)
    assert (iso(got["bucket"].iloc[0]), iso(got["bucket"].iloc[-1])) == (first, last)
    want = ref.summary(data.rows, ref.Window.of(f))
    assert int(got["executions"].sum()) == want["executions"]
    assert cost_ok(got["cost_usd"].sum(), want["total_cost_e8"])


def test_auto_granularity_and_bucket_counts(data):
    counts = {
        "ny_spring_week": ("hour", 7 * 24 - 1),
        "ny_fall_week": ("hour", 7 * 24 + 1),
        "year_end": ("day", 35),
        "months": ("week", 19),
        "long": ("month", 15),
    }
    for window, (gran, n) in counts.items():
        f = make_filters(data, window, "America/New_York")
        assert f.granularity == gran
        assert len(run(data, time_series, f)) == n, window


# ------------------------------------------------------------------ rows, orgs, freshness


def test_other_org_rows_exist_but_never_count(data):
    f = make_filters(data, "long", "UTC")
    theirs = run(data, summary, make_filters(data, "long", "UTC", org=data.other)).iloc[0]
    ours = run(data, summary, f).iloc[0]
    assert theirs["executions"] > 0 and theirs["total_cost_usd"] > 1000
    assert ours["executions"] == ref.summary(data.rows, ref.Window.of(f))["executions"]


def test_window_edges_exact(data):
    """A row at the first local midnight counts; one 1 µs before it or at the end does not."""
    rows = data.rows
    for tz in qd.ZONES:
        f = make_filters(data, "ny_fall_day", tz)
        a, b = ref.window_bounds(ref.Window.of(f))
        at_start = int((rows["ts"] == a).sum())
        before = int((rows["ts"] == a - pd.Timedelta(microseconds=1)).sum())
        at_end = int((rows["ts"] == b).sum())
        assert at_start and before and at_end  # the data set has these edge rows
        inside = int(((rows["ts"] >= a) & (rows["ts"] < b)).sum())
        assert int(run(data, summary, f).iloc[0]["executions"]) == inside
        series = run(data, time_series, f)
        assert int(series["executions"].sum()) == inside


def test_empty_org(data, org_id):
    f = make_filters(data, "ny_fall_week", "Asia/Kathmandu", org=org_id)
    s = run(data, summary, f).iloc[0]
    assert s["executions"] == 0 and s["total_cost_usd"] == 0
    c = run(data, cache_savings, f).iloc[0]
    assert c["hit_rate"] is None and c["skipped_models_count"] == 0 and c["estimated_savings_usd"] == 0
    ts = run(data, time_series, f)
    assert len(ts) == 7 * 24 and ts["executions"].sum() == 0  # Kathmandu has no DST
    assert len(run(data, time_series, f, True)) == 7 * 24 * 5
    assert run(data, model_efficiency, f).empty and run(data, by_agent, f).empty
    assert run(data, heatmap, f).empty
    p = run(data, projection, f)  # a past month: its actual total, zero
    assert (p.status, p.daily_points, p.projected_total_usd, p.upper80) == ("closed", 0, 0.0, 0.0)
    p = run(
        data,
        projection,
        make_filters(data, "ny_fall_week", "Asia/Kathmandu", org=org_id, now=at("2026-11-04", "Asia/Kathmandu", 12)),
    )
    assert (p.status, p.daily_points, p.projected_total_usd) == ("insufficient_data", 0, None)


def _use(path, data):
    """data whose engine answers facts() from `path` ("raw" or "rollup"; "rollup-wide": the
    rollups even for a narrow user, as for one past queries.slice_rows.MAX_ROWS)."""
    engine = qbase.facts_path(data.engine, path.removesuffix("-wide"))
    if path == "rollup-wide":
        engine = engine.execution_options(**{slice_rows.OPTION: False})
    return SimpleNamespace(**{**vars(data), "engine": engine})


@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_late_row_counts_at_once(data, org_id, path):
    """A committed row counts in the next answer, whatever its created_at."""
    eng = data.engine
    data = _use(path, data)
    base = [dict(r, org_id=org_id, agent_id=None) for r in qd.build(org_id, "x")[0][:60]]
    insert_logs(eng, base)
    if path == "rollup":
        from ingest import refresh as rollups

        rollups.refresh(eng)
    f = parse_filters({"from": "2025-09-20", "to": "2025-10-20", "timezone": "Asia/Kolkata"}, org_id)
    before = run(data, summary, f).iloc[0]
    late = dict(
        base[5], created_at=datetime(2025, 9, 30, 18, 29, 59, 999999, tzinfo=UTC), cost_usd=qd.Decimal("0.00000001")
    )
    insert_logs(eng, [late])
    with eng.connect() as c:
        rows = ref.load_rows(c, org_id)
    after = run(data, summary, f).iloc[0]
    assert after["executions"] == before["executions"] + 1
    want = ref.summary(rows, ref.Window.of(f))
    assert cost_ok(after["total_cost_usd"], want["total_cost_e8"])
    _check_series(run(data, time_series, f), ref.time_series(rows, ref.Window.of(f)), False)


def test_every_figure_reads_through_facts(data, monkeypatch):
    """facts() is the single entry to rows: a swapped implementation answers every figure."""
    calls = []
    raw_facts = qbase.raw_facts

    def spy(conn, f, **kw):
        calls.append(kw)
        return raw_facts(conn, f, **kw)

    monkeypatch.setattr(qbase, "raw_facts", spy)  # the path facts() takes on a plain connection
    f = make_filters(data, "ny_fall_week", "America/New_York")
    for fn in (summary, cache_savings, model_efficiency, heatmap, projection, by_agent, time_series):
        n = len(calls)
        run(data, fn, f)
        assert len(calls) > n, fn.__name__


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"])
@pytest.mark.parametrize("granularity", ["hour", "day", "week", "month"])
@pytest.mark.parametrize("by", ["bucket", "clock_hour"])
def test_raw_segments_sum_like_quarter_hours(data, tz, granularity, by):
    """With boundaries, raw_facts may key a segment between two by its first quarter-hour
    (PostgreSQL does: fewer groups): every key lies in the segment, and the sums per local
    bucket (or clock hour) equal those of the plain quarter-hour keys, dimension by dimension."""
    window = "ny_fall_week" if granularity == "hour" else "long"
    f = make_filters(data, window, tz, granularity=granularity)
    cuts = qbuckets.bucket_cuts(f, by=by)
    with data.engine.connect() as c:
        seg = qbase.raw_facts(c, f, dims=("action_type",), by_qh=True, boundaries=cuts)
        qh = qbase.raw_facts(c, f, dims=("action_type",), by_qh=True)
        dialect = c.dialect.name
    assert len(qh) and len(seg) <= len(qh)
    if dialect == "postgresql":  # one key per (segment, action) at most, each a segment's start
        starts = segment_thresholds(cuts, f.start_utc.timestamp(), f.read_end_utc.timestamp())
        assert set(seg["qh"]) <= set(starts) and len(seg) < len(qh)

    def per_bucket(df):
        if by == "bucket":
            key = qbuckets.bucket_epochs(df["qh"].to_numpy(), f.granularity, f.tz)
        else:  # the segment a quarter-hour falls in, by the same cuts
            key = np.searchsorted(cuts // 900, df["qh"].to_numpy(), side="right")
        return df.assign(b=key).groupby(["b", "action_type"])[MEASURES].sum().sort_index()

    pd.testing.assert_frame_equal(per_bucket(seg), per_bucket(qh))


def test_user_ranking_work_mem_is_its_transactions(data):
    """The users' ranking raises work_mem (PostgreSQL) for its own transaction only: the
    pooled connection comes back with the server's setting."""
    from queries import users

    f = make_filters(data, "long", "UTC")
    with data.engine.connect() as c:
        default = c.exec_driver_sql("SHOW work_mem").scalar() if c.dialect.name == "postgresql" else None
        c.rollback()
        assert users.by_user(c, f).total_users > 0
        if default is not None:
            assert c.exec_driver_sql("SHOW work_mem").scalar() == users.WORK_MEM != default
    if default is not None:
        with data.engine.connect() as c:
            assert c.exec_driver_sql("SHOW work_mem").scalar() == default


def test_segment_thresholds():
    """The window's first quarter-hour, then the cuts strictly inside it, once each."""
    cuts = np.array([900 * 10, 900 * 12, 900 * 12, 900 * 20, 900 * 40], dtype="int64")
    assert segment_thresholds(cuts, 900 * 12, 900 * 40) == [12, 20]
    assert segment_thresholds(cuts, 900 * 11 + 7, 900 * 40 + 1) == [11, 12, 20, 40]
    assert segment_thresholds(np.array([], dtype="int64"), 900 * 3, 900 * 9) == [3]


# ------------------------------------------------------------------ random windows


ZONE_POOL = qd.ZONES + qd.MIDNIGHT_ZONES + ["Pacific/Chatham", "Europe/Dublin"]
EDGE_DATES = sorted(
    {d for w in qd.WINDOWS.values() for d in (w[0], w[1])}
    | {date(2026, 9, 6), date(2026, 9, 5), date(2026, 3, 7), date(2026, 11, 2)}
)


@st.composite
def windows(draw):
    start = draw(st.one_of(st.sampled_from(EDGE_DATES), st.dates(date(2025, 9, 22), date(2026, 12, 31))))
    days = draw(st.one_of(st.integers(1, 10), st.integers(1, 400)))
    end = min(start + timedelta(days=days - 1), date(2027, 1, 3))
    gran = draw(st.sampled_from(["auto", *GRANULARITIES]))
    if gran == "hour" and (end - start).days + 1 > 92:
        gran = "day"
    return start, end, gran


@pytest.fixture(params=["raw", "rollup"])
def any_path(request, engine):
    """The raw path over `data`, or the rollup path over `rolled` (the same rows)."""
    return _use(request.param, request.getfixturevalue("data" if request.param == "raw" else "rolled"))


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    win=windows(),
    tz=st.sampled_from(ZONE_POOL),
    source=st.sampled_from(["all", "system", "byok"]),
    by_action=st.booleans(),
    clock=st.one_of(st.none(), st.integers(-30, 420 * 96)),
)
def test_random_windows(any_path, win, tz, source, by_action, clock):
    data = any_path
    start, end, gran = win
    # clock: quarter-hours after the window's first local midnight (None: after every window).
    now = NOW if clock is None else at(start, tz) + timedelta(minutes=15 * clock + 7)
    f = make_filters(data, (start, end), tz, source, gran, now=now)
    w = ref.Window.of(f)
    _check_series(run(data, time_series, f, by_action), ref.time_series(data.rows, w, by_action), by_action)
    got = run(data, summary, f).iloc[0]
    want = ref.summary(data.rows, w)
    assert int(got["executions"]) == want["executions"]
    assert cost_ok(got["total_cost_usd"], want["total_cost_e8"])
    agents = run(data, by_agent, f)
    want_agents = ref.by_agent(data.rows, data.agents, w)
    assert len(agents) == len(want_agents)
    for r in agents.to_dict("records"):
        wr = want_agents[want_agents["agent_id"].map(lambda a: a == r["agent_id"])].iloc[0]  # noqa: B023 (used at once)
        assert len(r["sparkline"]) == len(wr["sparkline_e8"])
        assert all(cost_ok(g, e) for g, e in zip(r["sparkline"], wr["sparkline_e8"]))
    check_projection(data, f)


@pytest.mark.parametrize("start,end,tz,source,now", TODAY_CASES)
def test_rollup_path_under_the_clock(rolled, start, end, tz, source, now):
    """The rollups plus the live tail (late rows) answer the clock cases like the reference:
    month to date up to now (an unaligned edge), partial buckets, nothing after now."""
    rolled = _use("rollup", rolled)
    f = parse_filters(
        {"from": start, "to": end, "timezone": tz, "source": source}, rolled.org, now=at(now[0], tz, *now[1:])
    )
    check_projection(rolled, f)
    check_time_series(rolled, f)
    check_by_agent(rolled, f)
