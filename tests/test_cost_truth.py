"""Cache economics, unpriced calls and prices over time equal an independent computation.

tests/support/reference_cost.py prices every raw row on its own (pandas, Decimal,
genai-prices' calc_price at the row's quarter-hour, the override table read with plain
SQL); the queries price sums of facts. Compared on SQLite and PostgreSQL, on the raw and
the rollup path (rolled up before the late rows arrive), in zones off by 30/45 minutes
and around DST days, over windows that hold a catalogue price change (claude-sonnet-4-6
on 2026-03-13), daily off-peak prices (deepseek-v4-flash) and a dated override that
starts off the quarter-hour (2026-03-10 10:07:30 UTC, with a cache-write price).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest
import sqlalchemy as sa
from support import query_data as qd, reference as ref, reference_cost as rc
from support.db import insert_agents, insert_logs

from queries import base as qbase, cache_savings, parse_filters, summary
from queries.cache_savings import cache_economics
from storage.engine import make_engine
from storage.schema import price_overrides

COST_TOL = 5e-9
DATED = ("qcostprov", "qcost-dated-1")
CHANGE = datetime(2026, 8, 17, tzinfo=UTC)  # deepseek-v4-flash's catalogue price changes (UTC midnight)
OVERRIDES = [  # provider, model, valid_from, input, cache read, cache write, output
    (*DATED, None, Decimal("2"), Decimal("0.2"), None, None),
    (*DATED, datetime(2026, 3, 10, 10, 7, 30, tzinfo=UTC), Decimal("3"), Decimal("0.3"), Decimal("3.75"), Decimal("9")),
    (*DATED, datetime(2026, 10, 2, 0, 0, tzinfo=UTC), Decimal("1.5"), Decimal("0.15"), Decimal("2"), None),
]
NOW = datetime(2027, 1, 4, 12, tzinfo=UTC)
WINDOWS = {
    "change": (date(2026, 8, 14), date(2026, 8, 20)),
    **{k: qd.WINDOWS[k] for k in ("ny_spring_week", "lh_spring_week", "ny_fall_day", "months")},
}
CASES = [
    ("change", "Asia/Kathmandu", "hour"),
    ("change", "Asia/Kolkata", "day"),
    ("change", "America/New_York", "hour"),
    ("ny_spring_week", "America/New_York", "hour"),
    ("lh_spring_week", "Australia/Lord_Howe", "hour"),
    ("ny_fall_day", "America/New_York", "hour"),
    ("months", "Asia/Kathmandu", "week"),
    ("months", "UTC", "month"),
]


def _extra_rows(org: str) -> list[dict]:
    """Rows of the models whose prices change: every 7 minutes around each change."""
    rng = np.random.default_rng(11)
    out = []
    spans = [
        (("deepseek", "deepseek-v4-flash"), CHANGE),
        (DATED, datetime(2026, 3, 10, 10, 7, 30, tzinfo=UTC)),
        (DATED, datetime(2026, 10, 2, tzinfo=UTC)),
        (("deepseek", "deepseek-v4-flash"), datetime(2026, 10, 5, 3, tzinfo=UTC)),
    ]
    for (provider, model), at in spans:
        t = at - timedelta(hours=26)
        i = 0
        while t < at + timedelta(hours=26):
            out.append(
                {
                    "org_id": org,
                    "created_at": t,
                    "agent_id": None,
                    "user_id": None,
                    "action_type": "user_interaction",
                    "source": "byok" if i % 3 else "system",
                    "provider": provider,
                    "model": model,
                    "input_tokens": int(rng.integers(0, 4000)),
                    "output_tokens": int(rng.integers(0, 2000)),
                    "cache_read_tokens": int(rng.integers(0, 6000)),
                    "cache_write_tokens": int(rng.integers(0, 900)),
                    "cost_usd": None if i % 2 else Decimal(int(rng.integers(1, 10**8))) / Decimal(10**8),
                    "latency_ms": None,
                }
            )
            t += timedelta(minutes=7, seconds=int(rng.integers(0, 59)))
            i += 1
    return out


def _overrides(engine) -> None:
    with engine.begin() as c:
        c.execute(price_overrides.delete().where(price_overrides.c.provider == DATED[0]))
        for p, m, vf, i, cr, cw, o in OVERRIDES:
            c.execute(
                price_overrides.insert().values(
                    provider=p,
                    model=m,
                    valid_from=vf,
                    input_usd_per_mtok=i,
                    cache_read_usd_per_mtok=cr,
                    cache_write_usd_per_mtok=cw,
                    output_usd_per_mtok=o,
                )
            )


def _load(engine, refresh_before_late: bool):
    org, other = f"corg-{uuid.uuid4().hex[:8]}", f"coth-{uuid.uuid4().hex[:8]}"
    rows, late, other_rows, agents = qd.build(org, other)
    insert_logs(engine, other_rows)
    insert_logs(engine, rows + _extra_rows(org))
    if refresh_before_late:
        from ingest import refresh as rollups

        rollups.refresh(engine)
    insert_logs(engine, late)
    insert_agents(engine, agents)
    _overrides(engine)
    with engine.connect() as c:
        return org, ref.load_rows(c, org), rc.load_price_rows(c)


@pytest.fixture(scope="module")
def loaded(engine):
    """One data set per engine, rolled up before its late rows arrive: the raw path reads the
    rows, the rollup path the rollups plus the tail (the late rows among it). The reference
    of each question is computed once and compared with both paths."""
    org, rows, prices = _load(engine, refresh_before_late=True)
    return SimpleNamespace(org=org, rows=rows, prices=prices, memo={})


@pytest.fixture(scope="module", params=["raw", "rollup"])
def data(engine, loaded, request):
    return qbase.facts_path(engine, request.param), loaded.org, loaded.rows, loaded.prices, loaded.memo


def _reference(memo: dict, what: str, fn, rows, window, prices):
    """fn(rows, window, prices), computed once per (fn, window) for the module's data set."""
    if (what, window) not in memo:
        memo[what, window] = fn(rows, window, prices)
    return memo[what, window]


