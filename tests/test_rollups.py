"""Rollups + live tail answer exactly what the raw table answers, on SQLite and PostgreSQL.

Every figure is computed twice — facts from the raw rows (raw_facts) and from the
rollups plus the tail (rollup_facts) — over random windows, zones (+5:45, +5:30, DST
days, 30-minute DST), sources and granularities, with rows added before and after a
refresh, late rows (old created_at, new ids), gaps in the ids, an out-of-order commit
on PostgreSQL and two processes refreshing at once.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st
from support.db import insert_logs
from support.plans import segment_of, segment_starts

import queries
from ingest import refresh as rollups, rollup_write as rw
from queries import base as qbase, buckets as qbuckets, parse_filters, rollup_plan as qp, rollup_read as qr
from storage import rollup_tables as rt
from storage.engine import make_engine
from storage.schema import metadata, token_usage_logs
from storage.settings import Settings

UTC = UTC
ZONES = [
    "UTC",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
]
FIRST, LAST = date(2025, 10, 1), date(2026, 12, 31)
DST_DAYS = [date(2026, 3, 8), date(2026, 11, 1), date(2026, 4, 5), date(2026, 10, 4), date(2026, 9, 6)]


@pytest.fixture(scope="module")
def engine(own_engine):
    """A database of this module's own: its refreshes (in small batches, a full rebuild)
    read the whole table, which in the session's database holds every other module's rows."""
    return own_engine


# ------------------------------------------------------------------ helpers


def rollup(engine):
    """engine answering facts() from the rollups (plus the live tail)."""
    return qbase.facts_path(engine, "rollup")


def raw(engine):
    """engine answering facts() from the raw rows."""
    return qbase.facts_path(engine, "raw")


@contextmanager
def raw_calls():
    """Count the rollup path's falls back to the raw table while the block runs."""
    calls = []

    def spy(*a, **k):
        calls.append(1)
        return qbase.raw_facts(*a, **k)

    orig, qr.raw_facts = qr.raw_facts, spy
    try:
        yield calls
    finally:
        qr.raw_facts = orig


def answers(engine, f) -> list:
    fs = f.with_source("system") if f.source == "all" else f
    with engine.connect() as c:
        p = queries.projection(c, f)
        return [
            queries.summary(c, f),
            queries.cache_savings(c, fs),
            queries.time_series(c, f),
            queries.time_series(c, f, by_action=True),
            queries.model_efficiency(c, f),
            queries.by_agent(c, f),
            queries.heatmap(c, f),
            p.daily,
            p.forecast,
            (
                p.status,
                p.daily_points,
                p.as_of,
                p.month_start,
                p.month_to_date_usd,
                p.projected_total_usd,
                p.lower80,
                p.upper80,
            ),
        ]


def assert_same(engine, f) -> None:
    want = answers(raw(engine), f)
    got = answers(rollup(engine), f)
    for i, (a, b) in enumerate(zip(want, got)):
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=f"answer {i} for {f}")
        else:
            assert a == b, (i, f)


# The request clock: inside the data, off every quarter-hour, so that windows reaching past
# it leave buckets out, mark the one in progress, and the projection reads "today so far"
# (an unaligned edge for the rollups).
NOW = datetime(2026, 9, 17, 13, 37, 11, 500000, tzinfo=UTC)


def filters(org, start: date, end: date, tz="UTC", source="all", granularity="auto", now=NOW):
    """source may also be 'other' (the page's «Otro»; no API value)."""
    return parse_filters(
        {"from": start.isoformat(), "to": end.isoformat(), "timezone": tz, "granularity": granularity}, org, now=now
    ).with_source(source)


