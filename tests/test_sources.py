"""A source is read trimmed and without case: Sistema + BYOK + Otro add up to Todos.

Rows say 'BYOK', ' system ', 'System', '' or 'partner' as well as the platform's two
words. Every figure for each class equals the pandas reference (which normalises on its
own), the three classes sum to Todos to the 1e-8 USD, on SQLite and PostgreSQL, from
the raw rows and from the rollups plus their live tail; the rollup tables key the
class, not the raw text; migration 0003 re-keys rollups written before it.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from support import old_rollups, reference as ref
from support.db import insert_logs, upgrade
from support.figspec import valid
from test_queries import (
    check_cache_savings,
    check_heatmap,
    check_model_efficiency,
    check_projection,
    check_summary,
    check_time_series,
)
from test_rollups import raw_calls

from ingest import refresh as rollups
from queries import base as qbase, parse_filters
from storage import rollup_tables as rt
from storage.engine import make_engine
from storage.measures import MEASURES

UTC = UTC
# Raw text -> the class it must count in.
SOURCES = {
    "system": "system",
    "byok": "byok",
    "BYOK": "byok",
    " system ": "system",
    "System": "system",
    "\tByok\r\n": "byok",
    "SYSTEM\x0b": "system",
    "": "other",
    "  ": "other",
    "partner": "other",
    "s ystem": "other",
    "BYO\u212a": "other",  # the Kelvin sign is no ASCII K: PostgreSQL's lower() folds it
    "'; DROP TABLE x; --": "other",
}
CLASSES = ("system", "byok", "other")
START, END = date(2026, 3, 1), date(2026, 3, 31)
PATHS = qbase.FACTS_PATHS  # "raw", "rollup"


def hostile_rows(org: str, rng: random.Random, n: int, first=START, last=END) -> list[dict]:
    span = int((last - first).days * 86400)
    base = datetime.combine(first, datetime.min.time(), UTC)
    texts = list(SOURCES)
    out = []
    for i in range(n):
        out.append(
            dict(
                org_id=org,
                created_at=base + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6)),
                agent_id=rng.choice([None, f"{org}-a1", f"{org}-a2"]),
                user_id=None,
                action_type=rng.choice(ref.ACTIONS),
                source=texts[i % len(texts)],
                provider="openai",
                model=rng.choice(["gpt-4o", "gpt-4o-mini", "house-7b"]),
                input_tokens=rng.randrange(0, 5000),
                output_tokens=rng.randrange(0, 900),
                cache_read_tokens=rng.choice([0, rng.randrange(0, 3000)]),
                cache_write_tokens=0,
                cost_usd=rng.choice([None, Decimal(rng.randrange(0, 10**8)) / 10**8]),
                latency_ms=rng.choice([None, rng.randrange(1, 9000)]),
            )
        )
    return out


def window(org, tz="UTC", source="all", granularity="day", start=START, end=END):
    return parse_filters(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "timezone": tz,
            "source": source,
            "granularity": granularity,
        },
        org,
    )


@pytest.fixture(scope="module")
def mixed(engine):
    """An org whose rows carry every spelling: two thirds rolled up, the rest in the live tail."""
    rng = random.Random(410)
    org = f"src-{uuid.uuid4().hex[:8]}"
    rows = hostile_rows(org, rng, 390)
    insert_logs(engine, rows[:260])
    rollups.refresh(engine)
    insert_logs(engine, rows[260:])
    with engine.connect() as c:
        loaded = ref.load_rows(c, org)
        overrides = ref.load_overrides(c)
    return SimpleNamespace(engine=engine, org=org, rows=loaded, overrides=overrides, inserted=rows)


def facts(engine, f):
    with engine.connect() as c:
        return qbase.facts(c, f).iloc[0]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("tz", ["UTC", "Asia/Kathmandu"])
def test_system_byok_and_other_add_up_to_todos(mixed, path, tz):
    """Every measure of the three classes sums to Todos exactly (cost in integer 1e-8 USD)."""
    f = window(mixed.org, tz)
    eng = qbase.facts_path(mixed.engine, path)
    with raw_calls() as calls:
        total = facts(eng, f)
        parts = {s: facts(eng, f.with_source(s)) for s in CLASSES}
    assert path == "raw" or calls == []  # the rollup path answered from the rollups
    for m in MEASURES:
        assert sum(int(p[m]) for p in parts.values()) == int(total[m]), m
    for s in CLASSES:  # and each class holds the rows it should, by the table above
        want = [
            r
            for r in mixed.inserted
            if SOURCES[r["source"]] == s
            and ref.window_bounds(ref.Window.of(f))[0] <= r["created_at"] < ref.window_bounds(ref.Window.of(f))[1]
        ]
        assert int(parts[s]["executions"]) == len(want) > 0, s
        assert int(parts[s]["cost_e8"]) == sum(int(r["cost_usd"] * 10**8) for r in want if r["cost_usd"] is not None)


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("source", ["system", "byok"])
def test_each_source_equals_the_reference(mixed, path, source):
    """Summary, cache savings, series, models, heatmap and projection for one source match pandas."""
    data = SimpleNamespace(
        engine=qbase.facts_path(mixed.engine, path), org=mixed.org, rows=mixed.rows, overrides=mixed.overrides
    )
    f = window(mixed.org, "America/New_York", source)
    check_summary(data, f)
    check_cache_savings(data, f)
    check_time_series(data, f)
    check_model_efficiency(data, f)
    check_heatmap(data, f)
    check_projection(data, f)


def test_rollups_key_the_class_not_the_raw_text(mixed):
    with mixed.engine.connect() as c:
        for t in rt.TABLES:
            keys = set(
                c.execute(sa.text(f"SELECT DISTINCT source FROM {t} WHERE org_id = :o"), {"o": mixed.org}).scalars()
            )
            assert keys == set(CLASSES), t


def test_sqlite_range_index_still_serves_a_source_filter(tmp_path, org_id):
    """The class is a filter after the (org_id, created_at) range: the plan still uses the index."""
    from storage.engine import migrate

    eng = make_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    migrate(eng)
    insert_logs(eng, hostile_rows(org_id, random.Random(1), 20))
    seen = []
    sa.event.listen(eng, "before_cursor_execute", lambda conn, cur, stmt, params, *a: seen.append((stmt, params)))
    with eng.connect() as c:
        qbase.raw_facts(c, window(org_id, source="byok"), by_qh=True)
        stmt, params = seen[-1]
        plan = " ".join(str(r[-1]) for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + stmt, params))
    assert "USING INDEX ix_tul_org_created (org_id=? AND created_at>? AND created_at<?)" in plan, plan
    eng.dispose()


def test_api_sources_count_every_spelling(mixed, app):
    """source=all counts every row; system and byok count their spellings; the others only in all."""
    from support.api import BASE, auth, check

    client = app.server.test_client()
    got = {}
    for s in ("all", "system", "byok"):
        r = client.get(
            f"{BASE}/summary",
            query_string={"from": START.isoformat(), "to": END.isoformat(), "source": s},
            headers=auth(mixed.org),
        )
        got[s] = check(r, "summary")["executions"]
    counts = {s: sum(1 for r in mixed.inserted if SOURCES[r["source"]] == s) for s in CLASSES}
    assert got == {"all": len(mixed.inserted), "system": counts["system"], "byok": counts["byok"]}
    assert got["all"] == got["system"] + got["byok"] + counts["other"]


# ------------------------------------------------------------------ migration 0003


def test_migration_rekeys_rollups_written_with_raw_sources(fresh_url):
    """Rollups refreshed before 0003 keyed the raw text ('BYOK', ' system '): 0003 folds them
    into the three classes, summing exactly, and leaves each table as a refresh keyed by the
    class writes it; readers plan again (the version moves)."""
    eng = make_engine(fresh_url)
    upgrade(eng, "0002")
    org = f"mig-{uuid.uuid4().hex[:8]}"
    rows = hostile_rows(org, random.Random(7), 200)
    insert_logs(eng, rows)
    old_rollups.write_rollups(eng, rows)  # the refresh as it was before 0003: keyed by the raw text
    before = old_rollups.read_rollups(eng, org)
    assert before == old_rollups.aggregate(rows)
    assert all({k[3] for k in before[t]} == set(SOURCES) for t in before)
    with eng.connect() as c:
        version = c.execute(sa.text("SELECT version FROM rollup_state")).scalar()
    upgrade(eng, "0003")
    after = old_rollups.read_rollups(eng, org)
    assert after == old_rollups.aggregate(rows, key_source=SOURCES.__getitem__)  # every measure, every key
    assert all({k[3] for k in after[t]} == set(CLASSES) for t in after)
    with eng.connect() as c:
        assert c.execute(sa.text("SELECT version FROM rollup_state")).scalar() > version
    upgrade(eng, "head")  # and the later revisions still apply over it
    eng.dispose()


# ------------------------------------------------------------------ the page: «Otro»


CB_SECRET = "sources-callback-secret-0123456789-abc"


def _advanced(engine, org, source="all"):
    """The Avanzado callback's outputs for the last 30 days, as the page asks for them."""
    import callbacks.advanced
    from app import create_app
    from storage.settings import Settings
    from web.auth import mint_token

    app = create_app(Settings(database_url=str(engine.url), secret=CB_SECRET), engine=engine)
    with app.server.app_context():
        return callbacks.advanced.update("30d", None, None, source, "auto", "UTC", True, mint_token(CB_SECRET, org))