def _filters(org, window, tz, gran, source="all"):
    start, end = WINDOWS[window]
    params = {"from": start.isoformat(), "to": end.isoformat(), "timezone": tz, "granularity": gran, "source": source}
    return parse_filters(params, org, now=NOW)


def _close(got, want, what):
    assert abs(float(got) - float(want)) < COST_TOL, (what, got, want)


@pytest.mark.parametrize(("window", "tz", "gran"), CASES)
@pytest.mark.parametrize("source", ["all", "byok"])
def test_cache_economics_equal_reference(data, window, tz, gran, source):
    engine, org, rows, prices, memo = data
    f = _filters(org, window, tz, gran, source)
    with engine.connect() as c:
        e = cache_economics(c, f)
    want = _reference(memo, "economics", rc.cache_economics, rows, ref.Window.of(f), prices)
    got = e.total.iloc[0]
    for k in ("total_cache_read_tokens", "total_input_tokens", "cache_write_tokens", "skipped_models_count"):
        assert int(got[k]) == want[k], k
    for k in ("estimated_savings_usd", "write_premium_usd", "net_savings_usd"):
        _close(got[k], want[k], k)
    assert [p["bucket"] for p in want["points"]] == list(e.points["bucket"])
    for w, (_, g) in zip(want["points"], e.points.iterrows()):
        assert int(g["cache_read_tokens"]) == w["cache_read_tokens"]
        assert int(g["total_input_tokens"]) == w["total_input_tokens"]
        rate = None if g["hit_rate"] is None or g["hit_rate"] != g["hit_rate"] else g["hit_rate"]
        assert (rate is None) == (w["hit_rate"] is None)
        if w["hit_rate"] is not None:
            assert abs(rate - w["hit_rate"]) < 1e-12
        _close(g["estimated_savings_usd"], w["estimated_savings_usd"], ("point savings", w["bucket"]))
        _close(g["net_savings_usd"], w["net_savings_usd"], ("point net", w["bucket"]))
    assert list(e.points["partial"]) == ref.partial_flags(ref.Window.of(f), list(e.points["bucket"]))
    # The per-model table adds up to the totals.
    _close(e.models["net_savings_usd"].sum(), want["net_savings_usd"], "models net")
    # cache_savings reads the totals without buckets (64-day blocks): the same integers.
    with engine.connect() as c:
        lean = cache_savings(c, f).iloc[0]
    for k in e.total.columns:
        assert lean[k] == got[k] or (lean[k] is None and got[k] is None), k


@pytest.mark.parametrize(("window", "tz", "gran"), CASES)
@pytest.mark.parametrize("source", ["all", "system", "byok"])
def test_unpriced_equal_reference(data, window, tz, gran, source):
    engine, org, rows, prices, memo = data
    f = _filters(org, window, tz, gran, source)
    with engine.connect() as c:
        got = summary(c, f).iloc[0]
    want = _reference(memo, "unpriced", rc.unpriced, rows, ref.Window.of(f), prices)
    base = _reference(memo, "summary", lambda r, w, _: ref.summary(r, w), rows, ref.Window.of(f), prices)
    assert int(got["unpriced_executions"]) == want["unpriced_executions"]
    _close(got["estimated_unpriced_cost_usd"], want["estimated_unpriced_cost_usd"], "estimate")
    # Never mixed into the reported cost.
    assert abs(got["total_cost_usd"] - base["total_cost_e8"] / 1e8) < COST_TOL


