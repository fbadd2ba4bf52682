"""Demo data: months of realistic usage for a few organizations, generated vectorised.

The story every chart should tell:
- a daily cycle in each org's local time (office hours, a lunch dip, quiet nights) and
  a weekly one (weekends low), growth over the months, August and Christmas dips;
- two bulk document-indexing days (token spikes) and nightly re-indexing jobs;
- 20+ agents per org, launched at different times, one group migrating from gpt-4o to
  claude-sonnet-4-5 mid-period, on real models the genai-prices catalogue knows plus
  one self-hosted model without a public price;
- a user_interaction brings its guardrail_check, rag_query_embedding and (first message
  of a conversation) title_generation rows within seconds; ~20% BYOK rows, many of
  them without a reported cost; cache reads where the provider caches prompts.

Rows are generated in chunks of local days with numpy, sorted by created_at across
orgs, and loaded with COPY (PostgreSQL) or executemany (SQLite) in one transaction, so
the database assigns ids in created_at order and a failed run leaves nothing behind.

Modules: catalog (models, profiles, activity shapes, prices), agents, plan (per org),
rows (numpy generation), write (rows as COPY CSV / SQLite tuples, through ingest.bulk);
this module is the command.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from storage.schema import agents as agents_table, token_usage_logs

from .. import bulk
from .plan import plan
from .rows import CHUNK_ROWS, generate_rows
from .write import agent_rows, forget_rollups, lookups, write_chunk

__all__ = ["CHUNK_ROWS", "generate", "generate_rows", "org_ids", "plan"]

# Each org gets its 20+ agents and plan before any row is written: 100 million orgs grew by
# ~180 MB/s in plan() (6.7 GB after 30 s) before a word. Ten years of days is past any window
# the page shows (at most 3 years, queries.filters.MAX_YEARS).
MAX_ORGS = 1000
MAX_DAYS = 3650


def org_ids(orgs: int, org_prefix: str) -> list[str]:
    return [org_prefix if i == 0 else f"{org_prefix}-{i + 1}" for i in range(orgs)]


def generate(
    engine: sa.Engine,
    orgs: int = 3,
    days: int = 365,
    rows: int = 200_000,
    seed: int = 7,
    org_prefix: str = "demo",
    if_empty: bool = False,
    progress: bool = True,
    *,
    replace: bool = False,
    now: datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
    out=None,
) -> int:
    """Fill the database with demo data; return an exit code (0 ok, 1 refused, 2 bad arguments).

    replace=True deletes the target orgs' logs and agents first (same transaction);
    otherwise orgs that already have log rows are refused. `now` pins the clock (tests).
    """
    from tqdm import tqdm

    out = out or sys.stdout
    problems = [
        why
        for bad, why in (
            (not 1 <= orgs <= MAX_ORGS, f"--orgs must be from 1 to {MAX_ORGS:,} (got {orgs:,})"),
            (not 1 <= days <= MAX_DAYS, f"--days must be from 1 to {MAX_DAYS:,} (got {days:,})"),
            (rows < 0, f"--rows must be at least 0 (got {rows:,})"),
            (not org_prefix.strip(), "--org-prefix must not be empty"),
        )
        if bad
    ]
    if problems:
        print(f"demo-data: {'; '.join(problems)}.", file=sys.stderr)
        return 2
    ids = org_ids(orgs, org_prefix)
    t = token_usage_logs
    with engine.connect() as conn:
        if if_empty and conn.execute(sa.select(t.c.id).limit(1)).first() is not None:
            print("token_usage_logs already has rows: demo data skipped (--if-empty).", file=out)
            return 0
        if not replace:
            taken = conn.execute(sa.select(t.c.org_id).where(t.c.org_id.in_(ids)).distinct()).scalars().all()
            if taken:
                print(
                    f"demo-data: org(s) {', '.join(sorted(taken))} already have log rows; choose another --org-prefix.",
                    file=sys.stderr,
                )
                return 1

    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    plans = plan(orgs, days, rows, seed, org_prefix, now)
    lk = lookups(plans)
    written = 0
    bar = tqdm(total=rows, unit="rows", unit_scale=True, disable=not progress, desc="demo-data", file=sys.stderr)
    try:
        with engine.begin() as conn:
            if replace:
                conn.execute(t.delete().where(t.c.org_id.in_(ids)))
                conn.execute(agents_table.delete().where(agents_table.c.org_id.in_(ids)))
                forget_rollups(conn, ids)
            n_agents = bulk.upsert_agents(conn, agent_rows(plans), update=("org_id", "name", "avatar_url"))
            writer = bulk.LogWriter(conn, background=True)  # COPY while the next chunk is built
            try:
                for chunk in generate_rows(plans, days, seed, now, chunk_rows):
                    write_chunk(writer, chunk, lk)
                    written += chunk["ts"].size
                    bar.update(chunk["ts"].size)
            finally:
                writer.finish()
            writer.close()
    finally:
        bar.close()
    if engine.dialect.name == "postgresql" and written:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE token_usage_logs"))
    secs = time.perf_counter() - started
    print(
        f"Demo data: {written:,} rows and {n_agents} agents for {orgs} org(s) ({', '.join(ids)}) "
        f"over {days} days, in {secs:.1f} s ({written / max(secs, 1e-9):,.0f} rows/s).",
        file=out,
    )
    return 0
