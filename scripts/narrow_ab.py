"""The filtered page with a narrow user's rows summed in numpy (queries.slice_rows) or read as before, alternated.

Usage: DATABASE_URL=… .venv/bin/python scripts/narrow_ab.py [--filters "user (0.1 %),user (busiest)"]
       [--zones UTC,Asia/Kathmandu] [--rounds 7] [--org bench]
Each filter is one of ai_usage.bench_slices' kinds, picked from the org's rows as `make bench`
picks it; the page is the benchmark's (ai_usage.bench_slices.page: 365 days ending today,
compare=previous, every section on its own pooled connection), which drops the slices' rows
kept from the page before, so each page reads them again, as after a committed row. After one
warm-up page per choice, the rounds alternate the two choices (which goes first alternates
too) and print the median and max page per choice, and the slowest sections of the "on" one:
- on: today's code;
- off: the same with queries.slice_rows off (its connection option), as for a user past
  slice_rows.MAX_ROWS: the user family and the raw rows, question by question.
On a shared machine single runs differ by up to a third; alternating in one process is what
compares the two fairly.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime


def main() -> None:
    import sqlalchemy as sa

    from ai_usage.bench import _filters
    from ai_usage.bench_slices import one_filter, page
    from queries import slice_rows
    from queries.base import facts_path

    p = argparse.ArgumentParser()
    p.add_argument("--filters", default="user (0.1 %),user (busiest)")
    p.add_argument("--zones", default="UTC,Asia/Kathmandu")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--org", default="bench")
    a = p.parse_args()
    engine = sa.create_engine(os.environ["DATABASE_URL"])
    on = facts_path(engine, "rollup")
    choices = {"on": on, "off": on.execution_options(**{slice_rows.OPTION: False})}
    for kind in a.filters.split(","):
        for tz in a.zones.split(","):
            value, f, fs = one_filter(engine, a.org, kind, *_filters(a.org, tz, 365, datetime.now(UTC)))
            f, fs = replace(f, compare="previous"), replace(fs, compare="previous")
            pages: dict[str, list[float]] = defaultdict(list)
            sections: dict[str, list[float]] = defaultdict(list)
            for eng in choices.values():
                page(eng, f, fs)
            for i in range(a.rounds):
                for name in ("on", "off") if i % 2 == 0 else ("off", "on"):
                    t0 = time.perf_counter()
                    page(choices[name], f, fs, sections if name == "on" else None)
                    pages[name].append(time.perf_counter() - t0)
            print(
                f"{kind} ({value}), {tz}: "
                + ", ".join(
                    f"{name} {1000 * statistics.median(t):.0f} ms (max {1000 * max(t):.0f})"
                    for name, t in pages.items()
                )
            )
            slow = sorted(sections.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
            print(
                "  on, slowest sections (median ms): "
                + ", ".join(f"{k} {1000 * statistics.median(v):.0f}" for k, v in slow)
            )


if __name__ == "__main__":
    main()
