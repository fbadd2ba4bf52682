"""`ai-usage bench`'s filtered rows (issue 9): a 365-day full page refresh with one filter and
`compare=previous`, per kind of filter, on rollups (and once on the raw table, to check).

The page with a comparison: every answer of the unfiltered bench (summary, cache savings,
projection, time series, time series by action, model efficiency, by agent, heatmap) plus
the users' ranking beside the earlier window's, then the earlier window's summary, cache
savings, time series, model efficiency and by agent (the last two lean, as the API).
Filters, each alone, chosen from the bench org's own rows: the busiest user, agent, model,
action type and provider, and the user and the agent whose share of the rows is nearest
0.1 % (their share is printed).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

ZONES = ("Asia/Kathmandu", "UTC")
SMALL_SHARE = 0.001
SLOW_S, SLOW_RUNS = 3.0, 2  # a warm-up slower than SLOW_S: time SLOW_RUNS runs, not `runs`


def _pick(conn, org: str, column: str, share: float | None) -> tuple[str, float]:
    """The busiest value of column (share None), or the one whose share of rows is nearest `share`."""
    rows = conn.execute(
        sa.text(
            f"SELECT {column}, COUNT(*) FROM token_usage_logs WHERE org_id = :o AND {column} IS NOT NULL"
            f" GROUP BY {column}"
        ),
        {"o": org},
    ).all()
    total = sum(int(n) for _, n in rows)
    if share is None:
        value, n = max(rows, key=lambda r: (int(r[1]), str(r[0])))
    else:
        value, n = min(rows, key=lambda r: (abs(int(r[1]) / total - share), str(r[0])))
    return str(value), int(n) / total


def filters_to_time(engine, org: str) -> list[tuple[str, str, str, float]]:
    """(kind, API parameter, value, share of the org's rows) of each filter timed."""
    with engine.connect() as c:
        out = []
        for kind, param, column, share in (
            ("user (0.1 %)", "userId", "user_id", SMALL_SHARE),
            ("user (busiest)", "userId", "user_id", None),
            ("agent (0.1 %)", "agentId", "agent_id", SMALL_SHARE),
            ("agent (busiest)", "agentId", "agent_id", None),
            ("model", "model", "model", None),
            ("action type", "actionType", "action_type", None),
            ("provider", "provider", "provider", None),
        ):
            value, got = _pick(c, org, column, share)
            out.append((kind, param, value, got))
    return out


def page(engine, f, f_sys, timings: dict | None = None) -> list:
    """Every answer of one filtered page refresh with its comparison, each on its own
    pooled connection, read as the API reads them (api/bodies.py): the earlier window's
    models and agents lean (totals only), the agents without latency (not in the answer),
    the users' ranking of both windows in one call (by_user_compared); timings: seconds
    per call name, appended. A narrow slice's rows kept from an earlier page are dropped
    first (queries.slice_rows): each page reads them again, as after a row committed between
    two refreshes."""
    import queries
    from queries import slice_rows

    slice_rows.clear()

    e, e_sys = queries.earlier(f), queries.earlier(f_sys)
    calls: list[tuple[Any, ...]] = [
        ("summary", queries.summary, f, ()),
        ("cache_savings", queries.cache_economics, f_sys, ()),  # totals and points, as the API
        ("projection", queries.projection, f, ()),
        ("time_series", queries.time_series, f, ()),
        ("time_series_by_action", queries.time_series, f, (True,)),
        ("model_efficiency", queries.model_efficiency, f, ()),
        ("by_agent", partial(queries.by_agent, latency=False), f, ()),
        ("heatmap", queries.heatmap, f, ()),
        ("by_user", queries.by_user_compared, f, ()),  # both windows' rankings, as the API
        ("earlier summary", queries.summary, e, ()),
        ("earlier cache_savings", queries.cache_savings, e_sys, ()),
        ("earlier time_series", queries.time_series, e, ()),
        ("earlier model_efficiency", partial(queries.model_efficiency, detail=False), e, ()),
        ("earlier by_agent", partial(queries.by_agent, detail=False, latency=False), e, ()),
    ]
    out = []
    for name, fn, ff, args in calls:
        t0 = time.perf_counter()
        with engine.connect() as conn:
            out.append(fn(conn, ff, *args))
        if timings is not None:
            timings[name].append(time.perf_counter() - t0)
    return out


def _comparable(answers: list) -> list:
    """by_user's Users as plain values (the bench's equality check compares frames and reprs)."""
    out = []
    for a in answers:
        if hasattr(a, "total_users"):
            out += [a.users, repr((a.total_users, a.others))]
        else:
            out.append(a)
    return out


# The Filters field each API filter parameter fills.
SLICE_FIELD = {
    "agentId": "agent_ids",
    "userId": "user_ids",
    "model": "models",
    "actionType": "action_types",
    "provider": "providers",
}


def one_filter(engine, org: str, kind: str, f, f_sys) -> tuple[str, Any, Any]:
    """(value, f, f_sys) narrowed by the benchmark's filter of that kind ("model", "user
    (0.1 %)", …, picked from the org's rows as filters_to_time picks it): the scripts that
    time one filtered question (scripts/filtered_ab.py, scripts/saturation_ab.py)."""
    picked = {k: (param, value) for k, param, value, _ in filters_to_time(engine, org)}
    param, value = picked[kind]
    field = SLICE_FIELD[param]
    return value, replace(f, **{field: (value,)}), replace(f_sys, **{field: (value,)})


def run(engine, org: str, now: datetime, runs: int, skip_raw: bool, filters_of, same) -> list[dict]:
    """Time each filter's page (`runs` times after a warm-up) in every zone of ZONES; check
    once against the raw table unless skip_raw. filters_of(org, tz, days, now) → (f, f_sys)."""
    from queries.base import facts_path

    roll, raw = facts_path(engine, "rollup"), facts_path(engine, "raw")
    results = []
    for kind, param, value, share in filters_to_time(engine, org):
        for tz in ZONES:
            f0, fs0 = filters_of(org, tz, 365, now)
            sl = SLICE_FIELD[param]
            f = replace(f0, compare="previous", **{sl: (value,)})
            fs = replace(fs0, compare="previous", **{sl: (value,)})
            t0 = time.perf_counter()
            answers = page(roll, f, fs)  # warm-up
            slow = time.perf_counter() - t0 > SLOW_S  # a page far off its budget: fewer runs say as much
            timings: dict = defaultdict(list)
            t = []
            for _ in range(min(runs, SLOW_RUNS) if slow else runs):
                t0 = time.perf_counter()
                page(roll, f, fs, timings)
                t.append(time.perf_counter() - t0)
            entry = {
                "filter": kind,
                "parameter": param,
                "value": value,
                "share": share,
                "timezone": tz,
                "median_s": statistics.median(t),
                "max_s": max(t),
                "runs": len(t),
                "slowest_calls_ms": {
                    k: round(statistics.median(v) * 1000, 1)
                    for k, v in sorted(timings.items(), key=lambda kv: -statistics.median(kv[1]))[:4]
                },
            }
            if not skip_raw:
                t1 = time.perf_counter()
                entry["equal"] = same(_comparable(answers), _comparable(page(raw, f, fs)))
                entry["raw_s"] = time.perf_counter() - t1
            results.append(entry)
            print_row(entry)
    return results


def print_row(e: dict) -> None:
    if not getattr(print_row, "done", False):
        print(
            f"{'filter (365 d, compare=previous)':<34}{'share':>7} {'timezone':<16}{'median':>9}{'max':>9}{'runs':>5}"
            "  equal"
        )
        print_row.done = True  # type: ignore[attr-defined]  # the header once per process
    eq = e.get("equal", "(raw skipped)")
    print(
        f"{e['filter']:<34}{e['share'] * 100:>6.2f}% {e['timezone']:<16}{e['median_s'] * 1000:>7.0f}ms"
        f"{e['max_s'] * 1000:>7.0f}ms{e['runs']:>5}  {eq}   slowest: "
        + ", ".join(f"{k} {v:.0f}" for k, v in e["slowest_calls_ms"].items()),
        flush=True,
    )
