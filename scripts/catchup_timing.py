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

from ai_usage.bench import seal_time
from ingest import refresh as rollups
from storage import rollup_tables as rt, sketch
from storage.engine import make_engine

COLS = (
    "agent_id, user_id, action_type, source, provider, model, input_tokens, output_tokens, "
    "cache_read_tokens, cache_write_tokens, cost_usd, latency_ms"
)
ORG, FROM, ROWS = "bench-catchup", "bench", 100_000


def catch_up(engine: sa.Engine, shift_days: int) -> float:
    with engine.begin() as c:
        c.execute(
            sa.text(
                f"INSERT INTO token_usage_logs (org_id, created_at, {COLS}) SELECT :c, created_at + :d * INTERVAL"
                f" '1 day', {COLS} FROM token_usage_logs WHERE org_id = :o ORDER BY id DESC LIMIT {ROWS}"
            ),
            {"c": ORG, "o": FROM, "d": shift_days},
        )
    try:
        return rollups.refresh(engine).seconds
    finally:
        with engine.begin() as c:  # rows and their rollups leave together
            c.execute(sa.text("DELETE FROM token_usage_logs WHERE org_id = :c"), {"c": ORG})
            for t in rt.TABLES + sketch.TABLES:
                c.execute(sa.text(f"DELETE FROM {t} WHERE org_id = :c"), {"c": ORG})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for t in ("token_usage_logs", *rt.TABLES, *sketch.TABLES):
                c.execute(sa.text(f"VACUUM (INDEX_CLEANUP ON) {t}"))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--shift-days", type=int, default=0)
    p.add_argument("--seal", action="store_true")
    a = p.parse_args()
    engine = make_engine(os.environ["DATABASE_URL"], 0)
    times = [catch_up(engine, a.shift_days) for _ in range(a.runs)]
    print(f"catch-up of {ROWS:,} rows (shifted {a.shift_days} d): " + ", ".join(f"{t:.2f}" for t in times) + " s")
    if a.seal:
        print(f"seal of one set of 8-day blocks: {seal_time(engine):.2f} s")


if __name__ == "__main__":
    main()
