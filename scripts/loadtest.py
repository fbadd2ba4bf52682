"""`make loadtest`: N concurrent admins of M orgs against a local server, headless Locust, bounded in time.

Usage (the server already running, e.g. `ai-usage serve --workers 2`):
    AI_USAGE_SECRET=… .venv/bin/python scripts/loadtest.py --scenario refresh --users 20 \
        --orgs bench --run-time 60s [--host http://127.0.0.1:8050]

Scenarios (scripts/locustfile.py): `refresh` (distinct full refreshes: 8 API answers of a
365-day window ending 0–59 days ago, one of six zones), `same` (every admin the same
view), `mix` (page loads, filter changes through the Dash callback endpoint, API calls,
refreshes, with think time). Only 127.0.0.1 / localhost are accepted as the host; the
run lasts at most 10 minutes. Prints, per request kind and for the full refresh:
requests, failures, throughput, p50/p95/p99.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_SECONDS = 600


def seconds(text: str) -> int:
    units = {"s": 1, "m": 60}
    n = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    if not 0 < n <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"run time must be 1 s to {MAX_SECONDS} s")
    return n


def main(argv: list[str] | None = None) -> int:
    from gevent import monkey

    monkey.patch_all()  # before anything imports ssl or sockets (Locust runs on gevent)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="http://127.0.0.1:8050")
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--orgs", default="bench", help="comma-separated org ids (each admin takes one)")
    p.add_argument("--scenario", choices=("refresh", "same", "mix"), default="refresh")
    p.add_argument("--run-time", type=seconds, default=60, help="e.g. 60s, 2m (at most 10 m)")
    p.add_argument("--days", type=int, default=365)
    a = p.parse_args(argv)
    host = urlsplit(a.host)
    if host.scheme not in ("http", "https") or host.hostname not in LOCAL_HOSTS:
        print(f"loadtest: refusing {a.host!r}: only 127.0.0.1 or localhost", file=sys.stderr)
        return 2
    secret = os.environ.get("AI_USAGE_SECRET", "")
    if not secret:
        print("loadtest: set AI_USAGE_SECRET to the server's secret (tokens are minted with it)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from web.auth import mint_token

    orgs = [o for o in a.orgs.split(",") if o]
    tokens = {o: mint_token(secret, o, ttl=timedelta(seconds=a.run_time + 600)) for o in orgs}
    env = {
        "LOADTEST_TOKENS": json.dumps(tokens),
        "LOADTEST_SCENARIO": a.scenario,
        "LOADTEST_DAYS": str(a.days),
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "scripts"))
    import gevent
    import locust
    import locustfile
    from locust.env import Environment

    # Locust as a library: the clock runs from the first user to the stop, exactly run_time.
    envr = Environment(user_classes=[locustfile.Admin], host=a.host, events=locust.events)
    runner = envr.create_local_runner()
    t0 = time.perf_counter()
    runner.start(a.users, spawn_rate=a.users)
    gevent.sleep(a.run_time)
    runner.quit()
    elapsed = time.perf_counter() - t0
    rows = sorted(envr.stats.entries.values(), key=lambda e: (e.method != "REFRESH", e.method, e.name))
    print(f"\nloadtest: scenario {a.scenario}, {a.users} admins of {len(orgs)} org(s), {elapsed:.1f} s, {a.host}")
    print(f"{'request':<36}{'count':>8}{'fail':>6}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for e in [*rows, envr.stats.total]:
        name = "all requests" if e is envr.stats.total else f"{e.method} {e.name}"
        if not e.num_requests:
            continue
        pct = [e.get_response_time_percentile(q) for q in (0.5, 0.95, 0.99)]
        print(
            f"{name[:35]:<36}{e.num_requests:>8}{e.num_failures:>6}{e.num_requests / elapsed:>8.1f}"
            + "".join(f"{v:>9.0f}" for v in pct)
        )
    errors = sum(e.num_failures for e in rows)
    print(
        f"errors: {errors}"
        + "".join(f"\n  {err.occurrences} × {err.name}: {err.error}" for err in envr.stats.errors.values())
    )
    code = 1 if errors else 0
    return code


if __name__ == "__main__":
    raise SystemExit(main())
