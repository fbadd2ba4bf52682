"""Python CPU of one full refresh through the whole API stack, in this process (no HTTP socket).

Usage: DATABASE_URL=… AI_USAGE_SECRET=… AI_USAGE_CACHE_URL=none \\
       .venv/bin/python scripts/api_cpu.py [--refreshes 60] [--org bench] [--days 365]

Each refresh is the load test's `refresh` scenario's question (scripts/locustfile.py, ai_usage/loadmix.py): the 8
API answers of a 365-day window whose end is one of the last 60 days, in one of six zones,
asked through Flask's test client (routing, the token, the answer cache, the body, JSON,
compression, the access log and the metrics: everything but the socket). CPU is
time.process_time(): this process's own work, whatever PostgreSQL or other processes do, so
it is steady on a busy machine. It is what bounds the load test's throughput with
PostgreSQL's CPU: two cores do at most 2 s / (this + PostgreSQL's CPU per refresh) refreshes/s.
Prints the median CPU per refresh and per route (over the refreshes after one warm-up pass).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import random
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from ai_usage.loadmix import CALLS, ZONES


def main() -> None:
    from app import create_app
    from storage.settings import Settings
    from web.auth import mint_token

    p = argparse.ArgumentParser()
    p.add_argument("--refreshes", type=int, default=60)
    p.add_argument("--org", default="bench")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--same", action="store_true", help="ask the first question every time (warm per-window caches)")
    p.add_argument(
        "--profile", type=int, default=0, help="print the N functions of most CPU (cProfile on process time)"
    )
    a = p.parse_args()
    logging.getLogger("ai_usage.access").setLevel(logging.WARNING)
    settings = Settings.from_env()
    client = create_app(settings).server.test_client()
    headers = {"Authorization": f"Bearer {mint_token(settings.secret, a.org)}", "Accept-Encoding": "gzip"}
    rng = random.Random(a.seed)
    questions = []
    for _ in range(a.refreshes):
        tz = rng.choice(ZONES)
        end = datetime.now(UTC).astimezone(ZoneInfo(tz)).date() - timedelta(days=rng.randrange(60))
        questions.append(
            {"from": (end - timedelta(days=a.days - 1)).isoformat(), "to": end.isoformat(), "timezone": tz}
        )

    def refresh(window: dict, per: dict[str, list[float]] | None) -> None:
        for route, extra in CALLS:
            c0 = time.process_time()
            r = client.get(f"/ai/org-usage/{route}?{urlencode({**window, **extra})}", headers=headers)
            if r.status_code != 200:
                raise SystemExit(f"{route}: HTTP {r.status_code} {r.get_data(as_text=True)[:200]}")
            if per is not None:
                per[route + (" groupBy" if extra else "")].append((time.process_time() - c0) * 1000)

    if a.same:
        questions = [questions[0]] * len(questions)
    refresh(questions[0], None)  # warm-up: imports, price book, first statements
    per: dict[str, list[float]] = defaultdict(list)
    cpus, walls = [], []
    prof = cProfile.Profile(time.process_time)
    if a.profile:
        prof.enable()
    for window in questions:
        c0, t0 = time.process_time(), time.perf_counter()
        refresh(window, per)
        cpus.append((time.process_time() - c0) * 1000)
        walls.append((time.perf_counter() - t0) * 1000)
    print(
        f"{a.refreshes} {'same' if a.same else 'distinct'} refreshes ({a.days} d, org {a.org}): Python CPU per refresh median "
        f"{statistics.median(cpus):.1f} ms (p90 {sorted(cpus)[int(0.9 * len(cpus))]:.1f}); "
        f"wall median {statistics.median(walls):.0f} ms"
    )
    for route, v in sorted(per.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"    {route:<26} CPU median {statistics.median(v):6.1f} ms")
    if a.profile:  # cProfile's own cost inflates every figure: compare shares, not milliseconds
        prof.disable()
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            st = pstats.Stats(prof, stream=out)
            st.sort_stats(key).print_stats(a.profile)
            print(out.getvalue())
        if os.environ.get("API_CPU_DUMP"):
            prof.dump_stats(os.environ["API_CPU_DUMP"])
    if os.environ.get("AI_USAGE_CACHE_URL", "") != "none":
        print("(note: AI_USAGE_CACHE_URL is not `none`: repeated questions may come from the answer cache)")


if __name__ == "__main__":
    main()
