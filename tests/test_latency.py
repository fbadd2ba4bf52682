"""Latency percentiles: within 1 % of the exact nearest-rank percentile, on both paths and engines.

Data: per model a latency shape — heavy-tailed (Pareto), bimodal (fast cache hits and
slow calls), constant, latency 0, NULL only, huge values, single rows — spread over
15 months, partly rolled up, partly in the live tail (new rows, late rows with old
created_at). Random windows, zones and sources compare model efficiency's p50/p95/p99
and the agents' p95 with tests/support/reference.py's exact percentiles, and the raw
path with the rollup path (the same sketch: equal to the bit).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st
from support import reference as ref
from support.db import insert_logs

import queries
from ingest import refresh as rollups
from queries import base as qbase, latency, parse_filters
from storage import sketch
from storage.schema import token_usage_logs

ZONES = ["UTC", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham"]
FIRST, LAST = date(2025, 10, 1), date(2026, 12, 31)
NOW = datetime(2026, 9, 17, 13, 37, 11, tzinfo=UTC)


def _latency(rng: random.Random, shape: str) -> int | None:
    if shape == "pareto":  # heavy tail: most calls ~300 ms, a few minutes
        return int(300 * rng.paretovariate(1.2))
    if shape == "bimodal":  # cache hits in ~40 ms, misses in ~4 s
        return int(rng.gauss(40, 5)) if rng.random() < 0.7 else int(rng.gauss(4000, 600))
    if shape == "zero":
        return rng.choice([0, 0, 0, 1, 2, 750])
    if shape == "huge":
        return rng.choice([2**31 - 1, 10**9, 123_456_789, 1])
    if shape == "const":
        return 1234
    return None  # "none": never a latency


SHAPES = {"m-pareto": "pareto", "m-bimodal": "bimodal", "m-zero": "zero", "m-huge": "huge", "m-none": "none"}


def make_rows(rng: random.Random, org: str, n: int, a: date = FIRST, b: date = LAST) -> list[dict]:
    span = int((b - a).total_seconds() if isinstance(a, datetime) else (b - a).days * 86400)
    base = datetime.combine(a, datetime.min.time(), UTC)
    rows = []
    for _ in range(n):
        model = rng.choice(list(SHAPES))
        lat = _latency(rng, SHAPES[model])
        rows.append(
            dict(
                org_id=org,
                created_at=base + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6)),
                agent_id=rng.choice([None, "ag-1", "ag-2"]),
                user_id=None,
                action_type="user_interaction",
                source=rng.choice(["system", "byok", "BYOK", "partner"]),
                provider="p",
                model=model,
                input_tokens=rng.randrange(0, 500),
                output_tokens=rng.randrange(0, 90),
                cache_read_tokens=0,
                cache_write_tokens=0,
                cost_usd=Decimal(rng.randrange(0, 10**6)) / 10**8,
                latency_ms=None if rng.random() < 0.1 else lat,
            )
        )
    return rows


@pytest.fixture(scope="module")
def lat(engine):
    rng = random.Random(1101)
    org = f"lat-{uuid.uuid4().hex[:8]}"
    insert_logs(engine, make_rows(rng, org, 1500))
    insert_logs(engine, make_rows(rng, f"other-{org}", 200))
    rollups.refresh(engine)
    insert_logs(engine, make_rows(rng, org, 300))  # the live tail
    insert_logs(engine, make_rows(rng, org, 60, date(2025, 10, 1), date(2025, 12, 1)))  # late rows
    one = datetime(2026, 5, 5, 10, 0, tzinfo=UTC)  # a lone row on a day of its own
    single = make_rows(rng, org, 1)[0] | {"created_at": one, "model": "m-single", "latency_ms": 777}
    insert_logs(engine, [single])
    with engine.connect() as c:
        rows = ref.load_rows(c, org)
    return SimpleNamespace(engine=engine, org=org, rows=rows)


def _filters(org, start: date, end: date, tz: str, source: str, now=NOW):
    return parse_filters({"from": start.isoformat(), "to": end.isoformat(), "timezone": tz}, org, now=now).with_source(
        source
    )


def _close(got, exact) -> bool:
    if exact is None or pd.isna(exact):
        return got is None or pd.isna(got)
    return got is not None and not pd.isna(got) and abs(float(got) - exact) <= 0.01 * abs(exact)


def check(lat, f) -> None:
    w = ref.Window.of(f)
    want = ref.model_efficiency(lat.rows, w)
    want_agents = ref.by_agent(lat.rows, {}, w)
    answers = {}
    for path in ("raw", "rollup"):
        with qbase.facts_path(lat.engine, path).connect() as c:
            got = queries.model_efficiency(c, f)
            agents = queries.by_agent(c, f)
        answers[path] = (got, agents)
        assert len(got) == len(want)
        if want.empty:
            assert agents.empty
            continue
        exact = want.set_index(["provider", "model"])
        for r in got.to_dict("records"):
            e = exact.loc[(r["provider"], r["model"])]
            for q in (50, 95, 99):
                assert _close(r[f"p{q}_latency_ms"], e[f"p{q}_latency_ms"]), (path, q, r, e)
        exact_agents = {a: p for a, p in zip(want_agents["agent_id"], want_agents["p95_latency_ms"])}
        for a, p in zip(agents["agent_id"], agents["p95_latency_ms"]):
            assert _close(p, exact_agents[a]), (path, a, p)
    # One sketch, two ways to count it: the raw and rollup answers are the same numbers.
    pd.testing.assert_frame_equal(answers["raw"][0], answers["rollup"][0], check_exact=True)
    pd.testing.assert_frame_equal(answers["raw"][1], answers["rollup"][1], check_exact=True)


@st.composite
def windows(draw):
    start = draw(st.dates(FIRST - timedelta(days=3), LAST))
    days = draw(st.one_of(st.integers(1, 3), st.integers(1, 460)))
    return (
        start,
        start + timedelta(days=days - 1),
        draw(st.sampled_from(ZONES)),
        draw(st.sampled_from(["all", "system", "byok", "other"])),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=windows())
def test_percentiles_within_one_percent_of_exact(lat, w):
    check(lat, _filters(lat.org, *w))


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kathmandu"])
def test_whole_range_and_single_row_windows(lat, tz):
    check(lat, _filters(lat.org, FIRST, LAST, tz, "all"))
    f = _filters(lat.org, date(2026, 5, 5), date(2026, 5, 5), "UTC", "all")
    check(lat, f)
    with qbase.facts_path(lat.engine, "rollup").connect() as c:
        got = queries.model_efficiency(c, f).set_index("model")
    assert abs(got.loc["m-single", "p50_latency_ms"] - 777) <= 7.77  # its one latency, within 1 %
    assert pd.isna(got.loc["m-none", "p99_latency_ms"]) if "m-none" in got.index else True


@pytest.mark.parametrize("path", ["raw", "rollup"])
def test_agents_without_latency_read_no_sketch_and_keep_every_other_figure(lat, path, monkeypatch):
    """The API's by-agent answer has no latency: by_agent(latency=False) reads no sketch and
    its rows are by_agent()'s with p95 NaN."""
    import queries.agents as qagents

    f = _filters(lat.org, FIRST, LAST, "Asia/Kathmandu", "all")
    with qbase.facts_path(lat.engine, path).connect() as c:
        full = queries.by_agent(c, f)
        monkeypatch.setattr(qagents, "latency_sketch", lambda *a, **k: pytest.fail("latency sketch read"))
        lean = queries.by_agent(c, f, latency=False)
    assert len(full) > 1 and full["p95_latency_ms"].notna().any()
    assert lean["p95_latency_ms"].isna().all()
    pd.testing.assert_frame_equal(lean.drop(columns="p95_latency_ms"), full.drop(columns="p95_latency_ms"))


