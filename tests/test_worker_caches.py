"""What a served worker keeps between requests stays small (issue 12: ≤ 300 MB per worker).

The rollup reader's plan cache keys bucket cuts by digest (queries.rollup_read.CutKey): a
cached plan keeps 16 bytes of its cuts, not the cuts (a year of daily cuts is ~3 KB, 91
days of hours ~17 KB), and still answers every later question with the same cuts, and only
those. An engine keeps at most storage.engine.QUERY_CACHE_SIZE compiled statements (and
SQLAlchemy's half again before it prunes), not its default 500."""

from __future__ import annotations

import sys

import numpy as np
import sqlalchemy as sa

from queries import buckets as qbuckets, parse_filters, rollup_read as qr
from storage import engine as storage_engine, rollup_tables as rt

QH = 900


def _question(tz: str, granularity: str, start: str = "2025-12-01"):
    f = parse_filters({"from": start, "to": "2026-11-30", "timezone": tz, "granularity": granularity}, "o")
    A, B = -(-int(f.start_utc.timestamp()) // QH), int(f.read_end_utc.timestamp()) // QH
    return A, B, np.asarray(qbuckets.bucket_cuts(f), dtype="int64").tobytes()


def test_a_cached_plan_keeps_a_digest_of_its_cuts_not_the_cuts():
    qr._planned.cache_clear()
    A, B, cuts = _question("Asia/Kathmandu", "hour", start="2026-09-01")
    assert len(cuts) > 17_000  # 91 days of hours
    planned = qr._plan("Asia/Kathmandu", A, B, cuts, True, 0, rt.GRAINS)
    assert qr._planned.cache_info().currsize == 1
    # What the cache holds of the question: the key's digest; the cuts were let go.
    held = [k for k in _cache_keys() if isinstance(k, qr.CutKey)]
    assert len(held) == 1 and held[0].data is None and len(held[0].digest) == 16
    assert sys.getsizeof(held[0]) < 100
    # The same cuts again (another bytes object): the cached plan, the same as planned anew.
    again = qr._plan("Asia/Kathmandu", A, B, bytes(bytearray(cuts)), True, 0, rt.GRAINS)
    assert again is planned and qr._planned.cache_info().hits == 1
    qr._planned.cache_clear()
    assert qr._plan("Asia/Kathmandu", A, B, cuts, True, 0, rt.GRAINS) == planned


def test_other_cuts_of_the_same_window_get_their_own_plan():
    qr._planned.cache_clear()
    A, B, daily = _question("America/New_York", "day")
    A2, B2, weekly = _question("America/New_York", "week")
    assert (A, B) == (A2, B2) and daily != weekly
    by_day = qr._plan("America/New_York", A, B, daily, True, 0, rt.GRAINS)
    by_week = qr._plan("America/New_York", A, B, weekly, True, 0, rt.GRAINS)
    assert by_day != by_week and qr._planned.cache_info().misses == 2
    assert qr._plan("America/New_York", A, B, None, False, 0, rt.GRAINS) not in (by_day, by_week)


def test_keys_are_equal_by_their_cuts_only():
    a, b, c = qr.CutKey(b"\x00" * 16), qr.CutKey(bytes(16)), qr.CutKey(b"\x01" + bytes(15))
    assert a == b and hash(a) == hash(b) and a != c and a != b"\x00" * 16


def _cache_keys() -> list:
    """The arguments the plan cache holds (functools' C cache: walked through the GC's referents)."""
    import gc

    out = []
    for obj in gc.get_referents(qr._planned):
        if isinstance(obj, dict):
            for key in obj:
                out.extend(key if isinstance(key, tuple) else ())
    return out


def test_an_engine_keeps_few_compiled_statements(tmp_path):
    engine = storage_engine.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            for i in range(400):  # as many distinct text() statements as plans of distinct questions
                conn.execute(sa.text(f"SELECT {i} + :x"), {"x": 1})
        kept = len(engine._compiled_cache)
        assert 0 < kept <= storage_engine.QUERY_CACHE_SIZE * 3 // 2 < 400
    finally:
        engine.dispose()