def make_rows(rng: random.Random, org: str, instants) -> list[dict]:
    rows = []
    for ts in instants:
        rows.append(
            dict(
                org_id=org,
                created_at=ts,
                agent_id=rng.choice([None, "ag-1", "ag-2", "ag-3"]),
                user_id=rng.choice([None, "u1"]),
                action_type=rng.choice(
                    [
                        "user_interaction",
                        "guardrail_check",
                        "title_generation",
                        "rag_query_embedding",
                        "document_indexing",
                    ]
                ),
                # The platform's two words, and spellings that count as them or as "other".
                source=rng.choice(["system", "system", "byok", "BYOK", " system ", "", "partner"]),
                provider="openai",
                model=rng.choice(["gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "house-7b"]),
                input_tokens=rng.randrange(0, 5000),
                output_tokens=rng.randrange(0, 900),
                cache_read_tokens=rng.choice([0, rng.randrange(0, 3000)]),
                cache_write_tokens=rng.randrange(0, 50),
                cost_usd=rng.choice([None, Decimal(rng.randrange(0, 10**8)) / 10**8]),
                latency_ms=rng.choice([None, rng.randrange(1, 9000)]),
            )
        )
    return rows


def edge_instants(d: date) -> list[datetime]:
    """A row at, and 1 µs before, the local midnight of d in every zone (window edges)."""
    out = []
    for tz in ZONES:
        m = queries.filters.local_midnight(d, ZoneInfo(tz))
        out += [m, m - timedelta(microseconds=1)]
    return out


def spread(rng, n: int, a: date = FIRST, b: date = LAST) -> list[datetime]:
    span = int((datetime.combine(b, datetime.min.time()) - datetime.combine(a, datetime.min.time())).total_seconds())
    base = datetime.combine(a, datetime.min.time(), UTC)
    return [base + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6)) for _ in range(n)]


def org_rollup_rows(engine, org: str) -> dict:
    out = {}
    with engine.connect() as c:
        for t in rt.TABLES:
            rows = c.execute(sa.text(f"SELECT * FROM {t} WHERE org_id = :o"), {"o": org}).all()
            out[t] = sorted(tuple(r) for r in rows)
    return out


def fix_sequence(engine) -> None:
    """After explicit ids on PostgreSQL, move the id sequence past them."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('token_usage_logs', 'id'),"
                    " (SELECT MAX(id) FROM token_usage_logs))"
                )
            )


def max_id(engine) -> int:
    with engine.connect() as c:
        return rw.max_id(c)


# ------------------------------------------------------------------ the plan (pure)


@st.composite
def plans(draw):
    A = draw(st.integers(0, 3000))
    B = A + draw(st.integers(1, 3000))
    by_qh = draw(st.booleans())
    cuts = None
    if by_qh and draw(st.booleans()):
        step = draw(st.sampled_from([1, 4, 96, 672, 92, 100, 97, 95]))
        phase = draw(st.integers(0, 200))
        cuts = list(range(A - 200 + phase, B + 1, step))
        cuts += draw(st.lists(st.integers(A - 5, B + 5), max_size=8))
    return A, B, cuts, by_qh


@settings(max_examples=300, deadline=None)
@given(plans())
def test_plan_partitions_every_quarter_hour(p):
    """Every quarter-hour of [A, B) is read exactly once, keyed by the start of its segment."""
    A, B, cuts, by_qh = p
    ranges = qp.plan_ranges(A, B, np.array(cuts) if cuts is not None else None, by_qh)
    key = {}
    for r in ranges:
        g, lo, ph = r[0], r[1], r[3]
        assert lo % g == 0 and ph <= lo
        for t, k, _sign in qp.blocks_of(r):  # the blocks SQL reads: those that fit their segment
            for q in range(t // 900, (t + g) // 900):
                assert q not in key, f"quarter-hour {q} read twice"
                key[q] = k // 900
    assert sorted(key) == list(range(A, B))
    starts = segment_starts(A, B, cuts)
    for q, k in key.items():
        if not by_qh:
            continue
        want = q if cuts is None else segment_of(starts, q)
        assert k == want, (q, k, want)


@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe", "UTC"])
def test_plan_is_small_for_long_windows(tz):
    """A year needs at most a few read ranges per bucket — hourly buckets and the
    heatmap's clock hours a handful in all (adjacent ranges merge)."""
    for gran, end in (("week", "2026-12-31"), ("day", "2026-12-31"), ("month", "2026-12-31"), ("hour", "2026-03-31")):
        f = parse_filters({"from": "2026-01-01", "to": end, "timezone": tz, "granularity": gran}, "x")
        A, B = int(f.start_utc.timestamp()) // 900, int(f.end_utc.timestamp()) // 900
        n = len(qp.plan_ranges(A, B, qp.cuts_from_boundaries(qbuckets.bucket_cuts(f)), True))
        assert n <= (10 if gran == "hour" else 5 * len(qbuckets.window_buckets(f)) + 10), (gran, n)
        n = len(qp.plan_ranges(A, B, qp.cuts_from_boundaries(qbuckets.bucket_cuts(f, "clock_hour")), True))
        assert n <= 10, ("heatmap", n)


