"""The 365-day full refresh with the rollup families' week blocks and without them, alternated in one process.

Usage: DATABASE_URL=… .venv/bin/python scripts/week_blocks_ab.py [--rounds 14] [--org bench]
       [--zones UTC,America/New_York,Asia/Kathmandu] [--change weeks|local-days]
Without: every family's grains but storage.rollup_tables.WEEK (dataclasses.replace), so the
plans read days where they read week blocks; the same rows, the same answers (the script
checks it). --change local-days: with and without rollup_total's day blocks at every
quarter-hour offset (Family.local_days, storage.local_days) instead. Each zone: one warm-up of each, then `rounds` pairs, the order flipped every round
so that neither side always runs second; prints the median, min and max of each (ms).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from datetime import UTC, datetime


def main() -> None:
    from ai_usage.bench import _answers, _filters, _same
    from queries.base import facts_path
    from storage import rollup_tables as rt
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=14)
    p.add_argument("--org", default="bench")
    p.add_argument("--zones", default="UTC,America/New_York,Asia/Kathmandu")
    p.add_argument("--change", choices=("weeks", "local-days"), default="weeks")
    a = p.parse_args()
    engine = facts_path(make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=0), "rollup")
    now = datetime.now(UTC)
    with_weeks = rt.FAMILIES
    if a.change == "weeks":
        without = tuple(dataclasses.replace(f, grains=tuple(g for g in f.grains if g != rt.WEEK)) for f in with_weeks)
    else:
        without = tuple(dataclasses.replace(f, local_days=False) for f in with_weeks)
    what = "week blocks" if a.change == "weeks" else "local days"
    sides = {f"without {what}": without, f"with {what}": with_weeks}
    try:
        for tz in a.zones.split(","):
            f, f_sys = _filters(a.org, tz, 365, now)
            answers = []
            for fams in sides.values():  # warm-up, and the same answers both ways
                rt.FAMILIES = fams
                answers.append(_answers(engine, f, f_sys))
            if not _same(*answers):
                raise SystemExit(f"{tz}: the answers differ with and without {what}")
            times: dict[str, list[float]] = {name: [] for name in sides}
            for i in range(a.rounds):
                for name in list(sides) if i % 2 == 0 else list(sides)[::-1]:
                    rt.FAMILIES = sides[name]
                    t0 = time.perf_counter()
                    _answers(engine, f, f_sys)
                    times[name].append((time.perf_counter() - t0) * 1000)
            print(
                f"{tz:<20} "
                + "   ".join(
                    f"{name}: median {statistics.median(v):.0f} ms (min {min(v):.0f}, max {max(v):.0f})"
                    for name, v in times.items()
                ),
                flush=True,
            )
    finally:
        rt.FAMILIES = with_weeks


if __name__ == "__main__":
    main()
