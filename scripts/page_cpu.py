"""Python CPU of one filter change on the page: the section callbacks it sends, in this process.

Usage: DATABASE_URL=… AI_USAGE_SECRET=… AI_USAGE_CACHE_URL=none \\
       .venv/bin/python scripts/page_cpu.py [--org bench] [--preset 30d] [--compare previous] \\
       [--timezone Europe/Madrid] [--changes 6] [--rounds 3]

Posts to /_dash-update-component, through Flask's test client, the requests of the sections a
filter change redraws (SECTIONS: the KPI cards and trend, Acumulado, actions, models, agents,
users, «Mayores cambios», the budget, the anomalies, Avanzado), with the payloads of
tests/test_callback_inputs.py (as scripts/callback_timing.py does). One warm-up change, then
`changes` changes per round; prints each round's CPU per change (time.process_time(): this
process's own work, steady whatever PostgreSQL or other processes do, though a busy machine
still moves it by ±10 %) and their median, then this process's resident memory (VmRSS, and
its peak VmHWM; Linux only). With AI_USAGE_CACHE_URL=none every change computes
(no answer cache). To compare two commits, run it alternately from two worktrees
(`cd <worktree> && python scripts/page_cpu.py`: this file's own checkout is imported).
"""

from __future__ import annotations

import statistics
import time

import callback_setup  # scripts/: run as a file, this directory is on sys.path

# A callback is one of the page's sections when its first output is one of these.
SECTIONS = (
    "kpi-cost.children",
    "trend-cumulative.figure",
    "actions-area.figure",
    "models-bars.figure",
    "agents-grid.rowData",
    "users-grid.rowData",
    "section-changes.hidden",
    "budget-summary.children",
    "anomaly-list.children",
    "advanced-heatmap.figure",
)


def main() -> None:
    p = callback_setup.parser(compare="previous")
    p.add_argument("--changes", type=int, default=6)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    app, client, token, requests = callback_setup.app_and_payloads(a, theme="light")
    bodies = [
        requests.payload(key, cb, token)
        for key, cb in requests.server_callbacks(app)
        if key.strip(".").split("...")[0] in SECTIONS
    ]
    assert len(bodies) == len(SECTIONS), "a section's callback was not found"

    def change() -> None:
        for body in bodies:
            r = requests.post(client, body)
            assert r.status_code in (200, 204), r.status_code

    change()  # warm-up: imports, the price catalogue, plans
    per_round = []
    for _ in range(a.rounds):
        c0 = time.process_time()
        for _ in range(a.changes):
            change()
        per_round.append((time.process_time() - c0) / a.changes * 1000)
    print(
        f"{len(bodies)} section callbacks, {a.preset}, {a.timezone}, compare={a.compare}, org {a.org}: "
        f"CPU per change {', '.join(f'{v:.1f}' for v in per_round)} ms; median {statistics.median(per_round):.1f} ms"
    )
    with open("/proc/self/status") as f:
        status = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS", "VmHWM")))
    print(
        f"this process: VmRSS {status['VmRSS'].strip()}, VmHWM {status['VmHWM'].strip()} (kB as /proc writes them: KiB)"
    )


if __name__ == "__main__":
    main()
