"""The answer cache: a repeated view is served from it, and never a stale answer, on both engines.

Each case runs with the in-process LRU and with the real Redis at 127.0.0.1:6379 (a
private db and key prefix, deleted afterwards; under CI=true Redis is required). Every
cached answer is compared with the same question asked of an app without a cache:
after a new row (no refresh), a late row filling a gap range below the watermark, a
`refresh --full` after a deletion, an agent renamed; two orgs never share an entry; the
page's sections use the same cache; Redis unreachable answers uncached with a warning; a
process reads Redis once per key, and never keeps a forged entry.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from support.api import BASE, ROUTES, SECRET, auth, log, make_app, utc
from support.db import insert_agents, insert_logs, require

import callbacks.overview
from ingest import refresh as rollups
from queries import freshness
from storage import rollup_tables as rt
from storage.answer_cache import AnswerCache, RedisBackend
from storage.lru import LocalBackend
from web import context
from web.auth import mint_token

REDIS_URL = "redis://127.0.0.1:6379/15"
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
WINDOW = {"from": "2026-05-01", "to": "2026-05-10", "timezone": "America/New_York"}


@pytest.fixture(scope="module")
def engine(own_engine):
    """A database of this module's own: `refresh --full` rebuilds the rollups of the whole table."""
    return own_engine


def _redis_ok() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(params=["local", "redis"])
def backend(request):
    """(backend, prefix) for one test; Redis keys under a private prefix, deleted afterwards."""
    prefix = f"ai-usage-test:{uuid.uuid4().hex[:12]}:"
    if request.param == "local":
        yield LocalBackend(), prefix
        return
    require(_redis_ok(), f"Redis at {REDIS_URL}")
    b = RedisBackend(REDIS_URL)
    yield b, prefix
    for key in b.client.scan_iter(match=prefix + "*"):
        b.client.delete(key)


def apps(engine, backend):
    """(app with the cache under test, app without any cache), both at NOW."""
    cached, plain = make_app(engine, clock=lambda: NOW), make_app(engine, clock=lambda: NOW)
    b, prefix = backend
    context.attach_cache(cached.server, AnswerCache(b, SECRET, prefix))
    context.attach_cache(plain.server, None)
    return cached, plain


def get(app, org, route, **params):
    resp = app.server.test_client().get(f"{BASE}/{route}", query_string=params or WINDOW, headers=auth(org))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data()


def both(cached, plain, org, route="summary", **params) -> bytes:
    """The cached app's answer, checked byte for byte against the uncached one."""
    a = get(cached, org, route, **params)
    assert a == get(plain, org, route, **params), route
    return a


def counts(app) -> dict:
    return context.cache(app.server).counters.snapshot()


def seed(engine, org, n=3, day=2):
    insert_logs(engine, [log(org, utc(2026, 5, day, 10 + i), inp=100, out=10, cost=0.25) for i in range(n)])


def executions(body: bytes) -> int:
    import json

    return int(json.loads(body)["executions"])


# ------------------------------------------------------------------ the backends


def test_lru_bounds_entries_bytes_and_ttl():
    b = LocalBackend(max_entries=3, max_bytes=1000)
    for i in range(5):
        b.set(f"k{i}", b"x" * 10, ttl=60)
    assert len(b) == 3 and b.get("k0") is None and b.get("k4") == b"x" * 10
    b.set("big", b"y" * 200, ttl=60)
    b.set("big2", b"y" * 200, ttl=60)
    assert b.get("k4") is None or len(b) <= 3
    b.set("old", b"z", ttl=-1)
    assert b.get("old") is None


