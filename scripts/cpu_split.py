"""CPU seconds per kind of process over a span of time, read from /proc (Linux; development only).

Run it beside a load test to see where the machine's CPU goes: the app's workers, PostgreSQL's
backends, the load client, Redis. Every process's utime + stime is read at the start and at
the end; a process that started in between counts from zero, one that ended is missed.

    .venv/bin/python scripts/cpu_split.py --seconds 30     # e.g. 25 s into a 60-s `make loadtest`
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def kind(comm: str, cmdline: str) -> str:
    if comm.startswith("postgres"):
        return "postgres"
    if comm.startswith("redis"):
        return "redis"
    if "locust" in cmdline or "loadtest" in cmdline:
        return "load client"
    if "ai-usage" in cmdline or "gunicorn" in cmdline:
        return "app workers"
    return "other"


def snapshot() -> dict[int, tuple[int, str]]:
    """pid -> (utime + stime in ticks, kind)."""
    out: dict[int, tuple[int, str]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            comm = (proc / "comm").read_text().strip()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        out[int(proc.name)] = (int(fields[11]) + int(fields[12]), kind(comm, cmdline))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    a = ap.parse_args(argv)
    before = snapshot()
    time.sleep(a.seconds)
    after = snapshot()
    spent: Counter[str] = Counter()
    for pid, (ticks, k) in after.items():
        spent[k] += ticks - before.get(pid, (0, k))[0]
    total = sum(spent.values()) or 1
    print(f"CPU over {a.seconds:g} s ({os.cpu_count()} cores):")
    for k, ticks in spent.most_common():
        print(f"  {k:12s} {ticks / TICKS:7.1f} s  {100 * ticks / total:4.0f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
