"""Time (and optionally profile) the full refresh of the benchmark: the 8 API answers of one window.

Usage: DATABASE_URL=… .venv/bin/python scripts/refresh_timing.py [--days 365] [--runs 7]
       [--zones UTC,America/New_York,Asia/Kathmandu] [--org bench] [--profile N]
Each zone: one warm-up, then `runs` timed refreshes (ai_usage.bench's answers: every query
on its own pooled connection, as the API does); prints median and max. --profile N: cProfile
N more refreshes per zone and print the top 20 functions by own time and by cumulative time.
--per-query: also each answer's median wall and CPU (time.process_time: this process's own
Python/pandas work, unaffected by other processes' load) over the timed runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
from datetime import UTC, datetime


def main() -> None:
    from ai_usage.bench import _answers, _filters
    from queries.base import facts_path
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--zones", default="UTC,America/New_York,Asia/Kathmandu")
    p.add_argument("--org", default="bench")
    p.add_argument("--profile", type=int, default=0)
    p.add_argument("--per-query", action="store_true")
    a = p.parse_args()
    engine = facts_path(make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=0), "rollup")
    now = datetime.now(UTC)
    prof = cProfile.Profile()
    for tz in a.zones.split(","):
        f, f_sys = _filters(a.org, tz, a.days, now)
        _answers(engine, f, f_sys)
        times, cpus = [], []
        per: dict[str, list[tuple[float, float]]] = {}
        for _ in range(a.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            if a.per_query:
                _timed_answers(engine, f, f_sys, per)
            else:
                _answers(engine, f, f_sys)
            times.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        print(
            f"{tz:<20} {a.days} d: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms "
            f"({', '.join(f'{t:.0f}' for t in times)}); CPU median {statistics.median(cpus):.0f} ms",
            flush=True,
        )
        for name, v in per.items():
            wall = statistics.median(x[0] for x in v)
            cpu = statistics.median(x[1] for x in v)
            print(f"    {name:<22} wall {wall:7.1f} ms   cpu {cpu:7.1f} ms", flush=True)
        for _ in range(a.profile):
            prof.enable()
            _answers(engine, f, f_sys)
            prof.disable()
    if a.profile:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(20)
            print(out.getvalue().split("\n", 6)[-1] if key else out.getvalue())


def _timed_answers(engine, f, f_sys, per: dict) -> None:
    """ai_usage.bench's answers, one by one, each timed (wall, CPU) into per[name]."""
    from ai_usage.bench import api_calls

    calls = api_calls(f, f_sys)
    for name, fn, ff, args in calls:
        t0, c0 = time.perf_counter(), time.process_time()
        with engine.connect() as conn:
            fn(conn, ff, *args)
        per.setdefault(name, []).append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000))


if __name__ == "__main__":
    main()
