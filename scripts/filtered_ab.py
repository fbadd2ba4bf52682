"""Interleaved A/B of the raw-read choices behind the filtered pages, in one process.

Usage: DATABASE_URL=… .venv/bin/python scripts/filtered_ab.py [--filter "user (busiest)"]
       [--zone UTC] [--rounds 6] [--org bench]
The filter is one of ai_usage.bench_slices' kinds ("user (0.1 %)", "user (busiest)",
"agent (0.1 %)", "agent (busiest)", "model", "action type", "provider"), picked from the org's
rows as the benchmark picks it; the window is the benchmark's 365 days ending today.
After one untimed warm-up, each round runs every section once per choice, alternating, each
on its own pooled connection (as the API does); prints the median ms per section and choice:
- segments: today's code (raw reads keyed by segment between bucket starts, the users'
  ranking with its own `SET LOCAL work_mem`);
- quarter-hours: raw reads keyed by quarter-hour (storage.measures.segment_key_sql off: the
  code before 3 Dec 2026);
- default work_mem: the users' ranking at the server's work_mem (queries.users.roomy off);
- two reads: the users' ranking of a narrow slice without a user family read as every
  user's totals, then the top users' rows again (queries.users.ONE_READ_ROWS = 0: the code
  before 4 Dec 2026, evening).
On a shared machine single benchmark runs differ by up to a third; alternating in one
process is what compares two choices fairly.
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
    from queries import base, users
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--filter", default="user (busiest)")
    p.add_argument("--zone", default="UTC")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--org", default="bench")
    a = p.parse_args()
    engine = base.facts_path(make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=300_000), "rollup")
    value, f, fs = one_filter(engine, a.org, a.filter, *_filters(a.org, a.zone, 365, datetime.now(UTC)))
    sections = [
        ("cache_savings", lambda c: queries.cache_economics(c, fs)),
        ("time_series_by_action", lambda c: queries.time_series(c, f, True)),
        ("heatmap", lambda c: queries.heatmap(c, f)),
        ("by_agent", lambda c: queries.by_agent(c, f)),
        ("by_user", lambda c: queries.by_user(c, f)),
    ]
    seg, roomy, one_read = base.segment_key_sql, users.roomy, users.ONE_READ_ROWS
    choices = {
        "segments": (seg, roomy, one_read),
        "quarter-hours": (lambda *_: None, roomy, one_read),
        "default work_mem": (seg, lambda _c: None, one_read),
        "two reads": (seg, roomy, 0),
    }
    for _section, call in sections:  # warm-up, untimed: imports, price book, plans, caches
        with engine.connect() as conn:
            call(conn)
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(a.rounds):
        for choice, (key_sql, ranking_mem, rows) in choices.items():
            base.segment_key_sql, users.roomy = key_sql, ranking_mem  # type: ignore[assignment]
            users.ONE_READ_ROWS = rows
            for section, call in sections:
                t0 = time.perf_counter()
                with engine.connect() as conn:
                    call(conn)
                times.setdefault((section, choice), []).append(time.perf_counter() - t0)
    base.segment_key_sql, users.roomy = seg, roomy  # type: ignore[assignment]
    users.ONE_READ_ROWS = one_read
    print(f"{a.filter} = {value}, {a.zone}, 365 days, {a.rounds} rounds; median ms")
    print(f"{'section':<24}" + "".join(f"{c:>18}" for c in choices))
    for section, _ in sections:
        cells = "".join(f"{statistics.median(times[section, c]) * 1000:>18.0f}" for c in choices)
        print(f"{section:<24}{cells}")


if __name__ == "__main__":
    main()