# ------------------------------------------------------------------ equal to raw


@pytest.fixture(scope="module")
def data(engine):
    """One org with rows rolled up, then more rows (late ones included) left in the tail."""
    rng = random.Random(20260308)
    org, other = f"roll-{uuid.uuid4().hex[:8]}", f"roth-{uuid.uuid4().hex[:8]}"
    instants = spread(rng, 1400)
    for d in DST_DAYS:  # dense around the DST changes: both 01:xx hours, half-hour shifts
        t0 = datetime.combine(d, datetime.min.time(), UTC) - timedelta(hours=16)
        instants += [t0 + timedelta(minutes=17 * i, seconds=rng.randrange(60)) for i in range(170)]
    for d in (date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 15), date(2026, 11, 2), date(2026, 12, 31)):
        instants += edge_instants(d)
    rng.shuffle(instants)
    first, second = instants[: len(instants) * 2 // 3], instants[len(instants) * 2 // 3 :]
    insert_logs(engine, make_rows(rng, other, spread(rng, 300)))
    insert_logs(engine, make_rows(rng, org, first))
    rollups.refresh(engine)
    insert_logs(engine, make_rows(rng, org, second))  # the tail: past the watermark
    late = spread(rng, 60, date(2025, 10, 1), date(2026, 2, 1))
    insert_logs(engine, make_rows(rng, org, late))  # old created_at, new ids
    insert_logs(engine, make_rows(rng, other, spread(rng, 100)))
    return SimpleNamespace(engine=engine, org=org, other=other, rng=rng)


@st.composite
def windows(draw):
    start = draw(
        st.one_of(
            st.sampled_from(DST_DAYS + [FIRST, date(2026, 1, 1), date(2026, 6, 15)]),
            st.dates(FIRST - timedelta(days=3), LAST),
        )
    )
    days = draw(st.one_of(st.integers(1, 9), st.integers(1, 400)))
    end = start + timedelta(days=days - 1)
    tz = draw(st.sampled_from(ZONES))
    gran = draw(st.sampled_from(["auto", "hour", "day", "week", "month"]))
    if gran == "hour" and days > 92:
        gran = "day"
    # The clock: anywhere from a day before the window to a day after it (or the default).
    clock = draw(st.one_of(st.none(), st.integers(-96, (days + 1) * 96)))
    now = (
        NOW
        if clock is None
        else datetime.combine(start, datetime.min.time(), UTC)
        + timedelta(minutes=15 * clock, seconds=draw(st.integers(0, 899)))
    )
    return start, end, tz, draw(st.sampled_from(["all", "system", "byok", "other"])), gran, now


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=windows())
def test_random_windows_equal_raw(data, w):
    start, end, tz, source, gran, now = w
    assert_same(data.engine, filters(data.org, start, end, tz, source, gran, now))


