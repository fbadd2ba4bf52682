"""Interleaved A/B of two choices in the filtered pages' raw reads (5 Dec 2026), in one process.

Usage: DATABASE_URL=… .venv/bin/python scripts/raw_reads_ab.py --change quarter-hour|hash-groups
       [--filters "user (busiest),model"] [--zone UTC] [--rounds 3] [--org bench]
- quarter-hour: PostgreSQL's quarter-hour of a row from extract()'s NUMERIC epoch (the live
  reads' expression before) against today's (date_part's double precision epoch inside
  1902–2100: storage.measures.PG_QH_FAST; docs/figures.md, «A row's quarter-hour»);
- hash-groups: a user's or agent's raw rows grouped as the planner chose over the UNION ALL
  (sorting, here made a no-op by rewriting queries.base.raw_facts' set_config of enable_sort
  on the way to the server) against today's (sorting off for that statement).
For each of ai_usage.bench_slices' filters, times the benchmark's 365-day filtered page with
compare=previous (ai_usage.bench_slices.page: every answer on its own pooled connection),
alternating the two each round after one untimed warm-up of each; prints the page's median
ms per choice, its sections, and whether both gave the same answers. Only reads.
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
SORT_OFF = "set_config('enable_sort', 'off', true)"
SECTIONS = ("summary", "model_efficiency", "cache_savings", "time_series_by_action", "heatmap", "by_agent", "by_user")


def main() -> None:
    import sqlalchemy as sa

    from ai_usage.bench import _filters
    from ai_usage.bench_slices import one_filter, page
    from queries import base
    from storage import measures
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--change", choices=["quarter-hour", "hash-groups"], required=True)
    p.add_argument("--filters", default="user (busiest),model,agent (0.1 %),user (0.1 %)")
    p.add_argument("--zone", default="UTC")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--org", default="bench")
    a = p.parse_args()
    raw_engine = make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=300_000)
    engine = base.facts_path(raw_engine, "rollup")
    state = {"before": False}

    def rewrite(conn, cursor, statement, parameters, context, executemany):
        if state["before"] and a.change == "hash-groups":
            statement = statement.replace(SORT_OFF, "current_setting('enable_sort')")
        return statement, parameters

    sa.event.listen(raw_engine, "before_cursor_execute", rewrite, retval=True)
    today = measures.PG_QH_FAST

    def choose(before: bool) -> None:
        state["before"] = before
        measures.PG_QH_FAST = NUMERIC if before and a.change == "quarter-hour" else today

    for kind in a.filters.split(","):
        _value, f, fs = one_filter(engine, a.org, kind, *_filters(a.org, a.zone, 365, datetime.now(UTC)))
        f, fs = replace(f, compare="previous"), replace(fs, compare="previous")
        total: dict[str, list[float]] = defaultdict(list)
        per: dict[str, dict[str, list[float]]] = {c: defaultdict(list) for c in ("before", "today")}
        answers = {}
        for name in per:  # warm-up, untimed
            choose(name == "before")
            answers[name] = repr(page(engine, f, fs))
        for r in range(a.rounds):
            for name in ("before", "today") if r % 2 == 0 else ("today", "before"):
                choose(name == "before")
                t0 = time.perf_counter()
                page(engine, f, fs, per[name])
                total[name].append((time.perf_counter() - t0) * 1000)
        choose(False)
        line = "  ".join(f"{n} {statistics.median(total[n]):6.0f} ms" for n in per)
        print(f"{kind:16s} {a.zone:15s} {line}  same answers: {answers['before'] == answers['today']}")
        for s in SECTIONS:
            print(f"    {s:22s}" + "  ".join(f"{n} {statistics.median(per[n][s]) * 1000:6.0f}" for n in per))


if __name__ == "__main__":
    main()
