"""Time every server callback of the page in this process: wall and CPU per callback.

Usage: DATABASE_URL=… AI_USAGE_SECRET=… [AI_USAGE_CACHE_URL=none] .venv/bin/python \
       scripts/callback_timing.py [--org bench] [--preset 30d] [--compare none|previous] \
       [--timezone Europe/Madrid] [--runs 3] [--all]
Builds the app as `ai-usage serve` does (Settings.from_env()) and posts to
/_dash-update-component, through Flask's test client, the request the page sends for each
callback: the well-formed payloads of tests/test_callback_inputs.py (VALID, with the view
set from the arguments and no slice). Prints, per callback, the median over `runs` of its
wall time and of this process's CPU (time.process_time), costliest first; callbacks under
3 ms are left out unless --all. With AI_USAGE_CACHE_URL=none every run computes (no answer
cache, and no users' totals shared between callbacks): what each callback costs alone.

Every callback is posted, also those the page sends only when a section is open (the
collapsed advanced section, «Ver datos» tables, CSV buttons): which ones a filter change
sends is in the browser's requests (scripts/page_timing.py measures the page as a whole).
"""

from __future__ import annotations

import statistics
import time

import callback_setup  # scripts/: run as a file, this directory is on sys.path


def main() -> None:
    p = callback_setup.parser(compare="none")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--all", action="store_true")
    a = p.parse_args()
    app, client, token, requests = callback_setup.app_and_payloads(a)
    times: dict[str, list[tuple[float, float, int]]] = {}
    for _ in range(a.runs):
        for key, cb in requests.server_callbacks(app):
            body = requests.payload(key, cb, token)
            t0, c0 = time.perf_counter(), time.process_time()
            r = requests.post(client, body)
            took = ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, r.status_code)
            times.setdefault(key, []).append(took)
    rows = sorted(
        (
            (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v), v[-1][2], k)
            for k, v in times.items()
        ),
        reverse=True,
    )
    print(f"{'wall ms':>8} {'CPU ms':>7} status  callback (outputs)   [{a.preset}, {a.timezone}, compare={a.compare}]")
    for wall, cpu, status, key in rows:
        if wall >= 3 or a.all:
            print(f"{wall:8.1f} {cpu:7.1f} {status:>6}  {key.strip('.')[:100]}")
    print(f"sum of the medians: {sum(r[0] for r in rows):.0f} ms wall, {sum(r[1] for r in rows):.0f} ms CPU")


if __name__ == "__main__":
    main()
