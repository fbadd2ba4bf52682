"""One computation of an answer across processes: a claim in the shared store (Redis).

Threads of one process already share a computation (storage/answer_cache.py). Processes
(gunicorn's workers, other instances) did not: a page change asks ~10 sections at once,
and three of them need every user's totals of the window (~100–400 ms of PostgreSQL at 10M
rows), so with two workers those totals were often read twice per change (PostgreSQL's
log: half of the changes of a `scripts/page_timing.py` pass).

The process that misses first sets `<key>:claim` (SET NX, expiring after LEASE_S), computes,
stores the answer and deletes its claim. A process that finds a claim waits for the answer:
it looks for it (one MGET of the answer and the claim) at growing intervals, from
POLL_FIRST_S up to POLL_MAX_S, and computes on its own as soon as the claim is gone without
an answer (the computation failed, or its process died and the lease ran out) or after
WAIT_S in all.

A claim is signed like an answer (HMAC with the cache's key) and carries its own deadline:
one that does not verify, or whose deadline has passed, is not waited for. So whoever else
can write to a shared Redis cannot make a request wait by planting claims, as they cannot
make one decode an answer it did not store. Redis failing never fails a request: the caller
computes, as without a claim.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable
from typing import Any

LEASE_S = 30.0  # a claim expires after this (its process died, or the computation hangs)
WAIT_S = 10.0  # a process waits for another's answer at most this long, then computes it too
POLL_FIRST_S, POLL_MAX_S = 0.005, 0.05
SUFFIX = ":claim"
_SIG = 32

# Delete a claim only if it is still ours (a lease that ran out may have been taken by another).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Claims:
    """Claims on answers' keys in Redis (`client`), signed with mac_key."""

    def __init__(self, client: Any, mac_key: bytes):
        self.client, self._mac_key = client, mac_key

    def _sign(self, key: str, body: bytes) -> bytes:
        """A claim's signature: never an answer's (those sign key + NUL + value, no "claim" tag)."""
        return hmac.new(self._mac_key, b"claim\0" + key.encode() + b"\0" + body, hashlib.sha256).digest()

    def _value(self, key: str, deadline: float) -> bytes:
        body = struct.pack(">d", deadline) + secrets.token_bytes(8)
        return self._sign(key, body) + body

    def _valid(self, key: str, value: Any) -> bool:
        """A claim this cache's processes signed, not past its deadline."""
        if not isinstance(value, bytes) or len(value) != _SIG + 16:
            return False
        body = value[_SIG:]
        return (
            hmac.compare_digest(value[:_SIG], self._sign(key, body)) and struct.unpack(">d", body[:8])[0] > time.time()
        )

    def claim(self, key: str) -> tuple[bool, bytes | None]:
        """(wait, token): wait=True when another process holds a valid claim on key; else
        token is ours to release once the answer is stored (None: nothing claimed — a forged
        or stale claim is there, or Redis failed — compute without one). Raises Redis's errors."""
        name = key + SUFFIX
        token = self._value(name, time.time() + LEASE_S)
        if self.client.set(name, token, nx=True, px=int(LEASE_S * 1000)):
            return False, token
        return self._valid(name, self.client.get(name)), None

    def release(self, key: str, token: bytes) -> None:
        """Delete our claim on key (if it is still ours). Raises Redis's errors."""
        self.client.eval(_RELEASE, 1, key + SUFFIX, token)

    def wait_for(self, key: str, verified: Callable[[bytes | None], bytes | None]) -> bytes | None:
        """The answer another process computes under its claim on key (verified(stored bytes)),
        once stored; None when the claim is gone without it or WAIT_S has passed. Each look
        is one round trip (the answer and the claim). Raises Redis's errors."""
        deadline, delay = time.monotonic() + WAIT_S, POLL_FIRST_S
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(delay, left))
            delay = min(delay * 2, POLL_MAX_S)
            stored, claim = self.client.mget([key, key + SUFFIX])
            value = verified(stored if isinstance(stored, bytes) else None)
            if value is not None or not self._valid(key + SUFFIX, claim):
                return value
        return None
