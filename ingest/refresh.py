"""Rollups: keep the pre-aggregated tables current — refresh, locks, background catch-up.

Over 300 lines: one protocol (watermark, gap ranges, the PostgreSQL and SQLite locking
steps, retries, the catch-up thread) read best in one place; its SQL is in rollup_write.

A refresh adds the raw rows with ids in (watermark, new watermark] — plus rows that
have appeared inside the recorded gaps — to every rollup table, and moves the
watermark, in ONE transaction: a crash rolls both back, nothing counts twice.

Out-of-order commits (PostgreSQL): ids come from a sequence at insert time, but a
transaction holding id N may commit after N+1 was committed and rolled up. So when
the watermark moves past ids that are missing in the refresh's snapshot, those ids
are remembered as gap ranges: answers read them live (like the tail past the
watermark) until a later refresh finds their rows and rolls them up. A gap range is
forgotten once it is older than GRACE_SECONDS and, on PostgreSQL, every transaction
that was running when it was seen has ended (pg_snapshot_xmin of now passed the
snapshot xmax recorded then) — a row can no longer appear in it. SQLite serialises
writers, so its gaps are only ids never used (or explicit ids inserted later).

Locks: PostgreSQL takes pg_try_advisory_xact_lock (the background thread skips a
round when another process refreshes; the CLI waits) inside a REPEATABLE READ
transaction, and re-reads the state row FOR UPDATE, which fails (serialization) if
another refresh committed after our snapshot — then we retry. SQLite uses BEGIN
IMMEDIATE. `--full` clears and rebuilds every table in one transaction: readers see
the old rollups until it commits.

In the server, the catch-up is a job of the leader loop (storage/leader.py): of all the
processes serving one database, only the one holding the leader lock runs it.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from storage import leader, metrics, rollup_tables as rt, sketch

from . import rollup_write as w

log = logging.getLogger("ai_usage.rollups")  # the name operators filter on, kept across the move

LOCK_KEY = 7_263_011_947  # pg advisory lock key of the rollup refresh
GRACE_SECONDS = 600.0  # a gap range lives at least this long
BATCH_ROWS = 1_000_000  # rows per refresh transaction while catching up
MAX_GAPS = 100  # gap ranges read live at most (see _batch)
VACUUM_ROWS = 200_000  # PostgreSQL: vacuum the rollup tables after a refresh this big
RETRIES = 200  # lock attempts of a waiting refresh (each waits for the holder's commit)
LAST_ROLLED_ID = rt.LAST_ROLLED_ID  # the watermark stays below the largest BIGINT


@dataclass(frozen=True)
class RefreshResult:
    rows: int  # raw rows added to the rollups
    watermark: int
    gaps: int  # gap ranges still read live
    batches: int
    seconds: float
    skipped: bool = False  # another process held the lock


class _Busy(Exception):
    """Another refresh holds the lock."""


def _pg_snapshot(conn) -> tuple[int, int]:
    row = conn.execute(
        sa.text(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
            " pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
        )
    ).one()
    return int(row[0]), int(row[1])


def _batch(conn, full: bool, batch_rows: int | None, grace: float) -> tuple[int, rt.State, bool]:
    """One refresh step inside the caller's locked transaction: (rows, new state, more to do)."""
    pg = conn.dialect.name == "postgresql"
    if pg:
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
    # Every row committed before this instant is in our snapshot: once this refresh reaches
    # the top, the rollups hold all of them (gaps aside, read live) "as of" it (readyz's lag).
    as_of = conn.execute(sa.text("SELECT now()")).scalar_one() if pg else datetime.now(UTC)
    state = rt.read_state(conn, for_update=True)
    # The blocks that have ended are sealed (written whole) first, so that the rows added
    # below reach them too; never moved back (a read planned with the last seal stays true).
    sealed = max(state.sealed, rt.sealed_at(seal_clock(as_of)))
    if full:
        w.clear(conn)
        state = rt.State(0, state.version, (), sealed)
    else:
        w.seal(conn, state.sealed, sealed)
    wm = state.watermark
    top = min(w.max_id(conn), LAST_ROLLED_ID)
    end = top
    if batch_rows and not full and top > wm:
        nth = w.nth_id_after(conn, wm, batch_rows)
        if nth is not None and nth < top:
            end = nth
    new = [(wm + 1, end)] if end > wm else []
    old = [(int(g[0]), int(g[1])) for g in state.gaps]
    params: dict = {}
    rows = (
        int(
            conn.execute(
                sa.text(f"SELECT COUNT(*) FROM token_usage_logs WHERE {w.id_filter(new + old, params)}"), params
            ).scalar()
        )
        if (new or old)
        else 0
    )
    if rows:
        w.roll_up(conn, new + old, sealed)
    now = time.time()
    xmin, xmax = _pg_snapshot(conn) if pg else (None, None)
    gaps = []
    for g in state.gaps:
        gaps += [(a, b, g[2], g[3]) for a, b in (w.holes(conn, int(g[0]), int(g[1])) if rows else [(g[0], g[1])])]
    if new:
        gaps += [(a, b, now, xmax) for a, b in w.holes(conn, *new[0])]
    kept = [g for g in gaps if not (now - g[2] > grace and (xmin is None or g[3] is None or xmin >= g[3]))]
    if len(kept) > MAX_GAPS:
        # Each gap is one more range read live by every answer. Ids that writers hold
        # are the newest; older holes (rolled-back or deleted ids) are let go at once.
        log.warning("rollups: %s missing id ranges; tracking the newest %s", len(kept), MAX_GAPS)
        kept = sorted(kept, key=lambda g: g[0])[-MAX_GAPS:]
    changed = (
        full
        or rows
        or new
        or sealed != state.sealed
        or len(kept) != len(state.gaps)
        or kept != [tuple(g) for g in state.gaps]
    )
    caught_up = end >= top
    if changed:
        state = rt.State(max(end, wm), state.version + 1, tuple(kept), sealed)
        rt.write_state(conn, state.watermark, state.version, state.gaps, as_of if caught_up else None, sealed)
    elif caught_up:
        rt.write_as_of(conn, as_of)  # nothing new: still current, as of now (the version stays)
    return rows, state, not caught_up


