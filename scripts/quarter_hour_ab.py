"""Interleaved A/B of PostgreSQL's quarter-hour expression (storage.measures.PG_QH_FAST), in one process.

Usage: DATABASE_URL=… .venv/bin/python scripts/quarter_hour_ab.py [--filters "user (busiest),model"]
       [--zone UTC] [--rounds 3] [--org bench]
For each of ai_usage.bench_slices' filters, times the benchmark's 365-day filtered page with
compare=previous (ai_usage.bench_slices.page: every answer on its own pooled connection),
alternating each round between extract()'s NUMERIC epoch (the live reads' expression before
5 Dec 2026) and today's (date_part's double precision epoch inside 1902–2100), after one
untimed warm-up of each; prints the page's median ms per choice, the sections that read raw
rows, and whether both choices gave the same answers. Only reads: the database is not changed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

NUMERIC = "CAST(floor(extract(epoch from created_at) / 900) AS BIGINT)"
SECTIONS = ("by_user", "heatmap", "cache_savings", "time_series_by_action", "time_series", "projection")


def main() -> None:
    from ai_usage.bench import _filters
    from ai_usage.bench_slices import one_filter, page
    from queries import base
    from storage import measures
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--filters", default="user (busiest),model,agent (0.1 %),user (0.1 %)")
    p.add_argument("--zone", default="UTC")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--org", default="bench")
    a = p.parse_args()
    engine = base.facts_path(make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=300_000), "rollup")
    choices = {"numeric": NUMERIC, "double": measures.PG_QH_FAST}
    for kind in a.filters.split(","):
        _value, f, fs = one_filter(engine, a.org, kind, *_filters(a.org, a.zone, 365, datetime.now(UTC)))
        f, fs = replace(f, compare="previous"), replace(fs, compare="previous")
        total: dict[str, list[float]] = defaultdict(list)
        per: dict[str, dict[str, list[float]]] = {c: defaultdict(list) for c in choices}
        answers = {}
        for name, expr in choices.items():  # warm-up, untimed
            measures.PG_QH_FAST = expr
            answers[name] = repr(page(engine, f, fs))
        for r in range(a.rounds):
            for name in list(choices) if r % 2 == 0 else list(choices)[::-1]:
                measures.PG_QH_FAST = choices[name]
                t0 = time.perf_counter()
                page(engine, f, fs, per[name])
                total[name].append((time.perf_counter() - t0) * 1000)
        measures.PG_QH_FAST = choices["double"]
        same = answers["numeric"] == answers["double"]
        line = "  ".join(f"{n} {statistics.median(total[n]):6.0f} ms" for n in choices)
        print(f"{kind:16s} {a.zone:15s} {line}  same answers: {same}")
        for s in SECTIONS:
            print(f"    {s:22s}" + "  ".join(f"{n} {statistics.median(per[n][s]) * 1000:6.0f}" for n in choices))


if __name__ == "__main__":
    main()