def _recent(org, n, texts=None):
    now = datetime.now(UTC)
    rows = hostile_rows(org, random.Random(n), n, (now - timedelta(days=20)).date(), (now - timedelta(days=2)).date())
    if texts is not None:
        for i, r in enumerate(rows):
            r["source"] = texts[i % len(texts)]
    return rows


@pytest.mark.parametrize("page_source", ["all", "byok"])
def test_the_split_shows_otro_and_adds_up_to_todos(engine, org_id, page_source):
    """Sistema + BYOK + Otro on the donut and in the table sum to the Todos total, to the cent,
    whatever the filter bar's source."""
    rows = _recent(org_id, 120)
    insert_logs(engine, rows)
    heat, split, table, cache, _timeline, _models, stamp = _advanced(engine, org_id, page_source)
    split = valid(split)
    pie = split.data[0]
    assert list(pie.labels) == ["Sistema", "BYOK", "Otro"]
    e8 = {
        s: sum(int(r["cost_usd"] * 10**8) for r in rows if SOURCES[r["source"]] == s and r["cost_usd"] is not None)
        for s in CLASSES
    }
    assert [round(v * 10**8) for v in pie.values] == [e8[s] for s in CLASSES]
    total = sum(e8.values())
    assert f"{total / 10**8:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") in str(
        split.layout.annotations[0].text
    )
    assert len(set(pie.marker.colors)) == 3
    text = str(table)
    assert "Otro" in text and "ni byok" in text
    counts = [sum(1 for r in rows if SOURCES[r["source"]] == s) for s in CLASSES]
    assert all(f"'{n}'" in text for n in counts)


def test_no_otro_without_such_rows(engine, org_id):
    insert_logs(engine, _recent(org_id, 30, ["system", "byok"]))
    _, split, table, *_ = _advanced(engine, org_id)
    assert list(valid(split).data[0].labels) == ["Sistema", "BYOK"] and "Otro" not in str(table)
