"""The answer cache: bytes under a key, in this process (an LRU) or shared (Redis).

Callers build the key from everything an answer depends on (the org, every parameter,
the data's stamp: see queries/freshness.py), so an entry is never invalidated, only
left behind: a key that can no longer be asked for ages out of the LRU or expires in
Redis. Values are signed (HMAC-SHA256 with a key derived from the app's secret) and a
value whose signature does not match is a miss: a shared Redis that someone else can
write to cannot make this process decode what it did not store.

Redis failing (down, slow, refusing) never fails a request: the call counts an error,
logs one warning per 30 s and the caller computes the answer uncached.

A shared store is fronted by a small LRU in each process (NEAR_MAX_ENTRIES, NEAR_MAX_BYTES):
a key names its answer's bytes exactly (the data stamp and the clock's step are in it), so
a copy kept here is the bytes Redis holds under that key, for as long as either lives; a
hit there costs no round trip to Redis and no signature check (the copy was checked, or
written, by this process). Only bytes this process verified or stored enter it.

One computation per key at a time in a process: when threads miss on the same key at once
(every admin's view of a window holding now moves to a new key each 5 s), the first
computes and stores it and the others wait for its bytes (at most FLIGHT_WAIT_S, then they
compute on their own). They count as hits: the answer was computed once for all of them.
Processes sharing Redis do the same through a claim on the key (storage/claims.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import metrics
from .claims import Claims
from .lru import LocalBackend
from .settings import cache_url

log = logging.getLogger("ai_usage.cache")

TTL_SECONDS = 300  # an entry nobody asks for again is dropped after this (Redis); the LRU also bounds it
WARN_EVERY_S = 30.0
SIG = 32  # bytes of HMAC-SHA256 in front of every stored value
FLIGHT_WAIT_S = 30.0  # a thread waiting for another's computation of the same key: at most this long
NEAR_MAX_ENTRIES = 512  # the per-process copy in front of a shared store (Redis)
NEAR_MAX_BYTES = 16 * 1024 * 1024


@dataclass
class Counters:
    """Hits, misses and backend errors since start (a metrics hook reads them)."""

    hits: int = 0
    misses: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {"hits": self.hits, "misses": self.misses, "errors": self.errors}


class _Flight:
    """One computation of a key in progress: its encoded answer once done (None: it failed)."""

    __slots__ = ("done", "encoded")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.encoded: bytes | None = None


class Backend(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, ttl: int) -> None: ...


class RedisBackend:
    """Redis at `url` (redis://host:port/db); short timeouts, so a sick Redis costs little."""

    def __init__(self, url: str, timeout_s: float = 0.25):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)

    def get(self, key: str) -> bytes | None:
        value = self.client.get(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self.client.set(key, value, ex=ttl)


class AnswerCache:
    """get_or_compute(key, compute, encode, decode) over a backend, signed, never failing a request."""

    def __init__(
        self,
        backend: Backend,
        secret: str,
        prefix: str = "ai-usage:answers:",
        ttl: int = TTL_SECONDS,
        near: LocalBackend | None = None,
    ):
        """near: the per-process copy in front of backend (default: one for Redis, none for an LRU)."""
        self.backend, self.prefix, self.ttl = backend, prefix, ttl
        self.kind = "redis" if isinstance(backend, RedisBackend) else "local"
        if near is None and self.kind == "redis":
            near = LocalBackend(NEAR_MAX_ENTRIES, NEAR_MAX_BYTES)
        self.near = near
        self._mac_key = hashlib.sha256(b"ai-usage answer cache\0" + secret.encode()).digest()
        # One computation per key across processes too, where the store is shared (storage/claims.py).
        self.claims = Claims(backend.client, self._mac_key) if isinstance(backend, RedisBackend) else None
        self.counters = Counters()
        self._warned = 0.0
        self._flights: dict[str, _Flight] = {}
        self._flights_lock = threading.Lock()

    def full_key(self, org_id: str, digest: str) -> str:
        """<prefix><org>:<digest>: the org in clear, so a key never mixes orgs and one org's keys can be listed."""
        return f"{self.prefix}{hashlib.sha256(org_id.encode()).hexdigest()[:32]}:{digest}"

    def _sign(self, key: str, value: bytes) -> bytes:
        return hmac.new(self._mac_key, key.encode() + b"\0" + value, hashlib.sha256).digest()

    def get(self, key: str) -> bytes | None:
        if self.near is not None:
            copy = self.near.get(key)
            if copy is not None:
                return copy
        try:
            stored = self.backend.get(key)
        except Exception as exc:
            self._failed("read", exc)
            return None
        return self._verified(key, stored)

    def _verified(self, key: str, stored: bytes | None) -> bytes | None:
        """The value of stored bytes whose signature matches (kept in the near copy), else None."""
        if stored is None or len(stored) < SIG:
            return None
        value = stored[SIG:]
        if not hmac.compare_digest(stored[:SIG], self._sign(key, value)):
            log.warning("answer cache: an entry with a bad signature was ignored (%s)", key[: len(self.prefix) + 8])
            return None
        if self.near is not None:
            self.near.set(key, value, self.ttl)
        return value

    def put(self, key: str, value: bytes) -> None:
        if self.near is not None:
            self.near.set(key, value, self.ttl)
        try:
            self.backend.set(key, self._sign(key, value) + value, self.ttl)
        except Exception as exc:
            self._failed("write", exc)

    def get_or_compute(
        self, key: str, compute: Callable[[], Any], encode: Callable[[Any], bytes], decode: Callable[[bytes], Any]
    ) -> Any:
        """decode(cached bytes), or compute() (stored as encode(result)). Threads of this
        process missing on the same key at once share one computation (the module's
        docstring), and so do processes sharing Redis (storage/claims.py)."""
        cached = self.get(key)
        if cached is None:
            with self._flights_lock:
                flight = self._flights.get(key)
                leading = flight is None
                if leading:
                    flight = self._flights[key] = _Flight()
            assert flight is not None
            if leading:
                return self._compute(key, flight, compute, encode, decode)
            if flight.done.wait(FLIGHT_WAIT_S):
                cached = flight.encoded
        metrics.cache_lookup(cached is not None, self.kind)  # /metrics: the hit ratio per store
        if cached is not None:
            self.counters.add("hits")
            return decode(cached)
        self.counters.add("misses")  # the computation we waited for failed or took too long
        result = compute()
        self.put(key, encode(result))
        return result

    def _compute(
        self,
        key: str,
        flight: _Flight,
        compute: Callable[[], Any],
        encode: Callable[[Any], bytes],
        decode: Callable[[bytes], Any],
    ) -> Any:
        """compute() (or take what another process stored under its claim), store it, release the waiters."""
        try:
            other, token = self._claim(key) if self.claims is not None else (None, None)
            if other is not None:
                flight.encoded = other
                metrics.cache_lookup(True, self.kind)
                self.counters.add("hits")
                return decode(other)
            metrics.cache_lookup(False, self.kind)
            self.counters.add("misses")
            try:
                result = compute()
                flight.encoded = encode(result)
                self.put(key, flight.encoded)
                return result
            finally:
                if token is not None:
                    self._release(key, token)
        finally:
            with self._flights_lock:
                self._flights.pop(key, None)
            flight.done.set()

    def _claim(self, key: str) -> tuple[bytes | None, bytes | None]:
        """(the answer another process computed, None) or (None, our claim's token or None)."""
        assert self.claims is not None
        try:
            wait, token = self.claims.claim(key)
            if wait:
                return self.claims.wait_for(key, lambda stored: self._verified(key, stored)), None
        except Exception as exc:
            self._failed("claim", exc)
            return None, None
        if token is not None and (stored := self.get(key)) is not None:  # stored and released since our first look
            self._release(key, token)
            return stored, None
        return None, token

    def _release(self, key: str, token: bytes) -> None:
        try:
            self.claims.release(key, token)  # type: ignore[union-attr]  # only called with claims
        except Exception as exc:
            self._failed("write", exc)

    def _failed(self, what: str, exc: Exception) -> None:
        self.counters.add("errors")
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY_S:
            self._warned = now
            log.warning("answer cache unavailable (%s: %s); answering uncached", what, exc.__class__.__name__)


def make_cache(url: str, secret: str, prefix: str = "ai-usage:answers:") -> AnswerCache | None:
    """A Redis cache when url is set (redis:// or rediss://), None for "none", else this process's LRU."""
    if url.strip().lower() == "none":
        return None
    if url:  # a URL of no Redis: ValueError (Settings.from_env says it first, naming the variable)
        return AnswerCache(RedisBackend(cache_url(url)), secret, prefix)
    return AnswerCache(LocalBackend(), secret, prefix)