def test_prices_change_inside_the_window(data):
    """The change window holds several catalogue prices of deepseek-v4-flash (a new price
    from 2026-08-17, peak hours every day): pricing every row at one price would differ."""
    engine, org, rows, prices, _ = data
    f = _filters(org, "change", "UTC", "day")
    w = ref.Window.of(f)
    want = rc.cache_economics(rows, w, prices)
    flat = {k: v[:1] for k, v in prices.items()}  # only the always-rows of the overrides
    d = ref.in_window(rows, w)
    seen = {rc.price_at(flat, "deepseek", "deepseek-v4-flash", t.floor("15min")) for t in d["ts"]}
    assert len(seen) >= 3, "the catalogue no longer changes deepseek-v4-flash's price in this window"
    with engine.connect() as c:
        got = cache_savings(c, f).iloc[0]
    _close(got["estimated_savings_usd"], want["estimated_savings_usd"], "savings")


def test_quarter_hour_rule_for_an_override_off_the_quarter_hour(migrated_url):
    """A row at 10:10 is priced before the 10:07:30 override starts; one at 10:15 after.
    (A database of its own: its refresh then rolls up these two rows, not the session's.)"""
    engine = make_engine(migrated_url)
    org = f"cq-{uuid.uuid4().hex[:8]}"
    _overrides(engine)
    base = {
        "org_id": org,
        "agent_id": None,
        "user_id": None,
        "action_type": "user_interaction",
        "source": "system",
        "provider": DATED[0],
        "model": DATED[1],
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 1_000_000,
        "cache_write_tokens": 0,
        "cost_usd": None,
        "latency_ms": None,
    }
    insert_logs(engine, [dict(base, created_at=datetime(2026, 3, 10, 10, 10, tzinfo=UTC))])
    insert_logs(engine, [dict(base, created_at=datetime(2026, 3, 10, 10, 15, tzinfo=UTC))])
    from ingest import refresh as rollups

    rollups.refresh(engine)
    for path in ("raw", "rollup"):
        with qbase.facts_path(engine, path).connect() as c:
            p = {"from": "2026-03-10", "to": "2026-03-10", "timezone": "UTC", "granularity": "hour"}
            got = cache_savings(c, parse_filters(p, org, now=NOW)).iloc[0]
        # (2 - 0.2) before, (3 - 0.3) after: 1.8 + 2.7 USD per million cache-read tokens.
        assert round(float(got["estimated_savings_usd"]), 8) == 4.5, path
    engine.dispose()


def test_rollup_model_keeps_unpriced_sums(engine):
    """Every grain of rollup_model sums the NULL-cost rows like the raw table."""
    org, rows, _ = _load(engine, refresh_before_late=False)
    from ingest import refresh as rollups

    rollups.refresh(engine)
    null = rows[rows["cost_is_null"]]
    with engine.connect() as c:
        for g in (900, 3600, 21600, 86400):
            got = c.execute(
                sa.text(
                    "SELECT SUM(unpriced_executions), SUM(unpriced_input_tokens), SUM(unpriced_cache_write_tokens)"
                    " FROM rollup_model WHERE org_id = :o AND grain = :g"
                ),
                {"o": org, "g": g},
            ).one()
            assert tuple(int(v) for v in got) == (
                len(null),
                int(null["input_tokens"].sum()),
                int(null["cache_write_tokens"].sum()),
            )


def test_price_cuts_look_each_model_up_once(monkeypatch):
    """A window's facts hold a row per segment and model (53 weeks × every model): the price
    cuts are looked up once per model, not per row. deepseek-v4-flash's daily off-peak prices
    give two instants a day, and a lookup per row made a 365-day weekly cache-savings answer
    spend ~0.8 s of CPU here; the cuts themselves are the same."""
    from queries import price_book

    seen = []
    real = price_book.catalogue_changes
    monkeypatch.setattr(price_book, "catalogue_changes", lambda *a: seen.append(a[:2]) or real(*a))
    a, b = int(datetime(2025, 12, 1, tzinfo=UTC).timestamp()), int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    rows = [("deepseek", "deepseek-v4-flash"), ("openai", "gpt-4o")] * 200
    cuts = price_book.PriceBook({}).cuts(rows, a, b)
    assert sorted(seen) == [("deepseek", "deepseek-v4-flash"), ("openai", "gpt-4o")]
    once = [t for m in dict.fromkeys(rows) for t in real(*m, a, b)]
    assert np.array_equal(cuts, np.unique(-(-np.asarray(once, dtype="int64") // 900) * 900))
    assert len(cuts) >= 2 * 364  # the off-peak hours' ends, every day