@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("gran", ["hour", "day", "week", "month"])
def test_dst_and_offset_zones_equal_raw(data, tz, gran):
    start, end = (date(2026, 3, 5), date(2026, 3, 11)) if gran == "hour" else (date(2025, 12, 20), date(2026, 11, 5))
    assert_same(data.engine, filters(data.org, start, end, tz, "all", gran))


def test_rollups_are_used_and_tail_counts_at_once(data):
    """The answer comes from the rollups (no raw fallback), and a new row counts before any refresh."""
    f = filters(data.org, date(2025, 10, 1), date(2026, 12, 31), "Asia/Kathmandu")
    with data.engine.connect() as c:
        assert rt.read_state(c).watermark > 0
    before = answers(rollup(data.engine), f)[0].iloc[0]
    insert_logs(data.engine, make_rows(data.rng, data.org, [datetime(2026, 5, 5, 5, 5, tzinfo=UTC)]))
    after = answers(rollup(data.engine), f)[0].iloc[0]
    assert after["executions"] == before["executions"] + 1
    with raw_calls() as calls:
        answers(rollup(data.engine), f)
    assert calls == []


def test_first_refresh_is_noticed(tmp_path, org_id):
    """Answers before the first refresh come from the raw table; right after it, from the rollups."""
    from storage.engine import migrate

    eng = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    migrate(eng)
    rng = random.Random(21)
    insert_logs(eng, make_rows(rng, org_id, spread(rng, 10, date(2026, 2, 1), date(2026, 2, 5))))
    f = filters(org_id, date(2026, 2, 1), date(2026, 2, 28), "Asia/Kolkata")
    with raw_calls() as calls:
        answers(rollup(eng), f)
        assert calls  # watermark 0: nothing rolled up yet
        rollups.refresh(eng)
        calls.clear()
        assert answers(rollup(eng), f)[0].iloc[0]["executions"] == 10
        assert calls == []
    eng.dispose()


def test_late_rows_then_refresh_then_full_rebuild(data):
    """Late rows count from the tail, then from the rollups; --full leaves identical tables."""
    e, org = data.engine, data.org
    f = filters(org, date(2025, 11, 1), date(2026, 2, 28), "America/New_York", granularity="day")
    insert_logs(e, make_rows(data.rng, org, spread(data.rng, 40, date(2025, 11, 1), date(2026, 1, 1))))
    assert_same(e, f)
    # Several transactions (~1,000 tail rows in batches of 300): each batch re-reads the sketch
    # blocks it touches, so 97-row batches (13 of them) cost four times as much for the same path.
    r = rollups.refresh(e, batch_rows=300)
    assert r.batches > 2 and r.watermark == max_id(e)
    assert_same(e, f)
    incremental = org_rollup_rows(e, org)
    # As the server's leader and `ai-usage refresh` run it: one statement over the whole table,
    # without the readers' statement time limit (on a loaded machine it can take over 10 s).
    full = rollups.refresh(rollups.leader_engine(e), full=True)
    assert full.batches == 1 and full.watermark == max_id(e)
    assert org_rollup_rows(e, org) == incremental
    assert_same(e, f)
    assert_same(e, filters(org, FIRST, LAST, "Asia/Kathmandu", "byok"))


