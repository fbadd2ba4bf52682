"""A read shared by the callers that arrived before it started (the data stamp's, queries/freshness.py).

Twenty admins of one org refreshing the page send ~160 answers at once; each answer first
reads the org's data stamp (one statement, plus the pool's pre-ping and the transaction's
end: ~0.8 ms of PostgreSQL's CPU and ~0.5 ms of the worker's per answer, measured under
the `same` load test), and a cached answer costs little else. Callers of one key (the
database and the org) that arrive while its read is running wait for the *next* read and
share it: every one of them arrived before that read's statement began, so its snapshot
holds every row committed before any of them asked — the freshness rule of a cached
answer (a committed row counts at once) is kept. A read already running is never joined:
it may have begun before a row that the newcomer must see was committed.

Per key at most one read runs and one waits: the first caller to find a read running
leads the next one (it starts when the running one ends); later callers join it. A
caller whose shared read failed or took longer than WAIT_S reads on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

WAIT_S = 30.0  # a caller waits this long at most for the read it shares (then reads on its own)


class _Read:
    __slots__ = ("done", "ok", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value: object = None


class Batches(Generic[T]):
    """run(key, read): read()'s value from a read that began after this call did, shared."""

    def __init__(self, wait_s: float = WAIT_S, observe: Callable[[bool], None] | None = None) -> None:
        """observe(shared): called once per run(), True when it returned another caller's read."""
        self.wait_s = wait_s
        self.observe = observe
        self._lock = threading.Lock()
        self._running: dict[Hashable, _Read] = {}
        self._next: dict[Hashable, _Read] = {}
        self.reads = 0  # read() calls made (tests, and how much sharing saves)
        self.calls = 0

    def run(self, key: Hashable, read: Callable[[], T]) -> T:
        with self._lock:
            self.calls += 1
            running = self._running.get(key)
            if running is None:  # nothing running: this call's read starts now
                mine, role = _Read(), "lead"
                self._running[key] = mine
            elif (pending := self._next.get(key)) is None:  # lead the read after the running one
                mine, role = _Read(), "next"
                self._next[key] = mine
            else:  # join the read that has not started yet
                mine, role = pending, "join"
        if role == "join":
            if mine.done.wait(self.wait_s) and mine.ok:
                self._observe(True)
                return mine.value  # type: ignore[return-value]  # set by the leader's read(): a T
            return self._own(read)
        if role == "next":
            assert running is not None
            running.done.wait(self.wait_s)
            with self._lock:  # it starts now: later callers wait for the one after it
                del self._next[key]
                self._running[key] = mine
        try:
            value = self._own(read)
            mine.value, mine.ok = value, True
            return value
        finally:
            with self._lock:
                if self._running.get(key) is mine:
                    del self._running[key]
            mine.done.set()

    def _own(self, read: Callable[[], T]) -> T:
        with self._lock:
            self.reads += 1
        self._observe(False)
        return read()

    def _observe(self, shared: bool) -> None:
        if self.observe is not None:
            self.observe(shared)
