"""Interleaved A/B of sub-day rests read signed (queries.rollup_read.SIGNED) or plain, per statement.

Usage: DATABASE_URL=… .venv/bin/python scripts/signed_ab.py [--zones America/New_York,…]
       [--days 90,365] [--reps 9] [--org bench] [--plans]
For each zone and window (ending today, as `make bench` asks them), the full refresh's eight
answers are asked once with signed plans off and once on, and every rollup statement they
send is kept. Each pair of statements then runs `reps` times alternating on one warm
connection, as `EXPLAIN (ANALYZE, SUMMARY, TIMING OFF)` with `jit = off` (as the app runs
them): the median of planning + execution time per answer is printed for both, and the
statements' rows are compared (keys counting no execution left out: a signed read leaves
them to Python, which drops them as queries.rollup_read does). Reading PostgreSQL's own times leaves
out the client and Python, whose wall time on a shared machine varies more than the change.
--plans times the other side instead, without a database: the planner's own Python for a
by-agent read, plain and signed, over 30 distinct window ends per zone and window length.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
from datetime import UTC, datetime

import sqlalchemy as sa


def main() -> None:
    from ai_usage.bench import _filters, api_calls
    from queries import rollup_read as qr
    from queries.base import facts_path
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--zones", default="America/New_York,Asia/Kathmandu,Europe/Madrid,Asia/Kolkata")
    p.add_argument("--days", default="90,365")
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--org", default="bench")
    p.add_argument("--plans", action="store_true", help="only time the planner's Python, plain and signed")
    a = p.parse_args()
    if a.plans:
        return plan_times(a.zones.split(","), [int(d) for d in a.days.split(",")])
    engine = facts_path(make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=0), "rollup")
    if engine.dialect.name != "postgresql":
        raise SystemExit("PostgreSQL only: the times are EXPLAIN ANALYZE's")
    now = datetime.now(UTC)
    seen: list[tuple[str, dict]] = []
    build = qr.build_query

    def keep(*args, **kw):
        sql, params = build(*args, **kw)
        seen.append((sql, params))
        return sql, params

    qr.build_query = keep
    questions = [(tz, int(d)) for tz in a.zones.split(",") for d in a.days.split(",")]

    def statements(signed: bool) -> dict:
        qr.SIGNED = signed
        qr._planned.cache_clear()
        out = {}
        for tz, days in questions:
            f, f_sys = _filters(a.org, tz, days, now)
            for name, fn, ff, args in api_calls(f, f_sys):
                seen.clear()
                with engine.connect() as c:
                    fn(c, ff, *args)
                out[(tz, days, name)] = list(seen)
        return out

    plain, signed = statements(False), statements(True)
    total = [0.0, 0.0]
    with engine.connect() as c:
        c.execute(sa.text("SET jit = off"))
        print(f"{'zone':20} {'days':>4} {'answer':20} {'plain':>9} {'signed':>9}  rows")
        for key, a_stmts in plain.items():
            b_stmts = signed[key]
            times = [0.0, 0.0]
            same = len(a_stmts) == len(b_stmts)
            for (sa_, pa), (sb, pb) in zip(a_stmts, b_stmts):
                runs: list[list[float]] = [[], []]
                for _ in range(a.reps):
                    runs[0].append(_pg_ms(c, sa_, pa))
                    runs[1].append(_pg_ms(c, sb, pb))
                times[0] += statistics.median(runs[0])
                times[1] += statistics.median(runs[1])
                same = same and _rows(c, sa_, pa) == _rows(c, sb, pb)
            total[0] += times[0]
            total[1] += times[1]
            print(
                f"{key[0]:20} {key[1]:4} {key[2]:20} {times[0]:7.2f}ms {times[1]:7.2f}ms  {'equal' if same else 'DIFFERENT'}"
            )
    print(f"all answers: plain {total[0]:.1f} ms, signed {total[1]:.1f} ms ({total[1] / total[0] - 1:+.0%})")


def plan_times(zones: list[str], days: list[int], windows: int = 30) -> None:
    """The Python of planning one weekly or daily by-agent read (queries.rollup_read._plan, the
    agent family's grains), plain and signed, for `windows` distinct window ends per zone (each
    plan new, as a distinct question's is): median ms."""
    import time
    from datetime import timedelta

    import numpy as np

    from queries import buckets, parse_filters, rollup_read as qr, rollup_signed
    from storage import rollup_tables as rt

    now = datetime.now(UTC)
    grains = rt.BY_NAME["agent"].grains
    for tz in zones:
        for d in days:
            out = []
            for signed in (False, True):
                rollup_signed._sub_cover.cache_clear()
                times = []
                for i in range(windows):
                    end = (now - timedelta(days=i)).date()
                    params = {"from": (end - timedelta(days=d - 1)).isoformat(), "to": end.isoformat(), "timezone": tz}
                    f = parse_filters(params, "x", now=now)
                    A, B = -(-int(f.start_utc.timestamp()) // 900), int(f.read_end_utc.timestamp()) // 900
                    cuts = np.asarray(buckets.bucket_cuts(f), dtype="int64").tobytes()
                    t0 = time.perf_counter()
                    qr._plan(tz, A, B, cuts, True, 0, grains, False, rollup_signed.NO_SEAL, signed)
                    times.append((time.perf_counter() - t0) * 1000)
                out.append(statistics.median(times))
            print(f"{tz:20} {d:4} d: plan plain {out[0]:.2f} ms, signed {out[1]:.2f} ms (median of {windows})")


def _pg_ms(c: sa.Connection, sql: str, params: dict) -> float:
    """PostgreSQL's planning + execution time of one statement (ms)."""
    text = "\n".join(r[0] for r in c.execute(sa.text("EXPLAIN (ANALYZE, SUMMARY, TIMING OFF) " + sql), params))
    return sum(float(re.search(rf"{what} Time: ([\d.]+)", text).group(1)) for what in ("Planning", "Execution"))  # type: ignore[union-attr]


def _rows(c: sa.Connection, sql: str, params: dict) -> list:
    """The statement's rows but those counting no execution (as queries.rollup_read drops
    them), in a fixed order."""
    result = c.execute(sa.text(sql), params)
    at = list(result.keys()).index("executions")
    return sorted((tuple(r) for r in result if r[at] != 0), key=repr)


if __name__ == "__main__":
    main()