def test_large_values_are_kept_compressed_and_read_back_whole():
    import os
    import pickle

    import pandas as pd

    from storage import lru

    b = LocalBackend(max_entries=10, max_bytes=4 * 1024 * 1024)
    users = pd.DataFrame({"user_id": [f"user-{i:05d}" for i in range(30_000)], "cost_e8": range(30_000)})
    value = pickle.dumps(users)
    assert len(value) >= lru.SQUEEZE_AT
    b.set("users", value, ttl=60)
    assert b.get("users") == value and b.get("users") is not value
    assert b._bytes < len(value) * 4 // 5  # counted at its compressed size
    # Noise does not compress: kept as it is (and is the same object back).
    noise = os.urandom(lru.SQUEEZE_AT)
    b.set("noise", noise, ttl=60)
    assert b.get("noise") is noise
    # Under SQUEEZE_AT, or squeeze off (values compressed already): never compressed.
    small = b"a" * (lru.SQUEEZE_AT - 1)
    b.set("small", small, ttl=60)
    assert b.get("small") is small
    plain = LocalBackend(squeeze=False)
    plain.set("users", value, ttl=60)
    assert plain.get("users") is value and plain._bytes == len(value)
    # A value over a quarter of the bound once compressed is not kept; one that fits only compressed is.
    tight = LocalBackend(max_entries=10, max_bytes=len(value) * 2)
    tight.set("users", value, ttl=60)
    assert tight.get("users") == value


def test_a_forged_entry_is_a_miss(caplog):
    cache = AnswerCache(LocalBackend(), SECRET, "p:")
    key = cache.full_key("org-a", "d")
    cache.backend.set(key, b"\0" * 32 + b"forged", 60)
    with caplog.at_level(logging.WARNING, "ai_usage.cache"):
        assert cache.get(key) is None
    assert "bad signature" in caplog.text
    cache.put(key, b"mine")
    assert cache.get(key) == b"mine"
    assert AnswerCache(cache.backend, "another secret", "p:").get(key) is None


class Counting:
    """A backend that counts its reads (a stand-in for the shared store, Redis's interface)."""

    def __init__(self, inner):
        self.inner, self.reads = inner, 0

    def get(self, key):
        self.reads += 1
        return self.inner.get(key)

    def set(self, key, value, ttl):
        self.inner.set(key, value, ttl)


def test_a_shared_store_is_read_once_per_key_and_process(backend):
    """The per-process copy in front of a shared store: the second process reads Redis once
    per key, then answers from its copy (the key names the bytes: they cannot have changed)."""
    b, prefix = backend
    writer = AnswerCache(b, SECRET, prefix)
    shared = Counting(b)
    reader = AnswerCache(shared, SECRET, prefix, near=LocalBackend())
    key = writer.full_key("org-a", "near")
    writer.put(key, b"answer")
    assert [reader.get(key) for _ in range(5)] == [b"answer"] * 5
    assert shared.reads == 1
    calls: list[int] = []
    assert reader.get_or_compute(key, lambda: calls.append(1) or b"other", bytes, bytes) == b"answer"
    assert not calls and shared.reads == 1
    # What this process stores is in its copy too; an unknown key still asks the store.
    reader.put(writer.full_key("org-a", "mine"), b"mine")
    assert reader.get(writer.full_key("org-a", "mine")) == b"mine" and shared.reads == 1
    assert reader.get(writer.full_key("org-a", "absent")) is None and shared.reads == 2


def test_a_forged_shared_entry_never_enters_the_copy(backend, caplog):
    """A value in the shared store whose signature does not match is a miss each time it is
    asked for, and is not kept: the copy holds only bytes this process checked or wrote."""
    b, prefix = backend
    shared = Counting(b)
    cache = AnswerCache(shared, SECRET, prefix, near=LocalBackend())
    key = cache.full_key("org-a", "forged")
    b.set(key, b"\0" * 32 + b"forged", 60)
    with caplog.at_level(logging.WARNING, "ai_usage.cache"):
        assert cache.get(key) is None and cache.get(key) is None
    assert shared.reads == 2 and caplog.text.count("bad signature") == 2
    assert cache.near is not None and cache.near.get(key) is None


def test_redis_is_fronted_by_a_copy_and_an_lru_is_not():
    assert AnswerCache(RedisBackend(REDIS_URL), SECRET).near is not None
    assert AnswerCache(LocalBackend(), SECRET).near is None


