"""One leader among every server process on a database: it alone runs the periodic jobs.

Every worker of `ai-usage serve --workers N`, and every instance on other machines,
runs a LeaderLoop; the one holding the leader lock runs the jobs (the rollup catch-up;
alert evaluation joins with `loop.add(...)`), the others only serve and try the lock
again at each of their rounds, so a leader that dies is replaced within one interval.

- PostgreSQL: a session-level advisory lock (pg_try_advisory_lock(LEADER_KEY)) held on
  a connection of the loop's own. It lives as long as that session: a leader that
  exits, crashes or loses its network loses it when the server ends the session. The
  leader pings its connection each round; a failed ping means the lock may be gone, and
  it stops leading until it takes the lock again.
- SQLite (one machine, as SQLite is): an exclusive flock on `<database file>-leader`,
  dropped by the kernel when the process ends. SQLite's own write lock (BEGIN IMMEDIATE)
  still serialises the refreshes themselves, with `ai-usage refresh` too; an in-memory
  database is private to its process, which always leads. Without fcntl (Windows, one
  process there) the process leads.

The jobs' own locks stay: the refresh's transaction lock is what makes a refresh by
`ai-usage refresh` and one by the leader never overlap; the leader lock makes the
background work happen in one process instead of being tried (and skipped) in every one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa

from . import execute, metrics

log = logging.getLogger("ai_usage.leader")

LEADER_KEY = 7_263_011_948  # pg advisory lock key of the leader (the refresh's is 7_263_011_947)
MAX_BACKOFF = 60.0  # seconds: a failing job is retried at most this far apart


class Leadership:
    """The leader lock of one database: hold() takes or keeps it; True while this process leads."""

    def __init__(self, engine: sa.Engine, key: int = LEADER_KEY):
        self.engine, self.key = engine, key
        self._conn: sa.Connection | None = None
        self._file: IO[bytes] | None = None
        self.held = False

    def hold(self) -> bool:
        was = self.held
        try:
            if self.engine.dialect.name == "postgresql":
                self.held = self._hold_pg()
            else:
                self.held = self._hold_file()
        except Exception:
            log.warning("leader: the lock could not be checked; not leading until it can", exc_info=True)
            self._drop()
            self.held = False
        if self.held != was:
            log.info("leader: process %s %s", os.getpid(), "now leads" if self.held else "no longer leads")
            metrics.LEADER.set(1 if self.held else 0)
        return self.held

    def _hold_pg(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1"))
                self._conn.rollback()  # never idle in a transaction
                return True  # the session lives, so does its lock
            except sa.exc.DBAPIError:
                self._drop()
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            conn.commit()  # the lock is the session's; no transaction stays open
        except BaseException:
            conn.close()
            raise
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _hold_file(self) -> bool:
        path = self.engine.url.database
        if not path or path == ":memory:" or path.startswith("file::memory:"):
            return True
        try:
            import fcntl
        except ImportError:  # no flock here: one process serves (see the module docstring)
            return True
        if self._file is not None:
            return True
        f = open(f"{path}-leader", "ab")  # noqa: SIM115 - held open for as long as we lead
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never back to the pool: the session ends, and its lock
                self._conn.close()
            except Exception:
                pass  # the connection is already gone, which is what we want
            self._conn = None
        if self._file is not None:
            self._file.close()  # closing the last descriptor releases the flock
            self._file = None

    def release(self) -> None:
        if self.held:
            log.info("leader: process %s steps down", os.getpid())
            metrics.LEADER.set(0)
        self._drop()
        self.held = False


Job = Callable[[], "float | None"]  # runs once; may return the seconds until its next run


@dataclass
class _Scheduled:
    name: str
    run: Job
    every: float
    due: float = 0.0
    errors: int = field(default=0)


class LeaderLoop(threading.Thread):
    """Daemon thread: each round, take or keep the leader lock; when leading, run the jobs due.

    A job that raises is logged (the 1st, 10th and every 100th failure in a row) and
    retried later, backing off up to MAX_BACKOFF; the loop and the other jobs go on."""

    def __init__(self, engine: sa.Engine, name: str = "ai-usage-leader", leadership: Leadership | None = None):
        super().__init__(name=name, daemon=True)
        self.leadership = leadership or Leadership(engine)
        self.jobs: list[_Scheduled] = []
        self._halt = threading.Event()

    def add(self, name: str, run: Job, every: float) -> None:
        """Run `run` every `every` seconds in the leader (at once when it becomes the leader)."""
        self.jobs.append(_Scheduled(name, run, every))

    @property
    def leading(self) -> bool:
        return self.leadership.held

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                was = self.leadership.held
                if self.leadership.hold():
                    if not was:
                        for job in self.jobs:
                            job.due = 0.0  # a new leader catches up at once
                    self._run_due()
                self._halt.wait(self._sleep())
        finally:
            self.leadership.release()

    def _sleep(self) -> float:
        if not self.jobs:
            return 5.0
        if not self.leadership.held:  # a follower tries again at the pace of the most frequent job
            return min(j.every for j in self.jobs)
        return max(0.0, min(j.due for j in self.jobs) - time.monotonic())

    def _run_due(self) -> None:
        for job in self.jobs:
            if self._halt.is_set() or time.monotonic() < job.due:
                continue
            try:
                delay: float | None = job.run()
                job.errors = 0
            except Exception as exc:  # the database may be away; answers stay exact without the job
                job.errors += 1
                if job.errors in (1, 10) or job.errors % 100 == 0:
                    _log_failure(job, exc)
                delay = min(job.every * (1 + job.errors), max(MAX_BACKOFF, job.every))
            job.due = time.monotonic() + (job.every if delay is None else delay)

    def stop(self, timeout: float | None = 10) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout)


def _log_failure(job: _Scheduled, exc: BaseException) -> None:
    """A job's failure in the log: one line when the database is at fault (its tables missing
    before `ai-usage init-db`, an outage, a timeout), which the operator fixes and a traceback
    does not explain; the traceback for anything else (a bug)."""
    kind = execute.classify(exc)
    if kind is None:
        log.exception("leader: job %s failed (%s in a row)", job.name, job.errors)
        return
    fault = exc if isinstance(exc, execute.DatabaseFault) else execute.DatabaseFault(kind, exc)
    cause = f"{type(fault.cause).__name__}: {fault.summary()}"
    missing = kind == execute.SCHEMA_MISSING
    hint = " The database lacks the dashboard's tables: run `ai-usage init-db`." if missing else ""
    level = logging.ERROR if missing else logging.WARNING
    log.log(level, "leader: job %s failed (%s in a row): %s (%s).%s", job.name, job.errors, kind, cause, hint)


def describe(loop: LeaderLoop | None) -> dict[str, Any]:
    """What /readyz and the tests may say about a process's loop."""
    if loop is None:
        return {"leaderLoop": False}
    return {"leaderLoop": True, "leading": loop.leading, "jobs": [j.name for j in loop.jobs]}
