"""gzip/brotli/zstd for every response (flask-compress), each cached API answer compressed once.

flask-compress compresses a response in its after_request hook, by the algorithm the
request's Accept-Encoding prefers. A cached API answer is the same bytes for everyone who
asks the same view while the org's data has not moved, so compressing it again on every
hit is waste: `remember(key)` ties the current response to its answer-cache key (which
names its bytes exactly, data stamp included), and flask-compress's own cache hook
(COMPRESS_CACHE_BACKEND / COMPRESS_CACHE_KEY) then keeps one compressed copy per (key,
algorithm) in this process. Every other response (the page, assets, uncached answers,
errors) has no key and is compressed as before, never cached.
"""

from __future__ import annotations

import flask
from flask_compress import Compress

from storage.lru import LocalBackend

G_KEY = "ai_usage_answer_key"
MAX_ENTRIES = 1024
MAX_BYTES = 16 * 1024 * 1024
TTL_S = 300  # as the answer cache's entries: a key nobody asks for again ages out


class CompressedAnswers:
    """flask-compress's cache backend: `<algorithm>;<answer key>` -> compressed bytes.

    flask-compress asks it for every compressed response; a key with no answer key
    (`<algorithm>;`) is never stored nor found."""

    def __init__(self) -> None:
        self.store = LocalBackend(MAX_ENTRIES, MAX_BYTES, squeeze=False)  # compressed already

    def get(self, key: str) -> bytes | None:
        return None if key.endswith(";") else self.store.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";") and self.store.get(key) is None:
            self.store.set(key, value, TTL_S)


def _answer_key(request: flask.Request) -> str:
    return flask.g.get(G_KEY) or ""


def remember(key: str | None) -> None:
    """The response of this request is the cached answer stored under key (None: it is not)."""
    if key is not None:
        setattr(flask.g, G_KEY, key)


def install(server: flask.Flask) -> Compress:
    """Compress every response of server (Vary: Accept-Encoding), cached answers once."""
    server.config["COMPRESS_CACHE_BACKEND"] = CompressedAnswers
    server.config["COMPRESS_CACHE_KEY"] = _answer_key
    return Compress(server)
