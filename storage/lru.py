"""The answer cache's in-process store (storage/answer_cache.py): bytes under a key, bounded."""

from __future__ import annotations

import threading
import time
import zlib
from collections import OrderedDict

LOCAL_MAX_ENTRIES = 2048
LOCAL_MAX_BYTES = 64 * 1024 * 1024
SQUEEZE_AT = 2 * 1024  # values this large or larger are kept compressed (LocalBackend's squeeze)


class LocalBackend:
    """A thread-safe LRU bounded by entries and bytes; entries also expire after their ttl.
    squeeze: values of SQUEEZE_AT bytes or more are kept zlib-compressed (level 1) if that
    saves a fifth, counted at that size: the page's shared parts (a window's every user, ~0.8
    MB pickled) take 2.8 times less, for ~9 ms to store and ~2.5 ms to read; the API's answers
    (~11 KB each) 4 times less, for ~0.08 ms to store (after 150 distinct refreshes: 952
    answers, 11.8 → 3.0 MB). Off for values compressed already (api/compression.py)."""

    def __init__(self, max_entries: int = LOCAL_MAX_ENTRIES, max_bytes: int = LOCAL_MAX_BYTES, squeeze: bool = True):
        self.max_entries, self.max_bytes, self.squeeze = max_entries, max_bytes, squeeze
        self._data: OrderedDict[str, tuple[float, bytes, bool]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                self._drop(key)
                return None
            self._data.move_to_end(key)
        return zlib.decompress(hit[1]) if hit[2] else hit[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        squeezed = False
        if self.squeeze and len(value) >= SQUEEZE_AT:
            small = zlib.compress(value, 1)
            if len(small) <= len(value) * 4 // 5:
                value, squeezed = small, True
        if len(value) > self.max_bytes // 4:
            return  # one huge answer must not flush everything else
        with self._lock:
            if key in self._data:
                self._drop(key)
            self._data[key] = (time.monotonic() + ttl, value, squeezed)
            self._bytes += len(value)
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._data)))

    def _drop(self, key: str) -> None:
        _, value, _ = self._data.pop(key)
        self._bytes -= len(value)

    def __len__(self) -> int:
        return len(self._data)
