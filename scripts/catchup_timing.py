"""Time the rollup catch-up of 100k new rows, and the seal of one set of 8-day blocks.

Usage: DATABASE_URL=… .venv/bin/python scripts/catchup_timing.py [--runs 2] [--shift-days 2] [--seal]
On the benchmark database (`make bench`), as `ai-usage bench` times its catch-up: the bench
org's latest 100k rows copied into the org bench-catchup, one `refresh`, then the copies and
their rollup rows deleted and the tables vacuumed. --shift-days moves the copies' created_at
by whole days, e.g. past the seal, so that every copy lies in an open 8-day block, as rows
arriving now do (the bench's copies span the bench org's last ~2.5 days: some of them may lie
in an 8-day block already sealed, which a catch-up adds to, as before migration 0016).
--seal also times ingest.rollup_write.seal rebuilding the 8-day blocks that ended at the
state's seal (what the first refresh after an 8-day boundary does once), rolled back.
Prints the refresh's seconds per run. To compare two revisions, run it from a git worktree
of each (cd there; the script puts its own tree first on the path), alternating.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.getcwd())

import sqlalchemy as sa

from ai_usage.bench import CATCHUP_ROWS, copy_catchup_rows, drop_catchup_rows, seal_time
from ingest import refresh as rollups
from storage.engine import make_engine


def catch_up(engine: sa.Engine, shift_days: int) -> float:
    copy_catchup_rows(engine, shift_days)
    try:
        return rollups.refresh(engine).seconds
    finally:
        drop_catchup_rows(engine)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--shift-days", type=int, default=0)
    p.add_argument("--seal", action="store_true")
    a = p.parse_args()
    engine = make_engine(os.environ["DATABASE_URL"], 0)
    times = [catch_up(engine, a.shift_days) for _ in range(a.runs)]
    print(
        f"catch-up of {CATCHUP_ROWS:,} rows (shifted {a.shift_days} d): " + ", ".join(f"{t:.2f}" for t in times) + " s"
    )
    if a.seal:
        print(f"seal of one set of 8-day blocks: {seal_time(engine):.2f} s")


if __name__ == "__main__":
    main()
