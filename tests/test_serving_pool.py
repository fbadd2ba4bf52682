"""A served process keeps a database connection per request thread (storage.engine.serving_engine).

With a pool smaller than the threads, SQLAlchemy closes the overflow connections it is
handed back: under load every request past the pool opened a new PostgreSQL backend
(measured on 4 December 2026: backends started up to the last second of a 60-s load test).
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from support.db import create_pg_database, drop_pg_database

from storage.engine import make_engine, serving_engine

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url():
    url = create_pg_database()  # skips (or, under CI=true, fails) without PostgreSQL
    yield url
    drop_pg_database(url)


def _backends_after_bursts(engine: sa.Engine, threads: int, bursts: int) -> set[int]:
    """The backend pids seen by `threads` simultaneous checkouts, `bursts` times over."""
    pids: set[int] = set()
    lock = threading.Lock()
    for _ in range(bursts):
        barrier = threading.Barrier(threads)

        def work(barrier: threading.Barrier = barrier) -> None:
            with engine.connect() as c:
                barrier.wait()  # every thread holds a connection at once
                pid = c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
                with lock:
                    pids.add(int(pid))

        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return pids


def test_a_served_process_reuses_a_connection_per_thread(pg_url):
    threads = 8
    served = serving_engine(pg_url, 10_000, threads)
    small = make_engine(pg_url)  # the library default, 5 kept
    try:
        assert served.pool.size() == threads + 2
        assert len(_backends_after_bursts(served, threads, 4)) == threads  # the same 8 backends each time
        assert len(_backends_after_bursts(small, threads, 4)) > threads  # 3 new ones per burst
    finally:
        served.dispose()
        small.dispose()