def test_threads_missing_on_one_key_share_one_computation(backend):
    """Twelve threads miss on one key at once: one computes, the others get its bytes (as hits)."""
    import threading

    b, prefix = backend
    cache = AnswerCache(b, SECRET, prefix)
    key, calls, go = cache.full_key("org-a", "one"), [], threading.Event()

    def compute():
        calls.append(1)
        go.wait(5)  # every other thread arrives while this computation is in flight
        return b"answer"

    got: list[bytes] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get_or_compute(key, compute, bytes, bytes)))]
    threads[0].start()
    while not calls:
        time.sleep(0.001)
    threads += [
        threading.Thread(target=lambda: got.append(cache.get_or_compute(key, compute, bytes, bytes))) for _ in range(11)
    ]
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)
    go.set()
    for t in threads:
        t.join(10)
    assert got == [b"answer"] * 12 and len(calls) == 1
    assert counts_of(cache) == {"hits": 11, "misses": 1, "errors": 0}
    assert cache.get(key) == b"answer" and not cache._flights


def test_a_failed_shared_computation_is_retried_by_each_waiter(backend):
    """The computation the others wait for raises: it fails alone, each waiter computes on its own."""
    import threading

    b, prefix = backend
    cache = AnswerCache(b, SECRET, prefix)
    key, started, go = cache.full_key("org-a", "two"), threading.Event(), threading.Event()

    def failing():
        started.set()
        go.wait(5)
        raise RuntimeError("database gone")

    errors: list[BaseException] = []

    def first():
        try:
            cache.get_or_compute(key, failing, bytes, bytes)
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=first)
    t.start()
    started.wait(5)
    got: list[bytes] = []
    waiter = threading.Thread(target=lambda: got.append(cache.get_or_compute(key, lambda: b"mine", bytes, bytes)))
    waiter.start()
    time.sleep(0.1)
    go.set()
    t.join(10)
    waiter.join(10)
    assert len(errors) == 1 and got == [b"mine"] and not cache._flights
    assert cache.get(key) == b"mine"


def counts_of(cache: AnswerCache) -> dict:
    return cache.counters.snapshot()


# ------------------------------------------------------------------ the API


def test_a_repeated_view_is_computed_once(engine, org_id, backend):
    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    first = {r: both(cached, plain, org_id, r) for r in ROUTES}
    before = counts(cached)
    again = {r: get(cached, org_id, r) for r in ROUTES}
    after = counts(cached)
    assert again == first
    assert after["hits"] - before["hits"] == len(ROUTES) and after["misses"] == before["misses"]
    both(cached, plain, org_id, "time-series", groupBy="action", **WINDOW)  # another parameter, another entry
    assert counts(cached)["misses"] == after["misses"] + 1


def test_a_committed_row_counts_at_once(engine, org_id, backend):
    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    assert executions(both(cached, plain, org_id)) == 3
    seed(engine, org_id, n=1, day=3)  # in the tail: no refresh
    assert executions(both(cached, plain, org_id)) == 4
    seed(engine, org_id, n=1, day=4)
    assert executions(both(cached, plain, org_id)) == 5
    rollups.refresh(engine)  # rolled up now: a new version, the same answer
    assert executions(both(cached, plain, org_id)) == 5


def hold_the_first_stamp(monkeypatch):
    """(entered, gate): the first data stamp read from now on is held, once read, until gate is set."""
    import threading

    real, entered, gate = freshness.data_stamp, threading.Event(), threading.Event()

    def held(conn, org):
        stamp = real(conn, org)
        if not entered.is_set():
            entered.set()
            assert gate.wait(10)
        return stamp

    monkeypatch.setattr(freshness, "data_stamp", held)
    return entered, gate


def stamps_metric(app) -> dict[str, float]:
    """ai_usage_data_stamps_total by `read` (own, shared), from the app's /metrics."""
    text = app.server.test_client().get("/metrics").get_data(as_text=True)
    out = {"own": 0.0, "shared": 0.0}
    for line in text.splitlines():
        if line.startswith("ai_usage_data_stamps_total{"):
            name, value = line.rsplit(" ", 1)
            out[name.split('read="')[1].split('"')[0]] = float(value)
    return out


