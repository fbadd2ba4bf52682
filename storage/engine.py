"""Engine: connections, the per-query time limit, dialect helpers and migrations."""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event

from .settings import driver_url


def sqlite_ts(dt: datetime) -> str:
    """Format an instant the way created_at is stored on SQLite (UTC text, sortable)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def ts_param(conn_or_dialect: str | sa.Connection | sa.Engine, dt: datetime) -> str | datetime:
    """Bind value for comparing with created_at: UTC text on SQLite, aware datetime elsewhere."""
    name = conn_or_dialect if isinstance(conn_or_dialect, str) else conn_or_dialect.dialect.name
    if name == "sqlite":
        dt = dt.astimezone(UTC)
        # Whole-second bounds are written without a fraction, so that a row stored as
        # "… 00:00:00" and one stored as "… 00:00:00.000000" both sort at or after it.
        fmt = "%Y-%m-%d %H:%M:%S" if dt.microsecond == 0 else "%Y-%m-%d %H:%M:%S.%f"
        return dt.strftime(fmt)
    return dt


class QueryTimeout(Exception):
    """A query ran past the configured time limit."""


log = logging.getLogger("ai_usage.db")  # the name operators filter on, kept across the move

# Every wait on PostgreSQL is bounded, also when the server is frozen (SIGSTOP, a hung
# host): then the server enforces nothing (statement_timeout included) and the kernel
# still acknowledges our packets, so neither TCP keepalives nor the server notice.
CONNECT_TIMEOUT_S = 5  # libpq connect_timeout: a new connection (TCP + startup)
PING_TIMEOUT_S = 3  # the pool's pre-ping (SELECT 1) before handing out a connection
STATEMENT_GRACE_S = 2  # past the statement timeout, the client gives up on the server
POOL_TIMEOUT_S = 5  # waiting for a free pooled connection
# SQLAlchemy's compiled statements kept per engine (its default 500, pruned at 750). The
# rollup reads are text() statements of ~3.6 KB made per plan: 620 of them held 15 MB of a
# worker after 200 distinct refreshes; with 100 (up to 150 kept) SQLAlchemy's share was 7.4 MB,
# and compiling a text() again costs nothing measurable (scripts/api_cpu.py: 51.6 vs 51.8 ms
# of CPU per refresh, alternated).
QUERY_CACHE_SIZE = 100
# A peer that vanished (host down, network cut) is noticed on an idle connection after
# idle + interval * count = 60 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def hang_bound(statement_timeout_ms: int) -> float:
    """Seconds a request can wait on a frozen PostgreSQL before its 503: a statement in
    flight (timeout + grace), or a pooled connection's ping then one reconnect."""
    statement = statement_timeout_ms / 1000 + STATEMENT_GRACE_S if statement_timeout_ms else 0
    return max(statement, PING_TIMEOUT_S + CONNECT_TIMEOUT_S)