def test_rollup_sums_equal_raw_sums(data):
    """Below the watermark, every grain of every table (and total's folds) sums to the raw table;
    the week and 8-day blocks, to its rows in the blocks that ended by the seal (none later)."""
    e, org = data.engine, data.org
    rollups.refresh(e)
    with e.connect() as c:
        rows = pd.DataFrame(
            c.execute(
                sa.text("SELECT created_at, input_tokens FROM token_usage_logs WHERE org_id = :o"), {"o": org}
            ).all(),
            columns=["at", "input"],
        )
        at = pd.to_datetime(rows["at"], utc=True, format="ISO8601")
        sealed = rt.read_state(c).sealed
        assert sealed == rt.sealed_at(time.time())
        for fam in rt.FAMILIES:
            assert fam.grains in (rt.GRAINS, rt.WIDE_GRAINS, rt.USER_GRAINS)
            for g in fam.grains + ((rt.FOLD_GRAIN,) if fam.folded else ()):
                # A sealed grain's blocks end at its last boundary at or before the seal (a week's: a Monday).
                cut = rt.block_start(sealed, g) if g in rt.SEALED_GRAINS else None
                held = rows[at < pd.Timestamp(cut, unit="s", tz="UTC")] if cut is not None else rows
                raw = (len(held), int(held["input"].fillna(0).clip(lower=0).sum()))
                got = c.execute(
                    sa.text(
                        f"SELECT SUM(executions), SUM(input_tokens) FROM {fam.table} WHERE org_id = :o AND grain = :g"
                    ),
                    {"o": org, "g": g},
                ).one()
                assert tuple(int(v or 0) for v in got) == raw, (fam.table, g)
                if g in rt.SEALED_GRAINS:  # no row of a block that has not ended by the seal
                    assert not c.execute(
                        sa.text(f"SELECT COUNT(*) FROM {fam.table} WHERE grain = :g AND t + :g > :s"),
                        {"g": g, "s": sealed},
                    ).scalar()


# ------------------------------------------------------------------ gaps and out-of-order commits


def test_gap_filled_later_counts_once(engine, org_id):
    """An id skipped when the watermark moved, inserted afterwards, counts at once and once."""
    rng = random.Random(5)
    f = filters(org_id, date(2026, 4, 1), date(2026, 4, 30), "Asia/Kolkata")
    insert_logs(engine, make_rows(rng, org_id, spread(rng, 5, date(2026, 4, 2), date(2026, 4, 20))))
    top = max_id(engine)
    hole = top + 1
    late = make_rows(rng, org_id, spread(rng, 1, date(2026, 4, 3), date(2026, 4, 4)))[0]
    after = make_rows(rng, org_id, spread(rng, 1, date(2026, 4, 5), date(2026, 4, 6)))[0]
    insert_logs(engine, [{**after, "id": top + 3}])  # ids top+1, top+2 are missing
    fix_sequence(engine)
    r = rollups.refresh(engine)
    with engine.connect() as c:
        st_ = rt.read_state(c)
    assert st_.watermark >= top + 3 and any(g[0] <= hole <= g[1] for g in st_.gaps)
    insert_logs(engine, [{**late, "id": hole}])  # fills the gap below the watermark
    n = answers(rollup(engine), f)[0].iloc[0]["executions"]
    assert n == 7
    assert_same(engine, f)
    rollups.refresh(engine)
    with engine.connect() as c:
        st_ = rt.read_state(c)
    assert not any(g[0] <= hole <= g[1] for g in st_.gaps)
    assert any(g[0] <= hole + 1 <= g[1] for g in st_.gaps)  # top+2 is still missing
    assert_same(engine, f)
    assert answers(rollup(engine), f)[0].iloc[0]["executions"] == 7
    with engine.connect() as c:
        gap = next(g for g in rt.read_state(c).gaps if g[0] <= hole + 1 <= g[1])
        # PostgreSQL forgets a gap only once every transaction running when it was seen
        # has ended (xmin past the recorded xmax); other sessions on the server may hold one.
        settled = gap[3] is None or rollups._pg_snapshot(c)[0] >= gap[3]
    rollups.refresh(engine, grace=0)
    with engine.connect() as c:
        if settled:
            assert not any(g[0] <= hole + 1 <= g[1] for g in rt.read_state(c).gaps)
    assert r.rows >= 6


