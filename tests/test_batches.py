"""queries.batches: a read is shared only by callers that arrived before it started.

Threads stand in for the request threads of a worker; every read records the order in
which it started, and each caller the last read start before it arrived: a caller must
never get the value of a read that started before it did (the freshness rule of the data
stamp, queries/freshness.py)."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from queries.batches import Batches


class Reads:
    """read() functions that block on a gate of their own and return their start's number."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.gates: dict[int, threading.Event] = {}
        self._n = itertools.count(1)
        self._lock = threading.Lock()

    def read(self, fail: bool = False):
        def run() -> int:
            with self._lock:
                n = next(self._n)
                self.started.append(n)
                gate = self.gates.setdefault(n, threading.Event())
            assert gate.wait(10), "a gate was never opened"
            if fail:
                raise RuntimeError("database gone")
            return n

        return run

    def release(self, n: int) -> None:
        with self._lock:
            self.gates.setdefault(n, threading.Event()).set()

    def wait_started(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while len(self.started) < count:
            assert time.monotonic() < deadline, f"only {self.started} started"
            time.sleep(0.001)


def call(batches: Batches, key, read, out: list, arrived: list | None = None, reads: Reads | None = None):
    """A caller in a thread of its own; it notes the reads started when it arrived."""

    def run() -> None:
        if arrived is not None and reads is not None:
            arrived.append(len(reads.started))
        try:
            out.append(batches.run(key, read))
        except RuntimeError as exc:
            out.append(exc)

    t = threading.Thread(target=run)
    t.start()
    return t


def wait_calls(batches: Batches, n: int) -> None:
    deadline = time.monotonic() + 10
    while batches.calls < n:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_callers_arriving_during_a_read_share_the_next_one():
    observed: list[bool] = []
    b, reads = Batches(observe=observed.append), Reads()
    first: list = []
    t1 = call(b, "org", reads.read(), first)
    reads.wait_started(1)
    later: list = []
    arrived: list[int] = []
    threads = [call(b, "org", reads.read(), later, arrived, reads) for _ in range(5)]
    wait_calls(b, 6)
    time.sleep(0.05)
    assert reads.started == [1], "no second read starts while the first runs"
    reads.release(1)
    reads.wait_started(2)
    reads.release(2)
    for t in [t1, *threads]:
        t.join(10)
    assert first == [1] and later == [2] * 5
    assert b.reads == 2 and b.calls == 6
    assert sorted(observed) == [False, False, True, True, True, True]  # two own reads, four shared
    # Every one of them arrived before read 2 started.
    assert all(a < 2 for a in arrived)


def test_a_read_already_running_is_never_joined():
    """A caller arriving while the shared read runs gets a read of its own that starts after it."""
    b, reads = Batches(), Reads()
    out_a: list = []
    ta = call(b, "org", reads.read(), out_a)
    reads.wait_started(1)
    out_b: list = []
    tb = call(b, "org", reads.read(), out_b)
    wait_calls(b, 2)
    reads.release(1)
    reads.wait_started(2)  # B's read runs now
    out_c: list = []
    arrived: list[int] = []
    tc = call(b, "org", reads.read(), out_c, arrived, reads)
    wait_calls(b, 3)
    time.sleep(0.05)
    assert reads.started == [1, 2], "C waits for B's read to end, then reads"
    reads.release(2)
    reads.wait_started(3)
    reads.release(3)
    for t in (ta, tb, tc):
        t.join(10)
    assert (out_a, out_b, out_c) == ([1], [2], [3])
    assert arrived == [2] and out_c[0] > arrived[0]


def test_a_failed_shared_read_is_read_again_by_each_who_waited():
    b, reads = Batches(), Reads()
    out_a: list = []
    ta = call(b, "org", reads.read(), out_a)
    reads.wait_started(1)
    out_b: list = []
    tb = call(b, "org", reads.read(fail=True), out_b)  # leads the next read, which fails
    wait_calls(b, 2)
    out_c: list = []
    tc = call(b, "org", reads.read(), out_c)  # joins it
    wait_calls(b, 3)
    for n in (1, 2, 3):
        reads.release(n)
    for t in (ta, tb, tc):
        t.join(10)
    assert out_a == [1] and isinstance(out_b[0], RuntimeError) and out_c == [3]
    assert b.reads == 3


def test_keys_do_not_wait_for_one_another():
    b, reads = Batches(), Reads()
    out: list = []
    t1 = call(b, ("db", "org-a"), reads.read(), out)
    reads.wait_started(1)
    t2 = call(b, ("db", "org-b"), reads.read(), out)
    reads.wait_started(2)  # started while org-a's read still runs
    reads.release(2)
    t2.join(10)
    assert out == [2]
    reads.release(1)
    t1.join(10)
    assert sorted(out) == [1, 2]


def test_a_read_that_hangs_delays_the_next_only_so_long():
    b, reads = Batches(wait_s=0.2), Reads()
    out_a: list = []
    ta = call(b, "org", reads.read(), out_a)
    reads.wait_started(1)
    out_b: list = []
    t0 = time.monotonic()
    tb = call(b, "org", reads.read(), out_b)
    reads.wait_started(2)  # B gave up waiting for A after 0.2 s and reads
    assert time.monotonic() - t0 < 5
    reads.release(2)
    tb.join(10)
    assert out_b == [2]
    reads.release(1)
    ta.join(10)
    assert out_a == [1]


@pytest.mark.parametrize("seed", range(5))
def test_no_caller_gets_a_read_older_than_its_arrival(seed):
    """Many callers on two keys with short reads: every value comes from a read that started
    after its caller arrived (reads numbered by start), and fewer reads than callers."""
    import random

    rng = random.Random(seed)
    b = Batches()
    lock = threading.Lock()
    counter = itertools.count(1)
    last_started = {"a": 0, "b": 0}
    bad: list = []
    got: list = []

    def read(key: str):
        def run() -> int:
            with lock:
                n = next(counter)
                last_started[key] = n
            time.sleep(rng.random() * 0.003)
            return n

        return run

    def caller(key: str) -> None:
        time.sleep(rng.random() * 0.05)
        with lock:
            seen = last_started[key]
        value = b.run(key, read(key))
        got.append(value)
        if value <= seen:
            bad.append((key, seen, value))

    threads = [threading.Thread(target=caller, args=(rng.choice("ab"),)) for _ in range(120)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not bad and len(got) == 120
    assert b.reads < 120
