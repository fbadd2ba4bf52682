"""A small, explicit, deterministic data set for the query-layer tests.

`build(org_id)` returns (rows, late_rows, other_org_rows, agents, overrides):

- a sparse base of rows every 13 h 17 min from 2025-09-20 to 2027-01-05 (every local
  hour of the day gets hit over time), with a gap from 2026-06-08 to 2026-06-27 that
  holds only three rows besides the edge rows below (for the "fewer than 7 points"
  projection);
- dense rows every 20 minutes for 30 hours on each side of the DST changes of
  America/New_York (2026-03-08, 2026-11-01) and Australia/Lord_Howe (2026-04-05,
  2026-10-04), so both 01:xx hours and the half-hour shifts are populated;
- a row exactly at, and one 1 µs before, every local midnight that starts or ends a
  window of `WINDOWS` in every zone of `ZONES` (the window edges);
- NULL costs, NULL latencies, NULL agents, an agent missing from the agents table and
  one registered to another org, both sources, five models (one without any price),
  costs with 8 decimals;
- late rows, inserted after the rest (higher ids) with old created_at;
- another org's rows at the same instants with large costs, which must never count.

Instants are UTC-aware datetimes (SQLite stores created_at as UTC text).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

UTC = UTC
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]
# Zones whose local midnight is skipped or repeated on some day (hypothesis draws them too).
MIDNIGHT_ZONES = ["America/Santiago", "America/Havana"]

# name: (from, to), both inclusive local dates.
WINDOWS = {
    "ny_spring_week": (date(2026, 3, 5), date(2026, 3, 11)),
    "ny_fall_week": (date(2026, 10, 29), date(2026, 11, 4)),
    "lh_fall_week": (date(2026, 4, 2), date(2026, 4, 8)),
    "lh_spring_week": (date(2026, 10, 1), date(2026, 10, 7)),
    "ny_spring_day": (date(2026, 3, 8), date(2026, 3, 8)),
    "ny_fall_day": (date(2026, 11, 1), date(2026, 11, 1)),
    "year_end": (date(2025, 12, 17), date(2026, 1, 20)),  # crosses a year, partial weeks
    "months": (date(2026, 1, 14), date(2026, 5, 20)),  # partial first/last month and week
    "long": (date(2025, 10, 1), date(2026, 12, 31)),  # > 365 days: months
    "gap": (date(2026, 6, 9), date(2026, 6, 26)),  # 3 days with rows: insufficient_data
}

DST_CHANGES = [  # UTC instants of the DST changes the dense rows surround
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York spring forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York fall back
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe back 30 min (01:30 repeats)
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe forward 30 min (02:00 -> 02:30)
]

ACTIONS = ["user_interaction", "guardrail_check", "title_generation", "rag_query_embedding", "document_indexing"]
MODELS = [  # (provider, model)
    ("anthropic", "claude-sonnet-4-5"),
    ("openai", "gpt-4o-mini"),
    ("openai", "text-embedding-3-small"),
    ("qtestprov", "qtest-cached-1"),  # priced only by the override table
    ("qtestacme", "qtest-unpriced-9"),  # no price anywhere
]
OVERRIDES = [("qtestprov", "qtest-cached-1", Decimal("2.5"), Decimal("0.25"))]
GAP = (datetime(2026, 6, 8, tzinfo=UTC), datetime(2026, 6, 28, tzinfo=UTC))
GAP_ROWS = [
    datetime(2026, 6, 12, 10, tzinfo=UTC),
    datetime(2026, 6, 15, 16, tzinfo=UTC),
    datetime(2026, 6, 20, 3, 30, tzinfo=UTC),
]


def edge_instants() -> list[datetime]:
    """Local midnights at every window edge in every zone, and 1 µs before each."""
    out = set()
    for tz in ZONES:
        z = ZoneInfo(tz)
        for start, end in WINDOWS.values():
            for d in (start, end + timedelta(days=1)):
                m = datetime.combine(d, time(0), tzinfo=z).astimezone(UTC)  # no gaps at these midnights
                out |= {m, m - timedelta(microseconds=1)}
    return sorted(out)


def base_instants() -> list[datetime]:
    out = []
    t, step = datetime(2025, 9, 20, 0, 7, tzinfo=UTC), timedelta(hours=13, minutes=17)
    while t < datetime(2027, 1, 5, tzinfo=UTC):
        if not GAP[0] <= t < GAP[1]:
            out.append(t)
        t += step
    for change in DST_CHANGES:
        u = change - timedelta(hours=30)
        while u < change + timedelta(hours=30):
            out.append(u)
            u += timedelta(minutes=20)
    return sorted(set(out) | set(GAP_ROWS) | set(edge_instants()))


def _row(org_id: str, at: datetime, i: int, rng, agents: list) -> dict:
    provider, model = MODELS[i % len(MODELS)]
    source = "byok" if (i % 3 == 0 or model == "qtest-unpriced-9") else "system"
    null_cost = i % 7 == 3 or (model == "qtest-unpriced-9" and i % 2 == 0)
    cost = None if null_cost else Decimal(int(rng.integers(1, 400_000_000))) / Decimal(100_000_000)
    inp = int(rng.integers(0, 5000))
    return {
        "org_id": org_id,
        "created_at": at,
        "agent_id": agents[i % len(agents)],
        "user_id": None if i % 4 == 0 else f"u{i % 5}",
        "action_type": ACTIONS[(i * 7 + i // 5) % len(ACTIONS)],
        "source": source,
        "provider": provider,
        "model": model,
        "input_tokens": inp,
        "output_tokens": int(rng.integers(0, 3000)),
        "cache_read_tokens": 0 if i % 4 == 1 else int(rng.integers(0, 8000)),
        "cache_write_tokens": int(rng.integers(0, 500)),
        "cost_usd": cost,
        "latency_ms": None if i % 6 == 2 else int(rng.integers(50, 9000)),
    }


def agent_ids(org_id: str) -> dict:
    return {
        "a1": f"{org_id}-a1",
        "a2": f"{org_id}-a2",
        "a3": f"{org_id}-a3",
        "missing": f"{org_id}-ghost",
        "foreign": f"{org_id}-foreign",
    }


def build(org_id: str, other_org: str):
    rng = np.random.default_rng(20260308)
    ids = agent_ids(org_id)
    pool = [ids["a1"], ids["a2"], None, ids["a1"], ids["missing"], ids["a3"], ids["foreign"]]
    rows = [_row(org_id, at, i, rng, pool) for i, at in enumerate(base_instants())]
    # Late rows: inserted last (so with the highest ids) but dated back in the data set.
    late_at = [
        datetime(2025, 10, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 45, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 45, tzinfo=UTC),
        datetime(2026, 4, 4, 15, 10, tzinfo=UTC),
        datetime(2026, 5, 20, 13, 37, tzinfo=UTC),
        datetime(2026, 10, 3, 15, 29, 59, tzinfo=UTC),
    ]
    late = [_row(org_id, at, 1000 + i, rng, pool) for i, at in enumerate(late_at)]
    other = [
        dict(r, org_id=other_org, cost_usd=Decimal("1000.5"), input_tokens=10**9, agent_id=f"{other_org}-x")
        for r in rows[::4]
    ]
    agents = [
        {"id": ids["a1"], "org_id": org_id, "name": "Asistente Ventas", "avatar_url": "https://example.test/a1.png"},
        {"id": ids["a2"], "org_id": org_id, "name": "Soporte", "avatar_url": None},
        {"id": ids["a3"], "org_id": org_id, "name": "Redactor", "avatar_url": None},
        {"id": f"{org_id}-idle", "org_id": org_id, "name": "Sin uso", "avatar_url": None},
        {"id": ids["foreign"], "org_id": other_org, "name": "De otra org", "avatar_url": None},
        {"id": f"{other_org}-x", "org_id": other_org, "name": "Otro", "avatar_url": None},
    ]
    return rows, late, other, agents