def test_every_bucket_answers_within_its_bound(engine):
    """Each latency alone (0, 1, 2 … up to 2^31 − 1): the bucket SQL on this engine and the
    representative give it back within 1 % — the whole error budget of a percentile."""
    values = sorted({0, 1, 2, 3, 49, 50, 51, 99, 100, 101, 2**31 - 1} | {int(1.0201**k) for k in range(0, 1090, 7)})
    values += [v + 1 for v in values[:-1]] + [-1, -7, -1000]
    with engine.connect() as c:
        sel = ", ".join(f"{sketch.bucket_sql(str(v))}" for v in values)
        buckets = c.execute(sa.text(f"SELECT {sel}")).one()
    rep = sketch.representative(np.array(buckets))
    for v, b, r in zip(values, buckets, rep):
        assert abs(r - v) <= sketch.ACCURACY * abs(v) + 1e-9, (v, b, r)
    by_value = [b for _, b in sorted(zip(values, buckets))]
    assert by_value == sorted(by_value)  # the bucket order is the latency order


def test_sketches_hold_every_latency_once_per_grain(lat):
    """After a refresh every grain's blocks count each rolled-up row with a latency exactly once
    (late rows too), and the blocks pack their buckets sorted."""
    rollups.refresh(lat.engine)
    with lat.engine.connect() as c:
        n = c.execute(
            sa.select(sa.func.count(token_usage_logs.c.latency_ms)).where(token_usage_logs.c.org_id == lat.org)
        ).scalar()
        for fam in sketch.FAMILIES:
            rows = c.execute(
                sa.text(f"SELECT grain, t, sketch FROM {fam.table} WHERE org_id = :o"), {"o": lat.org}
            ).all()
            for g in sketch.GRAINS:
                blocks = [sketch.unpack(bytes(r[2])) for r in rows if r[0] == g]
                assert all(r[1] % g == 0 for r in rows if r[0] == g)
                assert all(list(b) == sorted(set(b)) for b, _ in blocks), (fam.name, g)
                assert sum(int(cnt.sum()) for _, cnt in blocks) == n, (fam.name, g)