def ask_while_a_stamp_is_read(target):
    """Start target in a thread and return once it has asked for a stamp (STAMPS.run called)."""
    import threading

    calls = freshness.STAMPS.calls
    t = threading.Thread(target=target)
    t.start()
    while freshness.STAMPS.calls == calls:
        time.sleep(0.001)
    return t


def test_an_answer_asked_while_a_stamp_is_read_sees_the_rows_committed_before_it(engine, org_id, backend, monkeypatch):
    """Answers of one org asked at once share the data stamp's reads (queries/batches.py):
    A's stamp is read (3 rows), a row commits, then B asks while A's read still runs: B must
    not share A's stamp (it would get the entry cached under it: 3 rows) but wait for a read
    of its own, which sees 4."""
    import threading

    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    assert executions(get(cached, org_id, "summary")) == 3  # cached under the stamp of 3 rows
    entered, gate = hold_the_first_stamp(monkeypatch)
    out: dict[str, int] = {}
    a = threading.Thread(target=lambda: out.setdefault("a", executions(get(cached, org_id, "summary"))))
    a.start()
    assert entered.wait(10)
    seed(engine, org_id, n=1, day=3)  # committed after A's stamp was read, before B asks
    b = ask_while_a_stamp_is_read(lambda: out.setdefault("b", executions(get(cached, org_id, "summary"))))
    time.sleep(0.05)
    gate.set()
    a.join(10)
    b.join(10)
    assert out == {"a": 3, "b": 4}
    assert executions(both(cached, plain, org_id)) == 4


def test_an_answer_takes_one_connection_and_a_shared_stamp_none(engine, org_id, backend, monkeypatch):
    """The caller that reads the stamp computes a miss on the same connection; a caller that
    shared another's read takes none for a cached answer."""
    import threading

    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    checkouts: list[int] = []

    def counted(*_args) -> None:
        checkouts.append(1)

    before = stamps_metric(cached)
    sa.event.listen(engine.pool, "checkout", counted)
    try:
        get(cached, org_id, "summary")
        get(cached, org_id, "summary")
        assert len(checkouts) == 2  # a miss, then a hit: one connection each
        # Three answers asked while a stamp is read: the second leads the next read, the
        # third shares it and, the answer being cached, takes no connection.
        entered, gate = hold_the_first_stamp(monkeypatch)
        threads = [threading.Thread(target=lambda: get(cached, org_id, "summary"))]
        threads[0].start()
        assert entered.wait(10)
        threads += [ask_while_a_stamp_is_read(lambda: get(cached, org_id, "summary")) for _ in (1, 2)]
        gate.set()
        for t in threads:
            t.join(10)
        assert len(checkouts) == 2 + 2
    finally:
        sa.event.remove(engine.pool, "checkout", counted)
    # /metrics: four stamps read by their own answer (the two alone, the held one, the second
    # of the three), one shared (the third).
    after = stamps_metric(cached)
    assert (after["own"] - before["own"], after["shared"] - before["shared"]) == (4, 1)


def _fix_sequence(engine):
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('token_usage_logs', 'id'), (SELECT MAX(id) FROM token_usage_logs))"
                )
            )


def test_a_late_row_in_a_gap_range_counts_at_once(engine, org_id, backend):
    """An id the watermark passed while it was missing (a gap range, read live) fills later."""
    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    with engine.connect() as c:
        top = int(c.execute(sa.text("SELECT MAX(id) FROM token_usage_logs")).scalar())
    insert_logs(engine, [{**log(org_id, utc(2026, 5, 5, 9), inp=5, cost=1), "id": top + 3}])
    _fix_sequence(engine)
    rollups.refresh(engine)
    with engine.connect() as c:
        assert any(g[0] <= top + 1 <= g[1] for g in rt.read_state(c).gaps)
    assert executions(both(cached, plain, org_id)) == 4
    assert executions(get(cached, org_id, "summary")) == 4  # cached
    insert_logs(engine, [{**log(org_id, utc(2026, 5, 6, 9), inp=7, cost=2), "id": top + 1}])  # the late row
    assert executions(both(cached, plain, org_id)) == 5


