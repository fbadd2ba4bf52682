"""Time the benchmark's filtered page (365 days, compare=previous, every section as the API reads it).

Usage: DATABASE_URL=… .venv/bin/python scripts/filtered_page_timing.py
       [--kinds "user (0.1 %),agent (0.1 %)"] [--zones UTC,Asia/Kathmandu] [--runs 9] [--org bench]
The kinds are ai_usage.bench_slices' ("user (0.1 %)", "user (busiest)", "agent (0.1 %)", …),
picked from the org's rows as `ai-usage bench` picks them. After one untimed page, prints
the median and max of `runs` pages per (kind, zone), in ms: `ai-usage bench --slices-only`
for a few filters, in seconds rather than minutes (scripts/long_rows_ab.sh alternates it
between two revisions).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime


def main() -> None:
    from ai_usage.bench import _filters
    from ai_usage.bench_slices import one_filter, page
    from queries.base import facts_path
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--kinds", default="user (0.1 %),agent (0.1 %)")
    p.add_argument("--zones", default="UTC,Asia/Kathmandu")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--org", default="bench")
    a = p.parse_args()
    engine = make_engine(os.environ["DATABASE_URL"], 0)
    roll = facts_path(engine, "rollup")
    now = datetime.now(UTC)
    for kind in a.kinds.split(","):
        for tz in a.zones.split(","):
            f0, fs0 = _filters(a.org, tz, 365, now)
            _value, f, fs = one_filter(engine, a.org, kind, f0, fs0)
            f, fs = replace(f, compare="previous"), replace(fs, compare="previous")
            page(roll, f, fs)  # warm-up, untimed
            runs = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                page(roll, f, fs)
                runs.append((time.perf_counter() - t0) * 1000)
            print(f"{kind:<16} {tz:<16} median {statistics.median(runs):6.0f} ms  max {max(runs):6.0f} ms")


if __name__ == "__main__":
    main()