def test_day_blocks_cover_the_days_once():
    rng = random.Random(5)
    for _ in range(300):
        d0 = rng.randrange(-400, 21000)
        d1 = d0 + rng.randrange(0, 800)
        blocks = latency.day_blocks(d0, d1)
        days = [t // 86400 + i for g, t in blocks for i in range(g // 86400)]
        assert days == list(range(d0, d1))
        assert all(g in sketch.GRAINS and (t // 86400) % (g // 86400) == 0 for g, t in blocks)
        assert len(blocks) <= 2 * len(sketch.GRAINS) + (d1 - d0) // 256 + 1


def test_migration_0004_rebuilds_rollups_with_sketches(fresh_url):
    """A database refreshed before 0004: the upgrade clears the rollups and the watermark
    and adds the empty sketch tables (answers come from the raw rows meanwhile, percentiles
    included), and the next refresh fills every table, sketches too; both paths then agree."""
    from support import old_rollups
    from support.db import upgrade

    from storage import rollup_tables as rt
    from storage.engine import make_engine

    eng = make_engine(fresh_url)
    upgrade(eng, "0003")
    org = f"mig4-{uuid.uuid4().hex[:8]}"
    raw_rows = make_rows(random.Random(4), org, 300)
    insert_logs(eng, raw_rows)
    classes = {"system": "system", "byok": "byok", "BYOK": "byok", "partner": "other"}
    old_rollups.write_rollups(eng, raw_rows, key_source=classes.__getitem__)  # 0003's refresh: by class
    assert old_rollups.read_rollups(eng, org) == old_rollups.aggregate(raw_rows, classes.__getitem__)
    with eng.connect() as c:
        version = c.execute(sa.text("SELECT version FROM rollup_state")).scalar()
        assert c.execute(sa.text("SELECT watermark FROM rollup_state")).scalar() > 0
    upgrade(eng, "0004")
    with eng.connect() as c:
        state = c.execute(sa.text("SELECT watermark, gaps, version FROM rollup_state")).one()
        assert (state[0], state[1]) == (0, "[]") and state[2] > version
        assert all(n == 0 for n in map(len, old_rollups.read_rollups(eng, org).values()))
        at_0004 = [t for t in sketch.TABLES if sa.inspect(c).has_table(t)]  # 0008 adds rollup_combo_lat
        assert at_0004 and all(c.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar() == 0 for t in at_0004)
    upgrade(eng, "head")
    with eng.connect() as c:
        assert rt.read_state(c).watermark == 0
        assert all(c.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar() == 0 for t in rt.TABLES + sketch.TABLES)
        rows = ref.load_rows(c, org)
    latency._SKETCHES.clear()
    data = SimpleNamespace(engine=eng, org=org, rows=rows)
    f = _filters(org, FIRST, LAST, "America/New_York", "all")
    check(data, f)  # before the rebuild: raw answers on both paths
    rollups.refresh(eng)
    with eng.connect() as c:
        assert all(c.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar() > 0 for t in sketch.TABLES)
    check(data, f)
    eng.dispose()


def test_unpack_all_reads_every_block_as_unpack_does():
    """The joined-buffer reader of stored blocks against storage.sketch.unpack, block by
    block: empty blocks, negative and zero buckets, counts past 2^32, bytes and memoryview
    (psycopg2 hands BYTEA out as memoryview)."""
    from queries.latency import _unpack_all

    rng = np.random.default_rng(11)
    blobs: list = []
    for i in range(400):
        m = int(rng.integers(0, 50)) if i % 7 else 0
        b = np.sort(rng.choice(np.arange(-400, 800), size=m, replace=False))
        blob = sketch.pack(b, rng.integers(1, 2**45, size=m))
        blobs.append(memoryview(blob) if i % 2 else blob)
    b, n, m = _unpack_all(blobs)
    want = [sketch.unpack(bytes(x)) for x in blobs]
    assert np.array_equal(b, np.concatenate([w[0] for w in want]))
    assert np.array_equal(n, np.concatenate([w[1] for w in want]))
    assert m.tolist() == [len(w[0]) for w in want]
    assert [len(x) for x in _unpack_all([])] == [0, 0, 0]


@pytest.mark.parametrize(
    ("tz", "start", "end"),
    [
        ("America/New_York", date(2026, 3, 9), date(2026, 3, 19)),  # starts 04:00 UTC: 20 h borrowed day
        ("Asia/Kathmandu", date(2026, 3, 10), date(2026, 3, 20)),  # ends 18:15 UTC: 18¼ h borrowed day
        ("America/St_Johns", date(2026, 3, 9), date(2026, 3, 20)),  # −2:30: starts 02:30 UTC, 21½ h borrowed
    ],
)
def test_long_edges_read_their_day_block_minus_the_rest(engine, tz, start, end, monkeypatch):
    """An edge of more than half a UTC day is read as that day's sketch block minus the
    rolled-up rows of the day outside the window, counted negative. Dense rows on both
    edge days, inside and outside the window, rolled up and late (ids past the watermark
    with old created_at): the counts per key and bucket equal the raw rows' to the unit."""
    rng = random.Random(4242)
    org = f"edge-{uuid.uuid4().hex[:8]}"
    days = [datetime(2026, 3, d, tzinfo=UTC) for d in (8, 9, 10, 19, 20, 21)]

    def rows(n: int) -> list[dict]:
        out = make_rows(rng, org, n)
        for r in out:
            r["created_at"] = rng.choice(days) + timedelta(seconds=rng.randrange(86400))
        return out

    insert_logs(engine, rows(600))
    rollups.refresh(engine)
    insert_logs(engine, rows(150))  # late rows on the same days: the live tail
    f = _filters(org, start, end, tz, "all")
    seen: list[str] = []
    real = sa.Connection.execute

    def spy(self, stmt, *a, **k):
        seen.append(str(stmt))
        return real(self, stmt, *a, **k)

    for dims in (("provider", "model"), ("agent_id",)):
        with qbase.facts_path(engine, "raw").connect() as c:
            want = latency.latency_sketch(c, f, dims)
        monkeypatch.setattr(sa.Connection, "execute", spy)
        with qbase.facts_path(engine, "rollup").connect() as c:
            got = latency.latency_sketch(c, f, dims)
        monkeypatch.setattr(sa.Connection, "execute", real)
        key = [*dims, "b"]
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True), check_exact=True
        )
        assert (got["n"] > 0).all() and got["n"].sum() > 100
    assert any("-COUNT(*)" in s for s in seen), "the long edge was read from raw rows"