def test_a_tail_longer_than_the_cap_is_not_cached(engine, org_id, backend, monkeypatch):
    """More rows (of any org) past the watermark than the stamp reads: answered, never cached."""

    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    seed(engine, org_id, n=2, day=4)  # two rows past the watermark
    monkeypatch.setattr(freshness, "TAIL_CAP", 2)
    before = counts(cached)
    assert executions(both(cached, plain, org_id)) == 5
    assert executions(both(cached, plain, org_id)) == 5
    assert counts(cached) == before  # no lookup at all
    monkeypatch.setattr(freshness, "TAIL_CAP", 3)
    assert executions(both(cached, plain, org_id)) == 5
    assert executions(get(cached, org_id, "summary")) == 5
    assert counts(cached)["hits"] == before["hits"] + 1


def test_refresh_full_invalidates(engine, org_id, backend):
    """Rows deleted, then `ai-usage refresh --full`: the cached answer goes with the old rollups."""
    cached, plain = apps(engine, backend)
    seed(engine, org_id, n=4)
    rollups.refresh(engine)
    assert executions(both(cached, plain, org_id)) == 4
    with engine.begin() as c:
        c.execute(
            sa.text("DELETE FROM token_usage_logs WHERE id = (SELECT MAX(id) FROM token_usage_logs WHERE org_id = :o)"),
            {"o": org_id},
        )
    rollups.refresh_cli(engine, full=True)
    assert executions(both(cached, plain, org_id)) == 3


def test_an_agent_renamed_is_a_new_answer(engine, org_id, backend):
    cached, plain = apps(engine, backend)
    agent = f"ag-{uuid.uuid4().hex[:8]}"
    insert_agents(engine, [{"id": agent, "org_id": org_id, "name": "Antes", "avatar_url": None}])
    insert_logs(engine, [log(org_id, utc(2026, 5, 2, 10), agent=agent, inp=1, cost=1)])
    rollups.refresh(engine)
    assert b"Antes" in both(cached, plain, org_id, "by-agent")
    with engine.begin() as c:
        c.execute(sa.text("UPDATE agents SET name = 'Después' WHERE id = :a"), {"a": agent})
    assert "Después".encode() in both(cached, plain, org_id, "by-agent")


def test_a_cached_answer_is_compressed_once_per_encoding(engine, org_id, backend, monkeypatch):
    """The compressed bytes of a cached answer are kept per (answer key, algorithm); a new
    row is a new key, so new bytes; other responses are compressed each time."""
    import brotli
    import flask_compress.flask_compress as fc

    compressed: list[str] = []
    real = fc._compress_data
    monkeypatch.setattr(
        fc, "_compress_data", lambda app, data, algo: (compressed.append(algo), real(app, data, algo))[1]
    )
    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    client = cached.server.test_client()

    def ask(encoding: str, params=None):
        headers = {**auth(org_id), "Accept-Encoding": encoding}
        return client.get(f"{BASE}/time-series", query_string=params or WINDOW, headers=headers)

    first, second = ask("gzip, deflate, br"), ask("gzip, deflate, br")
    assert first.headers["Content-Encoding"] == second.headers["Content-Encoding"] == "br"
    assert first.data == second.data and compressed == ["br"]
    assert brotli.decompress(second.data) == get(plain, org_id, "time-series")
    gz = ask("gzip")
    assert gz.headers["Content-Encoding"] == "gzip" and compressed == ["br", "gzip"]
    import gzip

    assert gzip.decompress(gz.data) == brotli.decompress(first.data)
    seed(engine, org_id, n=1, day=3)  # a committed row: a new key, new bytes
    third = ask("gzip, deflate, br")
    assert compressed == ["br", "gzip", "br"]
    assert brotli.decompress(third.data) == get(plain, org_id, "time-series") != brotli.decompress(first.data)
    for _ in range(2):  # a response that is no cached answer is compressed each time
        doc = client.get(f"{BASE}/openapi.json", headers={"Accept-Encoding": "br"})
        assert doc.status_code == 200 and doc.headers["Content-Encoding"] == "br"
    assert compressed == ["br", "gzip", "br", "br", "br"]