class _Watchdog:
    """One daemon thread that cuts (shutdown) the socket of a PostgreSQL connection whose
    statement has not answered by its deadline. libpq then fails the call at once with
    "server closed the connection unexpectedly"; SQLAlchemy discards the connection."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._armed: dict[int, tuple[int, float]] = {}  # token -> (socket fd, seconds)
        self._heap: list[tuple[float, int]] = []
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, fd: int, seconds: float) -> int:
        """Watch fd for `seconds`. The thread sleeps until the earliest deadline in the heap
        (disarmed entries stay until it reaches them), so it is woken only when this deadline
        comes before that one: not once per statement (a thread switch each, under the GIL)."""
        with self._cv:
            token = next(self._ids)
            self._armed[token] = (fd, seconds)
            deadline = time.monotonic() + seconds
            earlier = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ai-usage-db-watchdog", daemon=True)
                self._thread.start()
            if earlier:
                self._cv.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._cv:  # under the lock: a disarmed token is never cut afterwards
            self._armed.pop(token, None)

    def _run(self) -> None:
        with self._cv:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    fd, seconds = self._armed.pop(heapq.heappop(self._heap)[1])
                    log.warning("PostgreSQL did not answer within %.1f s: connection closed", seconds)
                    _cut(fd)
                    continue
                self._cv.wait(self._heap[0][0] - now if self._heap else None)


def _cut(fd: int) -> None:
    try:
        s = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        s.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in libpq on this socket
    except OSError:
        pass
    finally:
        s.close()


_WATCHDOG = _Watchdog()


def _guarded_connection_class(limit: float | None) -> type:
    """A psycopg2 connection class whose statements, commits and rollbacks give up after
    `limit` seconds (None: no limit) — and a pre-ping after PING_TIMEOUT_S (see make_engine)."""
    import psycopg2.extensions as ext

    # psycopg2 ships no types: its classes are Any to mypy.
    class GuardedCursor(ext.cursor):  # type: ignore[misc]
        def execute(self, query: Any, vars: Any = None) -> Any:
            with self.connection.guard():
                return super().execute(query, vars)

        def executemany(self, query: Any, vars_list: Any) -> Any:
            with self.connection.guard():
                return super().executemany(query, vars_list)

    class GuardedConnection(ext.connection):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.cursor_factory = GuardedCursor
            self._guarded = False

        @contextmanager
        def guard(self, seconds: float | None = None) -> Iterator[None]:
            seconds = seconds or limit
            if not seconds or self._guarded or self.closed:
                yield
                return
            self._guarded = True
            token = _WATCHDOG.arm(self.fileno(), seconds)
            try:
                yield
            finally:
                _WATCHDOG.disarm(token)
                self._guarded = False

        def commit(self) -> Any:
            with self.guard():
                return super().commit()

        def rollback(self) -> Any:
            with self.guard():
                return super().rollback()

    return GuardedConnection


class DatabaseUnusable(Exception):
    """The database cannot be used at all, before any connection (its SQLite folder cannot be made)."""


def make_engine(url: str | sa.URL, statement_timeout_ms: int = 10_000, **kw: Any) -> sa.Engine:
    """Create an engine that survives restarts (pre-ping) and bounds every statement."""
    u = driver_url(sa.engine.make_url(url))
    url = u
    kw.setdefault("query_cache_size", QUERY_CACHE_SIZE)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            folder = Path(u.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:  # /proc/x, a path through a file: say it, no traceback
                raise DatabaseUnusable(f"cannot make its folder {folder}: {e.strerror or e}") from None
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True, **kw
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        if statement_timeout_ms:
            _install_sqlite_timeout(engine, statement_timeout_ms)
        return engine

    connect_args = dict(kw.pop("connect_args", {}))
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    for name, value in KEEPALIVES.items():
        connect_args.setdefault(name, value)
    limit = statement_timeout_ms / 1000 + STATEMENT_GRACE_S if statement_timeout_ms else None
    connect_args.setdefault("connection_factory", _guarded_connection_class(limit))
    # No JIT: compiling a plan takes ~15 ms, more than a dashboard query on the rollups.
    connect_args["options"] = "-c jit=off" + (
        f" -c statement_timeout={int(statement_timeout_ms)}" if statement_timeout_ms else ""
    )
    kw.setdefault("pool_timeout", POOL_TIMEOUT_S)
    # pool_size: a server passes its threads (serving_engine); a pool smaller than them
    # closes the overflow connections it hands back, and under load every request past the
    # pool then paid a new PostgreSQL backend (docs/operations.md, 4 December afternoon).
    kw.setdefault("pool_size", 5)
    kw.setdefault("max_overflow", 10)
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kw)
    # The pre-ping is a query too: a frozen server would hold it forever.
    ping = engine.dialect.do_ping

    def _bounded_ping(dbapi_connection: Any) -> bool:
        guard = getattr(dbapi_connection, "guard", None)
        with guard(PING_TIMEOUT_S) if guard else nullcontext():
            return ping(dbapi_connection)

    engine.dialect.do_ping = _bounded_ping  # type: ignore[method-assign]  # wrapped on this engine's dialect only
    return engine


def _install_sqlite_timeout(engine: sa.Engine, timeout_ms: int) -> None:
    """Abort any SQLite statement that runs longer than timeout_ms (progress handler)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(
        conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        raw = cast(sqlite3.Connection, conn.connection.dbapi_connection)  # this engine is SQLite
        if executemany or not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            raw.set_progress_handler(None, 0)
            return
        deadline = time.monotonic() + timeout_ms / 1000

        def _check() -> int:
            return 1 if time.monotonic() > deadline else 0

        raw.set_progress_handler(_check, 20_000)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(
        conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        cast(sqlite3.Connection, conn.connection.dbapi_connection).set_progress_handler(None, 0)


def is_timeout(exc: BaseException) -> bool:
    """True when a DBAPI error means the statement hit the time limit."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError) and "interrupted" in str(orig):
        return True
    return getattr(orig, "pgcode", None) == "57014"  # query_canceled


def migrate(engine: sa.Engine) -> None:
    """Create or upgrade every table the dashboard needs (Alembic, head)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def serving_engine(url: str | sa.URL, statement_timeout_ms: int, threads: int) -> sa.Engine:
    """The engine of a served process with `threads` request threads: a connection kept for
    each, and two more (the leader's catch-up and alert loop, a pre-ping's replacement)."""
    return make_engine(url, statement_timeout_ms, pool_size=threads + 2)