def seal_clock(as_of: datetime) -> float:
    """The instant whose ended blocks a refresh seals (epoch seconds): its own `as_of`.
    Tests replace it to move time past a block's end."""
    return as_of.timestamp()


def _pg_step(engine, full, batch_rows, grace):
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if not conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}).scalar():
                raise _Busy
            return _batch(conn, full, batch_rows, grace)


def _pg_wait(engine) -> None:
    """Wait until whoever refreshes now commits (outside our snapshot's transaction)."""
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _sqlite_step(engine, full, batch_rows, grace):
    with engine.connect() as conn:
        # pysqlite opens no transaction by itself for this: BEGIN IMMEDIATE takes the
        # write lock now (waiting up to the busy timeout), so refreshes never overlap.
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except sa.exc.OperationalError as exc:
            if "locked" in str(exc.orig):
                raise _Busy from None
            raise
        try:
            out = _batch(conn, full, batch_rows, grace)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return out


def _serialization_failure(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "pgcode", None) in ("40001", "40P01")


def _step(engine, full, wait, batch_rows, grace):
    """One batch in one transaction; None when another process holds the lock and we don't wait."""
    pg = engine.dialect.name == "postgresql"
    for _attempt in range(RETRIES if wait else 1):
        try:
            return (_pg_step if pg else _sqlite_step)(engine, full, batch_rows, grace)
        except _Busy:
            pass
        except sa.exc.DBAPIError as exc:
            # Our snapshot predates a refresh that committed just before we got the lock.
            if not _serialization_failure(exc):
                raise
        if wait and pg:
            _pg_wait(engine)
    if wait:
        raise RuntimeError("could not take the rollup refresh lock")
    return None


def refresh(
    engine: sa.Engine,
    full: bool = False,
    wait: bool = True,
    batch_rows: int | None = BATCH_ROWS,
    grace: float = GRACE_SECONDS,
) -> RefreshResult:
    """Bring the rollups up to date (full: rebuild them in one transaction).

    wait=False (the background thread) returns skipped=True when another process is
    refreshing; wait=True (the CLI) waits for it and then does what is left."""
    started = time.perf_counter()
    total = batches = 0
    state = None
    full_done = False
    while True:
        out = _step(engine, full, wait, None if full else batch_rows, grace)
        if out is None:
            return RefreshResult(total, -1, -1, batches, time.perf_counter() - started, skipped=True)
        rows, state, more = out
        total += rows
        batches += 1
        full_done = full_done or full
        full = False
        if not more:
            break
    if engine.dialect.name == "postgresql" and (full_done or total >= VACUUM_ROWS):
        _vacuum(engine)
    return RefreshResult(total, state.watermark, len(state.gaps), batches, time.perf_counter() - started)