def test_many_holes_are_capped(engine, org_id):
    """Hundreds of never-used ids do not all become ranges read live; answers stay exact."""
    rng = random.Random(7)
    top = max_id(engine)
    rows = make_rows(rng, org_id, spread(rng, rollups.MAX_GAPS + 50, date(2026, 9, 1), date(2026, 9, 20)))
    insert_logs(engine, [{**r, "id": top + 2 * (i + 1)} for i, r in enumerate(rows)])  # every other id
    fix_sequence(engine)
    rollups.refresh(engine)
    with engine.connect() as c:
        gaps = rt.read_state(c).gaps
    assert len(gaps) <= rollups.MAX_GAPS and any(g[0] == top + 2 * len(rows) - 1 for g in gaps)
    assert_same(engine, filters(org_id, date(2026, 9, 1), date(2026, 9, 30), "Asia/Kathmandu"))
    rollups.refresh(engine, grace=0)  # let them go: later tests read fewer ranges


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_out_of_order_commit_counts_once(engine, org_id):
    """PostgreSQL: id N commits after N+1 was rolled up; it still counts, exactly once.
    (SQLite serialises writers: its ids commit in order.)"""
    rng = random.Random(9)
    f = filters(org_id, date(2026, 7, 1), date(2026, 7, 31), "Asia/Kathmandu", granularity="day")
    first, second = make_rows(rng, org_id, spread(rng, 2, date(2026, 7, 3), date(2026, 7, 28)))
    slow = engine.connect()
    tx = slow.begin()
    n = slow.execute(token_usage_logs.insert().values(**first).returning(token_usage_logs.c.id)).scalar_one()
    with engine.begin() as c:  # N+1 commits first
        m = c.execute(token_usage_logs.insert().values(**second).returning(token_usage_logs.c.id)).scalar_one()
    assert m > n
    r = rollups.refresh(engine)
    assert r.watermark >= m
    assert answers(rollup(engine), f)[0].iloc[0]["executions"] == 1
    tx.commit()  # N commits after the watermark passed it
    slow.close()
    assert answers(rollup(engine), f)[0].iloc[0]["executions"] == 2
    assert_same(engine, f)
    rollups.refresh(engine)
    with engine.connect() as c:
        assert not any(g[0] <= n <= g[1] for g in rt.read_state(c).gaps)
    assert answers(rollup(engine), f)[0].iloc[0]["executions"] == 2
    assert_same(engine, f)


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_open_transaction_keeps_its_gap(engine, org_id):
    """PostgreSQL: a gap is not forgotten while a transaction that may fill it is still open."""
    rng = random.Random(11)
    a, b = make_rows(rng, org_id, spread(rng, 2, date(2026, 8, 1), date(2026, 8, 2)))
    slow = engine.connect()
    tx = slow.begin()
    n = slow.execute(token_usage_logs.insert().values(**a).returning(token_usage_logs.c.id)).scalar_one()
    insert_logs(engine, [b])
    rollups.refresh(engine, grace=0)
    rollups.refresh(engine, grace=0)  # older than the grace, but its writer is still running
    with engine.connect() as c:
        assert any(g[0] <= n <= g[1] for g in rt.read_state(c).gaps)
    tx.commit()
    slow.close()
    rollups.refresh(engine, grace=0)
    f = filters(org_id, date(2026, 8, 1), date(2026, 8, 2))
    assert answers(rollup(engine), f)[0].iloc[0]["executions"] == 2
    assert_same(engine, f)


# ------------------------------------------------------------------ concurrency


def _refresh_worker(url: str, barrier, out) -> None:
    eng = make_engine(url, statement_timeout_ms=0)
    barrier.wait()
    total = 0
    for _ in range(3):
        total += rollups.refresh(eng, batch_rows=40).rows
    out.put(total)
    eng.dispose()


