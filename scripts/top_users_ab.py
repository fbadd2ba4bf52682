"""The users' section's callback with and without `queries.slice_rows.known_rows` (A/B, one process).

Usage: DATABASE_URL=… AI_USAGE_SECRET=… AI_USAGE_CACHE_URL=none \\
       .venv/bin/python scripts/top_users_ab.py [--preset 30d] [--compare previous] [--rounds 5]

The ranking's top users' sparklines are one facts() read sliced to those users. Before
known_rows, that slice was first tried as a narrow one (queries/slice_rows.py): up to
MAX_ROWS + 1 raw rows read and dropped when the top users hold more, once per new set of top
users (a verdict kept NOT_NARROW_S). Here every call starts without verdicts, as the first
visit of a view does, and "before" replaces known_rows by a no-op. Prints the callback's wall
and CPU time (time.process_time) per variant, alternated `rounds` times.
"""

from __future__ import annotations

import statistics
import time

import callback_setup  # scripts/: run as a file, this directory is on sys.path


def main() -> None:
    p = callback_setup.parser(compare="previous")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    app, client, token, requests = callback_setup.app_and_payloads(a, theme="light")
    from queries import slice_rows

    (users,) = [
        requests.payload(key, cb, token)
        for key, cb in requests.server_callbacks(app)
        if key.strip(".").startswith("users-grid.rowData")
    ]
    real = slice_rows.known_rows
    requests.post(client, users)  # warm-up: imports, plans
    wall: dict[str, list[float]] = {"before": [], "after": []}
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    try:
        for _ in range(a.rounds):
            for name in wall:
                slice_rows.known_rows = real if name == "after" else (lambda *_: None)
                slice_rows.clear(verdicts=True)
                t0, c0 = time.perf_counter(), time.process_time()
                assert requests.post(client, users).status_code == 200
                wall[name].append((time.perf_counter() - t0) * 1000)
                cpu[name].append((time.process_time() - c0) * 1000)
    finally:
        slice_rows.known_rows = real
    for name in wall:
        print(
            f"{a.preset}, compare={a.compare}, {a.timezone}: users' section {name}: wall median "
            f"{statistics.median(wall[name]):.0f} ms ({', '.join(f'{x:.0f}' for x in wall[name])}), "
            f"CPU median {statistics.median(cpu[name]):.0f} ms"
        )


if __name__ == "__main__":
    main()
