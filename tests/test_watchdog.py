"""storage.engine's watchdog: a statement past its deadline has its socket cut, and arming
one more statement wakes the watchdog thread only when its deadline is the earliest."""

from __future__ import annotations

import socket
import time

from storage.engine import _Watchdog


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.settimeout(5)
    return a, b


def test_an_earlier_deadline_is_cut_on_time_and_a_disarmed_one_never():
    dog = _Watchdog()
    (long_a, long_b), (short_a, short_b), (done_a, done_b) = _pair(), _pair(), _pair()
    pending = dog.arm(long_a.fileno(), 30)  # the thread now sleeps towards this one
    done = dog.arm(done_a.fileno(), 0.2)
    dog.disarm(done)
    t0 = time.monotonic()
    dog.arm(short_a.fileno(), 0.3)  # earlier than the thread's wake-up: it must be woken
    assert short_a.recv(1) == b""  # cut: the blocked reader returns at once
    assert 0.2 < time.monotonic() - t0 < 3
    time.sleep(0.3)
    done_b.send(b"x")
    long_b.send(b"y")
    assert done_a.recv(1) == b"x" and long_a.recv(1) == b"y"  # neither cut
    dog.disarm(pending)  # before its socket is closed and its number reused
    for s in (long_a, long_b, short_a, short_b, done_a, done_b):
        s.close()


def test_a_later_deadline_does_not_wake_the_thread():
    dog = _Watchdog()
    wakes = []
    notify = dog._cv.notify
    dog._cv.notify = lambda n=1: (wakes.append(1), notify(n))  # type: ignore[method-assign]
    a, b = _pair()
    first = dog.arm(a.fileno(), 20)
    assert len(wakes) == 1  # nothing armed before: the thread must learn of it
    tokens = [dog.arm(a.fileno(), 20) for _ in range(50)]
    assert len(wakes) == 1  # later deadlines: the thread wakes at the first one anyway
    last = dog.arm(a.fileno(), 5)
    assert len(wakes) == 2
    for t in [first, *tokens, last]:
        dog.disarm(t)
    a.close()
    b.close()
