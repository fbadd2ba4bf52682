"""Rows with very long names: the platform's INSERT succeeds, the refresh goes on, every figure is exact.

PostgreSQL refuses an index entry over 2,704 bytes. Before migration 0013 our covering user
index held every text column of every row, so a row whose names passed that in text that
does not compress was refused at the platform's own INSERT (here: `insert_logs` raised),
and its names could not have fitted a rollup key either. Now a row whose text columns pass
2,000 bytes together is long (storage/long_rows.py): no index or rollup of ours holds it,
and every answer reads it live from ix_tul_long. SQLite has no limit; the rule is the same.

Checked against the pandas reference on both engines: all rolled up, rolled up with a live
tail, and all live; raw and rollup paths; in Kathmandu and St John's; unfiltered and
filtered on a long user, agent and model (each under 200 characters, but 4 bytes each) and
on ordinary ones whose rows include long rows; with a row exactly at the bound (short: in
the rollups) and one byte past it.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from support import reference as ref
from support.api import BASE, ROUTES, auth, log, make_app
from support.db import insert_agents, insert_logs
from test_queries import (
    _use,
    check_by_agent,
    check_heatmap,
    check_model_efficiency,
    check_projection,
    check_summary,
    check_time_series,
)
from test_slice_rollups import check_by_user
from test_slices import sliced_filters
from test_values_out_of_range import ordinary_rows

from ingest import refresh as rollups
from storage import long_rows

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOWS = [(date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 11, 20), date(2026, 11, 26))]
ZONES = ["Asia/Kathmandu", "America/St_Johns"]


def _wide(rng: random.Random, n: int) -> str:
    """n characters of 4 bytes each (emoji and CJK extension B), in no order that compresses."""
    return "".join(
        chr(rng.choice((rng.randrange(0x1F300, 0x1FAF0), rng.randrange(0x20000, 0x2A6D0)))) for _ in range(n)
    )


@pytest.fixture(scope="module")
def engine(own_engine):
    return own_engine  # this module refreshes the rollups of the whole database


def _names(org: str) -> SimpleNamespace:
    rng = random.Random(org)
    org_bytes = len(org.encode())
    # Text bytes of a row of `exact` but its model: org, agent a1, user u1, action, source, provider.
    rest = org_bytes + len(f"{org}-a1") + len("u1") + len("user_interaction") + len("system") + len("acme")
    return SimpleNamespace(
        user=_wide(rng, 200),  # 800 bytes, 200 characters: a valid filter value
        agent=_wide(rng, 200),
        model=_wide(rng, 150),
        hex_model='=HYPERLINK("http://x")<img src=x onerror=alert(1)>' + secrets.token_hex(1500),
        hex_provider=secrets.token_hex(500),
        exact=secrets.token_hex(1000)[: long_rows.NAME_BYTES - rest],  # at the bound: a short row
        past=secrets.token_hex(1000)[: long_rows.NAME_BYTES - rest + 1],  # one byte past it: long
    )


def _rows(org: str, n: SimpleNamespace) -> list[dict]:
    rows = ordinary_rows(org)
    kinds = [
        dict(agent=n.agent, user=n.user, provider="acme", model=n.model),  # all three long, each filterable
        dict(agent=f"{org}-a1", user="u1", provider=n.hex_provider, model=n.hex_model),  # among ordinary names
        dict(agent=n.agent, user=None, provider=n.hex_provider, model=n.model),
        dict(agent=None, user=n.user, provider=n.hex_provider, model=n.model),
        dict(agent=f"{org}-a1", user="u1", provider="acme", model=n.exact, source="system"),  # short: rolled up
        dict(agent=f"{org}-a1", user="u1", provider="acme", model=n.past, source="system"),  # long
    ]
    for j in range(36):
        k = kinds[j % len(kinds)]
        # Spread over the month at odd minutes: whole days, sub-day pieces and window edges.
        day = (11 * j + 7 * (j // len(kinds))) % 30  # six days of November for each kind
        at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day, hours=(7 * j) % 24, minutes=(11 * j) % 60)
        r = log(
            org,
            at,
            agent=k["agent"],
            source=k.get("source", ("system", "byok")[j % 2]),
            provider=k["provider"],
            model=k["model"],
            inp=5000 + 17 * j,
            out=700 + j,
            cr=250 * (j % 3),
            cost=None if j % 5 == 0 else f"1.{j:02d}345678",
            lat=None if j % 4 == 0 else 300 + 41 * j,
        )
        r["user_id"] = k["user"]
        rows.append(r)
    return rows


def _load(engine, org: str, names: SimpleNamespace, rows: list[dict]) -> SimpleNamespace:
    insert_agents(
        engine,
        [
            {"id": f"{org}-a1", "org_id": org, "name": "<b>Uno</b>", "avatar_url": None},
            {"id": names.agent, "org_id": org, "name": "=cmd|' /C calc'!A0 " + names.agent, "avatar_url": None},
        ],
    )
    with engine.connect() as c:
        loaded, agents = ref.load_rows(c, org), ref.load_agents(c, org)
    assert len(loaded) == len(rows)
    return SimpleNamespace(engine=engine, org=org, rows=loaded, agents=agents, names=names)


@pytest.fixture(scope="module")
def orgs(engine):
    """Three orgs with the same kind of rows: all rolled up; rolled up with half as a live
    tail; all in the live tail (inserted after the refresh)."""
    orgs = {k: f"long-{k}-{uuid.uuid4().hex[:6]}" for k in ("rolled", "tail", "live")}
    names = {k: _names(org) for k, org in orgs.items()}
    rows = {k: _rows(orgs[k], names[k]) for k in orgs}
    insert_logs(engine, rows["rolled"])  # PostgreSQL: refused before (index row size exceeds maximum)
    insert_logs(engine, rows["tail"][::2])
    result = rollups.refresh(engine)
    assert not result.skipped and result.gaps == 0  # a long row is no gap: it exists, read live
    with engine.connect() as c:
        newest = c.execute(sa.text("SELECT MAX(id) FROM token_usage_logs")).scalar_one()
        assert c.execute(sa.text("SELECT watermark FROM rollup_state")).scalar_one() == newest
        # The rollups hold the row at the bound and no long row.
        models = {m for (m,) in c.execute(sa.text("SELECT DISTINCT model FROM rollup_model"))}
    assert names["rolled"].exact in models and names["rolled"].past not in models
    assert not {names["rolled"].model, names["rolled"].hex_model} & models
    insert_logs(engine, rows["tail"][1::2])
    insert_logs(engine, rows["live"])
    return {k: _load(engine, orgs[k], names[k], rows[k]) for k in orgs}


def _slices(data) -> list[dict[str, list[str]]]:
    n = data.names
    return [
        {},
        {"userId": [n.user]},
        {"userId": ["u1"]},
        {"agentId": [n.agent]},
        {"agentId": [f"{data.org}-a1", "none"]},
        {"model": [n.model]},
        {"userId": [n.user, "u2"], "agentId": ["none"]},
    ]


def test_the_rows_are_long_where_meant(orgs):
    rows = orgs["rolled"].rows
    text = ["org_id", "agent_id", "user_id", "action_type", "source", "provider", "model"]
    size = rows[text].apply(lambda r: sum(len(str(v).encode()) for v in r if v is not None and v == v), axis=1)
    exact = rows["model"] == orgs["rolled"].names.exact
    assert (size[exact] == long_rows.NAME_BYTES).all() and exact.sum() == 6
    assert (size > long_rows.NAME_BYTES).sum() == 30  # five kinds of long row, six of each
    assert all(len(v) <= 200 for v in (orgs["rolled"].names.user, orgs["rolled"].names.model))


@pytest.mark.parametrize("path", ["rolled", "tail", "live"])
@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("tz", ZONES)
def test_every_figure_counts_the_long_rows(orgs, path, window, tz):
    for facts in ("rollup", "raw"):
        data = _use(facts, orgs[path])
        for sl in _slices(data) if facts == "rollup" else _slices(data)[:4]:
            view = SimpleNamespace(**{**vars(data), "rows": ref.sliced(data.rows, sl)})
            for source in ("all", "byok"):
                f = sliced_filters(data, window, tz, sl, source)
                check_summary(view, f)
                if not sl and source == "all":  # the window holds long rows
                    text = view.rows[list(long_rows.TEXT_COLUMNS)].fillna("")
                    size = text.apply(lambda r: sum(len(v.encode()) for v in r), axis=1)
                    assert (ref.in_window(view.rows[size > long_rows.NAME_BYTES], ref.Window.of(f))).shape[0] >= 3
                check_model_efficiency(view, f)
                check_by_agent(view, f)
                check_heatmap(view, f)
                check_by_user(data, f, sl, limit=3)
            f = sliced_filters(data, window, tz, sl)
            check_time_series(view, f)
            check_projection(view, f)


@pytest.mark.parametrize("use_rollups", [True, False])
def test_every_route_answers_with_the_long_rows(engine, orgs, use_rollups):
    data = orgs["tail"]
    client = make_app(engine, use_rollups=use_rollups).server.test_client()
    query = {"from": "2026-11-01", "to": "2026-11-30", "timezone": "Asia/Kathmandu", "compare": "previous"}
    for sl in _slices(data):
        for route in ROUTES:
            resp = client.get(f"{BASE}/{route}", query_string={**query, **sl}, headers=auth(data.org))
            assert resp.status_code == 200, (route, sl, resp.data[:300])
        users = client.get(f"{BASE}/by-user", query_string={**query, **sl}, headers=auth(data.org)).get_json()
        f = sliced_filters(data, WINDOWS[0], "Asia/Kathmandu", sl)
        want = ref.summary(ref.sliced(data.rows, sl), ref.Window.of(f))
        assert sum(u["tokens"] for u in users["users"]) + users["others"]["tokens"] == want["total_tokens"]
    # A long name over 200 characters is no filter value: a clear 400, not a 500.
    resp = client.get(f"{BASE}/summary", query_string={**query, "model": data.names.hex_model}, headers=auth(data.org))
    assert resp.status_code == 400 and resp.get_json()["error"]["parameter"] == "model"


def test_the_migration_predicates_are_the_readers(engine):
    """A query uses a partial index only when its WHERE holds the index's predicate word
    for word: the migration's frozen copy must equal storage.long_rows'."""
    import importlib

    m = importlib.import_module("storage.migrations.versions.0013_long_rows")
    for dialect in ("postgresql", "sqlite"):
        assert m.predicate(dialect, ">") == long_rows.long_sql(dialect)
        assert m.predicate(dialect, "<=") == long_rows.short_sql(dialect)
        assert m.name_bytes(dialect) == long_rows.name_bytes(dialect)
    assert m.TEXT_COLUMNS == long_rows.TEXT_COLUMNS and m.LONG_INDEX == long_rows.LONG_INDEX
    with engine.connect() as c:
        indexes = {i["name"] for i in sa.inspect(c).get_indexes("token_usage_logs")}
    assert long_rows.LONG_INDEX in indexes
    if engine.dialect.name == "postgresql":  # what keeps PostgreSQL from guessing a third of the rows long
        with engine.connect() as c:
            stats = c.execute(sa.text("SELECT stxname FROM pg_statistic_ext")).scalars().all()
        assert m.STATISTICS in stats