def test_orgs_never_share_an_entry(engine, backend):
    cached, plain = apps(engine, backend)
    a, b = f"org-{uuid.uuid4().hex[:10]}", f"org-{uuid.uuid4().hex[:10]}"
    seed(engine, a, n=2)
    seed(engine, b, n=5)
    rollups.refresh(engine)
    assert executions(both(cached, plain, a)) == 2
    assert executions(both(cached, plain, b)) == 5
    assert executions(get(cached, a, "summary")) == 2
    cache = context.cache(cached.server)
    ka, kb = cache.full_key(a, "x").rsplit(":", 1)[0], cache.full_key(b, "x").rsplit(":", 1)[0]
    assert ka != kb and a not in ka  # one namespace per org (the org hashed: no raw text in keys)
    if isinstance(cache.backend, LocalBackend):
        keys = list(cache.backend._data)
        assert sum(k.startswith(ka + ":") for k in keys) == 1 and sum(k.startswith(kb + ":") for k in keys) == 1


def test_a_window_holding_now_is_keyed_by_5_seconds(engine, org_id, backend):
    ticks = iter([NOW, NOW.replace(second=4), NOW.replace(second=5), NOW.replace(second=9)])
    app = make_app(engine, clock=lambda: next(ticks))
    context.attach_cache(app.server, AnswerCache(backend[0], SECRET, backend[1]))
    seed(engine, org_id, n=1, day=20)
    rollups.refresh(engine)
    window = {"from": "2026-05-15", "to": "2026-05-25", "timezone": "UTC"}
    for _ in range(4):
        get(app, org_id, "projection", **window)
    assert counts(app) == {"hits": 2, "misses": 2, "errors": 0}


# ------------------------------------------------------------------ the page and a sick Redis


def test_the_page_sections_use_the_cache(engine, org_id, backend):
    cached, plain = apps(engine, backend)
    seed(engine, org_id)
    rollups.refresh(engine)
    token = mint_token(SECRET, org_id)
    args = ["custom", "2026-05-01", "2026-05-10", "all", "auto", "UTC", token]
    with cached.server.app_context():
        first = callbacks.overview.update(*args)
        second = callbacks.overview.update(*args)
    # two entries: the section's figures and the trend's anomaly markers ("page:anomalies")
    assert counts(cached)["hits"] == 2 and repr(first) == repr(second)
    seed(engine, org_id, n=1, day=3)
    with cached.server.app_context():
        third = callbacks.overview.update(*args)
    with plain.server.app_context():
        fresh = callbacks.overview.update(*args)
    assert repr(third) == repr(fresh) and repr(third) != repr(first)


def test_an_emptied_cached_page_names_its_agent(engine, org_id, backend):
    """The emptied-page banner reads the agents' names under a cache name of its own: once it
    shared the overview's and got its figures back (a 500 with rollups and the cache on)."""
    cached, _plain = apps(engine, backend)
    agent = f"{org_id}-ag"
    insert_agents(engine, [{"id": agent, "org_id": org_id, "name": "<b>Ventas</b>", "avatar_url": None}])
    seed(engine, org_id)
    rollups.refresh(engine)
    args = ["custom", "2026-05-01", "2026-05-10", "all", "auto", "UTC", mint_token(SECRET, org_id), None]
    with cached.server.app_context():
        for _ in range(2):  # computed, then from the cache
            out = callbacks.overview.update(*args, {"agentId": [agent], "userId": ["nadie"]})
            banner = str(out[-4])
            assert "Sin datos para Agente = <b>Ventas</b> y Usuario = nadie en este periodo" in banner, banner


def test_redis_unreachable_answers_uncached(engine, org_id, caplog):
    app = make_app(engine, clock=lambda: NOW)
    context.attach_cache(app.server, AnswerCache(RedisBackend("redis://127.0.0.1:1/0", timeout_s=0.2), SECRET))
    seed(engine, org_id)
    rollups.refresh(engine)
    t0 = time.perf_counter()
    with caplog.at_level(logging.WARNING, "ai_usage.cache"):
        assert executions(get(app, org_id, "summary")) == 3
        assert executions(get(app, org_id, "summary")) == 3
    assert time.perf_counter() - t0 < 5
    assert "answer cache unavailable" in caplog.text and caplog.text.count("answer cache unavailable") == 1
    assert counts(app)["errors"] >= 2