def test_concurrent_refresh_processes_do_not_double_count(engine, org_id):
    rng = random.Random(13)
    rollups.refresh(engine)
    insert_logs(engine, make_rows(rng, org_id, spread(rng, 400, date(2026, 2, 1), date(2026, 5, 1))))
    url = engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_refresh_worker, args=(url, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    done = [out.get(timeout=5) for _ in procs]
    assert sum(done) >= 400  # between them they rolled everything up (others' rows too)
    with engine.connect() as c:
        assert rt.read_state(c).watermark == max_id(engine)
        for t in rt.TABLES:
            got = c.execute(
                sa.text(f"SELECT SUM(executions) FROM {t} WHERE org_id = :o AND grain = 86400"), {"o": org_id}
            ).scalar()
            assert int(got) == 400, t
    assert_same(engine, filters(org_id, date(2026, 2, 1), date(2026, 5, 1), "Asia/Kathmandu"))


# ------------------------------------------------------------------ server, CLI, fallbacks


def test_background_thread_catches_up(engine, org_id):
    rng = random.Random(17)
    insert_logs(engine, make_rows(rng, org_id, spread(rng, 30, date(2026, 1, 1), date(2026, 1, 9))))
    top = max_id(engine)
    r = rollups.start_background(engine, interval=0.05)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as c:
                if rt.read_state(c).watermark >= top:
                    break
            time.sleep(0.05)
        with engine.connect() as c:
            assert rt.read_state(c).watermark >= top
    finally:
        r.stop()
    assert not r.is_alive()


def test_start_starts_the_thread_when_rollups_and_an_interval_are_on(engine):
    import flask

    server = flask.Flask("t")
    assert rollups.start(server, Settings(use_rollups=False, refresh_seconds=30), engine) is None
    assert rollups.start(server, Settings(use_rollups=True, refresh_seconds=0), engine) is None
    assert "ai_usage_rollups" not in server.extensions
    r = rollups.start(server, Settings(use_rollups=True, refresh_seconds=30), engine)
    try:
        assert r is not None and r.daemon and server.extensions["ai_usage_rollups"] is r
    finally:
        r.stop()


def test_two_apps_answer_from_their_own_path(data, monkeypatch):
    """AI_USAGE_ROLLUPS 1 and 0 in one process: each app answers from its own path, whichever
    was built last; building them starts no thread (that is the server's start-up)."""
    from support.api import BASE, auth, make_app

    before = set(threading.enumerate())
    on = make_app(data.engine, use_rollups=True, refresh_seconds=30, cache_url="none")  # watch its SQL: no answer cache
    off = make_app(data.engine, use_rollups=False, refresh_seconds=30)
    assert set(threading.enumerate()) <= before and "ai_usage_rollups" not in on.server.extensions
    paths = []
    raw_facts, read_state = qbase.raw_facts, qr.read_state
    monkeypatch.setattr(qbase, "raw_facts", lambda *a, **k: paths.append("raw") or raw_facts(*a, **k))
    monkeypatch.setattr(qr, "read_state", lambda *a, **k: paths.append("rollup") or read_state(*a, **k))
    url = f"{BASE}/summary?from=2025-10-01&to=2026-12-31&timezone=Asia/Kathmandu"
    bodies = {}
    for name, app in (("on", on), ("off", off), ("on again", on)):
        qr._STATE.clear()  # rollup_facts reads the state once per database: make it read it here
        paths.clear()
        resp = app.server.test_client().get(url, headers=auth(data.org))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        bodies[name] = resp.get_json()
        assert set(paths) == ({"raw"} if name == "off" else {"rollup"}), (name, paths)
    assert bodies["on"] == bodies["off"] == bodies["on again"]  # the same numbers, from two paths


def test_refresh_cli(engine, capsys):
    assert rollups.refresh_cli(engine) == 0
    assert "Rollups up to date" in capsys.readouterr().out


def test_database_without_rollup_tables_answers_from_raw(tmp_path, org_id):
    eng = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    metadata.create_all(eng)  # the platform's tables only, no migration 0002
    rng = random.Random(3)
    insert_logs(eng, make_rows(rng, org_id, spread(rng, 20, date(2026, 1, 1), date(2026, 1, 20))))
    f = filters(org_id, date(2026, 1, 1), date(2026, 1, 31), "Asia/Kathmandu")
    assert_same(eng, f)
    assert answers(rollup(eng), f)[0].iloc[0]["executions"] == 20
    eng.dispose()