def _vacuum(engine: sa.Engine) -> None:
    """After a rebuild or a long catch-up: drop the dead row versions (index scans would
    step over them) and refresh the planner's statistics, without waiting for autovacuum."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in rt.TABLES + sketch.TABLES:
            conn.execute(sa.text(f"VACUUM (ANALYZE) {table}"))


def refresh_cli(engine: sa.Engine, full: bool = False) -> int:
    """`ai-usage refresh [--full]`: print what was done; 0 on success."""
    r = refresh(engine, full=full, wait=True)
    what = "rebuilt" if full else "up to date"
    print(
        f"Rollups {what}: {r.rows:,} row(s) rolled up in {r.batches} transaction(s), {r.seconds:.2f} s; "
        f"watermark id {r.watermark}, {r.gaps} gap range(s) read live."
    )
    return 0


# ---------------------------------------------------------------- in the server


class CatchUp:
    """The leader's job: one background catch-up round (skipped if another process refreshes)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.last: RefreshResult | None = None

    def __call__(self) -> None:
        started = time.perf_counter()
        try:
            r = refresh(self.engine, wait=False)
        except Exception:
            metrics.ROLLUP_REFRESHES.labels(outcome="failed").inc()
            metrics.ROLLUP_REFRESH_SECONDS.labels(outcome="failed").observe(time.perf_counter() - started)
            raise  # the loop logs it and backs off
        outcome = "skipped" if r.skipped else ("rolled_up" if r.rows else "up_to_date")
        metrics.ROLLUP_REFRESHES.labels(outcome=outcome).inc()
        metrics.ROLLUP_REFRESH_SECONDS.labels(outcome=outcome).observe(r.seconds)
        metrics.ROLLUP_ROWS.inc(r.rows)
        self.last = r
        if r.rows:
            log.info("rollups: %s rows rolled up in %.2f s (watermark %s)", r.rows, r.seconds, r.watermark)


def leader_engine(engine: sa.Engine) -> sa.Engine:
    """An engine like engine's but without a statement time limit (a catch-up may be long)."""
    from storage.engine import make_engine

    url = engine.url
    if url.get_backend_name() == "sqlite" and (url.database in (None, "", ":memory:")):
        return engine
    return make_engine(url.render_as_string(hide_password=False), statement_timeout_ms=0)


def schedule(loop: leader.LeaderLoop, settings) -> bool:
    """Add the catch-up to the leader's jobs (rollups on, AI_USAGE_REFRESH_SECONDS > 0)."""
    if not (settings.use_rollups and settings.refresh_seconds > 0):
        return False
    loop.add("rollups", CatchUp(loop.leadership.engine), settings.refresh_seconds)
    return True


def start_background(engine: sa.Engine, interval: float) -> leader.LeaderLoop:
    """A leader loop running only the catch-up, every interval seconds (tests; app.start_up composes its own)."""
    loop = leader.LeaderLoop(leader_engine(engine))
    loop.add("rollups", CatchUp(loop.leadership.engine), interval)
    loop.start()
    return loop


def start(server, settings, engine: sa.Engine) -> leader.LeaderLoop | None:
    """Start the leader loop of a served app with the catch-up, if it is on (app.start_up's job).

    Called at the server's start-up, not by create_app: building an app starts no
    thread, so tests build as many as they like and refresh explicitly."""
    loop = leader.LeaderLoop(leader_engine(engine))
    if not schedule(loop, settings):
        return None
    loop.start()
    server.extensions["ai_usage_rollups"] = server.extensions["ai_usage_leader"] = loop
    return loop


if __name__ == "__main__":  # pragma: no cover - convenience: python -m ingest.refresh
    from storage.engine import make_engine
    from storage.settings import Settings

    sys.exit(refresh_cli(make_engine(Settings.from_env().database_url, 0), "--full" in sys.argv))
