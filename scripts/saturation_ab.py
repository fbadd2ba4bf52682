"""Interleaved A/B of the per-row saturation (docs/figures.md, «Values out of range»), in one process.

Usage: DATABASE_URL=… .venv/bin/python scripts/saturation_ab.py [--filter model] [--zone UTC]
       [--rounds 4] [--org bench]
Times the users' ranking of the benchmark's 365-day window under one of ai_usage.bench_slices'
filters (default: the model filter, whose ranking sums ~3.4M raw rows at 10M), alternating
each round between the raw sums as they are (storage.measures.token_sql and cost_sql patched
to return the bare column) and saturated (today's code), after one untimed warm-up; prints
the median and every run in ms. Only reads: the database is not changed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime


def main() -> None:
    import queries
    from ai_usage.bench import _filters
    from ai_usage.bench_slices import one_filter
    from queries import base
    from storage import measures
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--filter", default="model")
    p.add_argument("--zone", default="UTC")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--org", default="bench")
    a = p.parse_args()
    engine = base.facts_path(make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=300_000), "rollup")
    value, f, _ = one_filter(engine, a.org, a.filter, *_filters(a.org, a.zone, 365, datetime.now(UTC)))

    def bare_tokens(_dialect: str, column: str) -> str:
        return column

    def bare_cost(_dialect: str, column: str = "cost_usd") -> str:
        return column

    choices = {"as they are": (bare_tokens, bare_cost), "saturated": (measures.token_sql, measures.cost_sql)}
    with engine.connect() as conn:  # warm-up, untimed
        queries.by_user(conn, f)
    times: dict[str, list[float]] = {c: [] for c in choices}
    for _ in range(a.rounds):
        for choice, (tokens, cost) in choices.items():
            measures.token_sql, measures.cost_sql = tokens, cost  # type: ignore[assignment]
            t0 = time.perf_counter()
            with engine.connect() as conn:
                queries.by_user(conn, f)
            times[choice].append((time.perf_counter() - t0) * 1000)
    measures.token_sql, measures.cost_sql = choices["saturated"]  # type: ignore[assignment]
    print(f"users' ranking, {a.filter} = {value}, {a.zone}, 365 days, {a.rounds} rounds (ms)")
    for choice, runs in times.items():
        print(f"{choice:<14} median {statistics.median(runs):7.0f}   runs {', '.join(f'{r:.0f}' for r in runs)}")


if __name__ == "__main__":
    main()
