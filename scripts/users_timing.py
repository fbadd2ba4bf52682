"""Time the users' ranking (queries.users.by_user, what the Usuarios section and /by-user read), statement by statement.

Usage: DATABASE_URL=… .venv/bin/python scripts/users_timing.py [--days 90] [--zone Europe/Madrid]
       [--org bench] [--runs 5]
The benchmark's window of `days` ending today in `zone`, unfiltered, on the rollup path,
each run on its own pooled connection and outside any answer cache. After one untimed
warm-up, prints the median over `runs` of the wall time, this process's CPU and the time of
each SQL statement (in the order they ran; the first ~60 characters of each). To compare
two revisions, run it from a git worktree of each with PYTHONPATH=<worktree>, alternating.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any


def main() -> None:
    from sqlalchemy import event

    from ai_usage.bench import _filters
    from queries import base, users
    from storage.engine import make_engine

    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--zone", default="Europe/Madrid")
    p.add_argument("--org", default="bench")
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    engine = base.facts_path(make_engine(os.environ["DATABASE_URL"], statement_timeout_ms=0), "rollup")
    f, _ = _filters(a.org, a.zone, a.days, datetime.now(UTC))
    log: list[tuple[float, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _cur: Any, _stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, _cur: Any, stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        log.append(((time.perf_counter() - conn.info["t0"]) * 1000, " ".join(stmt.split())[:60]))

    with engine.connect() as conn:
        users.by_user(conn, f)  # warm-up: imports, the price book, plans
    walls, cpus, statements = [], [], []
    for _ in range(a.runs):
        log.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        with engine.connect() as conn:
            ranking = users.by_user(conn, f)
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
        statements.append(list(log))
    print(
        f"by_user, {a.days} d in {a.zone}, {ranking.total_users} users, {a.runs} runs: median wall"
        f" {statistics.median(walls):.0f} ms, CPU {statistics.median(cpus):.0f} ms,"
        f" SQL {statistics.median(sum(ms for ms, _ in s) for s in statements):.0f} ms"
    )
    for i, (_, text) in enumerate(statements[0]):
        times = [s[i][0] for s in statements if len(s) > i]
        print(f"  {statistics.median(times):8.1f} ms  {text}")


if __name__ == "__main__":
    main()
