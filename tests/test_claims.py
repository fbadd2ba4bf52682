"""One computation of an answer across processes sharing Redis (storage/claims.py).

Two AnswerCache objects over one Redis are two processes as far as the cache can tell
(each has its own flights and near copy); one test starts two real processes. Redis at
127.0.0.1:6379 is required under CI=true (a private db and key prefix, deleted afterwards).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from support.api import SECRET
from support.db import require

from storage import claims
from storage.answer_cache import AnswerCache, RedisBackend
from storage.lru import LocalBackend

REDIS_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[1]


def _redis_ok() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture
def shared():
    """(backend, prefix): the real Redis under a private prefix, its keys deleted afterwards."""
    require(_redis_ok(), f"Redis at {REDIS_URL}")
    prefix = f"ai-usage-test:{uuid.uuid4().hex[:12]}:"
    b = RedisBackend(REDIS_URL)
    yield b, prefix
    for key in b.client.scan_iter(match=prefix + "*"):
        b.client.delete(key)


def holding(cache: AnswerCache, key: str, answer: bytes, calls: list[str], name: str, go: threading.Event):
    """A thread computing key in `cache` that holds until `go` (or raises when answer is b"")."""

    def compute() -> bytes:
        calls.append(name)
        go.wait(10)
        if not answer:
            raise RuntimeError("database gone")
        return answer

    out: list[object] = []

    def run() -> None:
        try:
            out.append(cache.get_or_compute(key, compute, bytes, bytes))
        except RuntimeError as exc:
            out.append(exc)

    t = threading.Thread(target=run)
    t.start()
    while not calls:
        time.sleep(0.001)
    return t, out


def two_processes(shared, name: str, answer_a: bytes, own_b: bytes):
    """Cache `a` computing `name` and holding until `go` is set (raising when answer_a is b""),
    and a second cache over the same Redis asking the same key meanwhile (its own answer: own_b)."""
    b, prefix = shared
    a, other = AnswerCache(b, SECRET, prefix), AnswerCache(RedisBackend(REDIS_URL), SECRET, prefix)
    key, calls, go = a.full_key("org-a", name), [], threading.Event()
    t, got_a = holding(a, key, answer_a, calls, "a", go)
    got_b: list[bytes] = []
    tb = threading.Thread(target=lambda: got_b.append(other.get_or_compute(key, lambda: own_b, bytes, bytes)))
    tb.start()

    def finish() -> None:
        go.set()
        t.join(10)
        tb.join(10)

    return a, other, key, calls, got_a, got_b, finish


def test_a_second_process_waits_for_the_first_ones_answer(shared):
    a, other, key, calls, got_a, got_b, finish = two_processes(shared, "one", b"answer", b"b's own")
    time.sleep(0.3)
    assert shared[0].client.exists(key + claims.SUFFIX) and not got_b  # b waits while a holds the claim
    finish()
    assert got_a == [b"answer"] and got_b == [b"answer"] and calls == ["a"]
    assert a.counters.snapshot()["misses"] == 1 and other.counters.snapshot() == {"hits": 1, "misses": 0, "errors": 0}
    assert not shared[0].client.exists(key + claims.SUFFIX)  # released once stored


def test_a_failed_computation_lets_the_waiting_process_compute_at_once(shared):
    _a, other, key, _calls, got_a, got_b, finish = two_processes(shared, "two", b"", b"mine")
    time.sleep(0.2)
    started = time.monotonic()
    finish()
    assert isinstance(got_a[0], RuntimeError) and got_b == [b"mine"]
    assert time.monotonic() - started < 1.0  # the claim was released: no wait for its lease
    assert other.get(key) == b"mine"


def test_a_forged_claim_is_not_waited_for(shared):
    """Whoever can write to Redis cannot make a request wait by planting a claim."""
    b, prefix = shared
    cache = AnswerCache(b, SECRET, prefix)
    key = cache.full_key("org-a", "three")
    forger = claims.Claims(b.client, b"not the app's key")
    b.client.set(key + claims.SUFFIX, forger._value(key + claims.SUFFIX, time.time() + 600), px=600_000)
    started = time.monotonic()
    assert cache.get_or_compute(key, lambda: b"computed", bytes, bytes) == b"computed"
    assert time.monotonic() - started < 0.5 and cache.counters.snapshot()["misses"] == 1
    real = claims.Claims(b.client, cache._mac_key)  # a claim of ours past its own deadline: not waited for either
    b.client.set(key + "x" + claims.SUFFIX, real._value(key + "x" + claims.SUFFIX, time.time() - 1), px=600_000)
    started = time.monotonic()
    assert cache.get_or_compute(key + "x", lambda: b"too", bytes, bytes) == b"too"
    assert time.monotonic() - started < 0.5


def test_a_claim_never_released_holds_a_waiter_at_most_wait_s(shared, monkeypatch):
    """The claiming process died (its claim stays until the lease ends): the waiter computes
    after claims.WAIT_S."""
    b, prefix = shared
    monkeypatch.setattr(claims, "WAIT_S", 0.4)
    cache = AnswerCache(b, SECRET, prefix)
    key = cache.full_key("org-a", "four")
    dead = claims.Claims(b.client, cache._mac_key)
    assert dead.claim(key)[1] is not None
    started = time.monotonic()
    assert cache.get_or_compute(key, lambda: b"after the wait", bytes, bytes) == b"after the wait"
    assert 0.4 <= time.monotonic() - started < 2.0


def test_a_claim_is_only_released_by_its_holder(shared):
    b, prefix = shared
    c = claims.Claims(b.client, b"k" * 32)
    key = prefix + "five"
    wait, token = c.claim(key)
    assert not wait and token is not None
    assert c.claim(key) == (True, None)  # held and valid: wait
    c.release(key, b"someone else's token")
    assert b.client.exists(key + claims.SUFFIX)
    c.release(key, token)
    assert not b.client.exists(key + claims.SUFFIX)


def test_an_lru_has_no_claims():
    assert AnswerCache(LocalBackend(), SECRET).claims is None


def test_redis_failing_during_a_claim_computes_uncached(monkeypatch, shared):
    b, prefix = shared
    cache = AnswerCache(b, SECRET, prefix)

    def broken(*_a, **_k):
        raise ConnectionError("redis gone")

    assert cache.claims is not None
    monkeypatch.setattr(cache.claims, "claim", broken)
    key = cache.full_key("org-a", "six")
    assert cache.get_or_compute(key, lambda: b"answer", bytes, bytes) == b"answer"
    assert cache.counters.snapshot()["errors"] == 1


CHILD = """
import sys, time
import redis
from storage.answer_cache import AnswerCache, RedisBackend
url, prefix, secret, counter = sys.argv[1:5]
r = redis.Redis.from_url(url)
cache = AnswerCache(RedisBackend(url), secret, prefix)
def compute():
    r.incr(counter)
    time.sleep(3.0)  # longer than the second process takes to start and ask
    return b"the answer"
started = time.monotonic()
answer = cache.get_or_compute(cache.full_key("org-a", "seven"), compute, bytes, bytes).decode()
print(answer, round(time.monotonic() - started, 3))
"""


def test_two_processes_asking_at_once_compute_once(shared):
    b, prefix = shared
    counter = prefix + "computations"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", CHILD, REDIS_URL, prefix, SECRET, counter]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, cwd=ROOT, text=True)
    deadline = time.monotonic() + 20
    while not b.client.get(counter) and time.monotonic() < deadline:
        time.sleep(0.01)  # the first process is computing
    second = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, cwd=ROOT, text=True)
    outs = [p.communicate(timeout=30)[0].strip().rsplit(" ", 1) for p in (first, second)]
    assert [o[0] for o in outs] == ["the answer", "the answer"] and int(b.client.get(counter)) == 1
    assert float(outs[1][1]) > 0.2  # the second asked while the first computed, and waited for it