def test_the_page_reads_every_users_totals_once_per_window(engine, org_id, backend, monkeypatch):
    """Usuarios, «Mayores cambios» and the Usuario select each need every user of the window
    (and the first two of the earlier one): one read per window, shared through the cache
    (queries.users.user_totals); a committed row changes all three at once."""
    import callbacks.changes
    import callbacks.slice
    import callbacks.users
    import queries.users

    cached, plain = apps(engine, backend)
    insert_logs(
        engine,
        [
            {**log(org_id, utc(2026, 5, d, 10), inp=100, out=10, cost=0.25 * d), "user_id": f"u{d % 3}"}
            for d in range(1, 11)
        ]
        + [
            {**log(org_id, utc(2026, 4, d, 10), inp=100, out=10, cost=0.5), "user_id": f"u{d % 4}"}
            for d in range(21, 31)
        ],
    )
    rollups.refresh(engine)
    reads = []
    real = queries.users.facts

    def counting(conn, f, dims=(), **kw):
        if tuple(dims) == ("user_id",) and not kw.get("by_qh"):
            reads.append((f.start_date, f.end_date))
        return real(conn, f, dims=dims, **kw)

    monkeypatch.setattr(queries.users, "facts", counting)
    token = mint_token(SECRET, org_id)
    args = ["custom", "2026-05-01", "2026-05-10", "all", "auto", "UTC"]
    view = {"compare": "previous"}

    def page(app):
        with app.server.app_context():
            return (
                callbacks.users.update(*args, "50", token, None, view),
                callbacks.changes.update(*args, token, None, view),
                callbacks.slice.window_users(common_filters(args, token)),
            )

    first = page(cached)
    assert sorted(set(reads)) == sorted(reads) and len(reads) == 2  # the window and its earlier one, once each
    reads.clear()
    assert repr(page(plain)) == repr(first)
    assert len(reads) == 5  # without a cache: ranking ×2, «Mayores cambios» ×2, the select
    # A committed row (no refresh): every section sees it at once, as the uncached app does.
    insert_logs(engine, [{**log(org_id, utc(2026, 5, 9, 11), inp=100, out=10, cost=7.5), "user_id": "u-new"}])
    reads.clear()
    fresh = page(cached)
    assert len(reads) == 2 and repr(fresh) == repr(page(plain)) and repr(fresh) != repr(first)
    assert "u-new" in repr(fresh[0]) and "u-new" in repr(fresh[2])


def test_a_shared_part_keys_itself_by_its_answers_stamp(engine, org_id, backend, monkeypatch):
    """The users' ranking with a comparison shares every user's totals of both windows
    (freshness.shared): those parts are keyed by the stamp its answer read, not read again."""
    import callbacks.users

    cached, plain = apps(engine, backend)
    insert_logs(
        engine, [{**log(org_id, utc(2026, 5, d, 10), inp=100, out=10, cost=0.25), "user_id": f"u{d}"} for d in (2, 3)]
    )
    rollups.refresh(engine)
    stamps = []
    real = freshness.data_stamp
    monkeypatch.setattr(freshness, "data_stamp", lambda conn, org: stamps.append(org) or real(conn, org))
    token = mint_token(SECRET, org_id)
    args = ["custom", "2026-05-01", "2026-05-10", "all", "auto", "UTC"]
    with cached.server.app_context():
        got = callbacks.users.update(*args, "50", token, None, {"compare": "previous"})
    assert stamps == [org_id]  # the answer's own read; its two parts reuse it
    with plain.server.app_context():
        assert repr(callbacks.users.update(*args, "50", token, None, {"compare": "previous"})) == repr(got)


def common_filters(args, token):
    import callbacks.common

    return callbacks.common.resolve(*args, token).filters
