"""Rollup rows as the refresh of an older schema wrote them, for the migration tests.

Today's refresh writes today's columns (0004's sketches, 0005's unpriced sums), so it
cannot stand in for the code that ran before a migration. `write_rollups` aggregates raw
rows in plain Python into the four rollup tables as revision 0002 created them (key
org_id, grain, t, source, dims; the eight measures of 0002; grains 900 s to one day;
cost as an integer of 1e-8 USD; `agent_id` '' with `agent_null` 1 for no agent), keyed by
the source text `key_source` gives (the raw text before 0003, its class from 0003 on),
and moves the watermark over the rows it rolled up, as such a refresh did.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa

# As revision 0002 created them: frozen here, like a migration, whatever the code says today.
GRAINS = (900, 3600, 21600, 86400)
DIMS = {
    "rollup_total": (),
    "rollup_action": ("action_type",),
    "rollup_model": ("provider", "model"),
    "rollup_agent": ("agent_id", "agent_null"),
}
MEASURES = (
    "cost_e8",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "executions",
    "latency_sum",
    "latency_count",
)


def _dims(row: dict, table: str) -> tuple:
    if table == "rollup_agent":
        return ("", 1) if row["agent_id"] is None else (row["agent_id"], 0)
    return tuple(row[d] for d in DIMS[table])


def _measures(row: dict) -> tuple[int, ...]:
    cost = row["cost_usd"]
    lat = row["latency_ms"]
    return (
        0 if cost is None else int(Decimal(str(cost)) * 10**8),
        row["input_tokens"],
        row["output_tokens"],
        row["cache_read_tokens"],
        row["cache_write_tokens"],
        1,
        0 if lat is None else lat,
        0 if lat is None else 1,
    )


def aggregate(rows: list[dict], key_source=lambda s: s) -> dict[str, dict[tuple, tuple[int, ...]]]:
    """table -> {(org_id, grain, t, source, *dims): measures}: the rows summed per grain."""
    out: dict[str, dict[tuple, list[int]]] = {t: defaultdict(lambda: [0] * len(MEASURES)) for t in DIMS}
    for row in rows:
        qh = int(row["created_at"].timestamp()) // 900  # whole seconds, then the quarter-hour
        values = _measures(row)
        for grain in GRAINS:
            t = qh * 900 // grain * grain
            for table in DIMS:
                sums = out[table][(row["org_id"], grain, t, key_source(row["source"]), *_dims(row, table))]
                for i, v in enumerate(values):
                    sums[i] += v
    return {t: {k: tuple(v) for k, v in rows_.items()} for t, rows_ in out.items()}


def write_rollups(engine: sa.Engine, rows: list[dict], key_source=lambda s: s) -> None:
    """Write `aggregate(rows, key_source)` and move the watermark over every raw row
    (the rows must be all of the database's rows, already inserted)."""
    with engine.begin() as c:
        for table, sums in aggregate(rows, key_source).items():
            keys = ["org_id", "grain", "t", "source", *DIMS[table]]
            cols = keys + list(MEASURES)
            c.execute(
                sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)})"),
                [dict(zip(cols, (*k, *v))) for k, v in sums.items()],
            )
        top = c.execute(sa.text("SELECT MAX(id) FROM token_usage_logs")).scalar()
        c.execute(sa.text("UPDATE rollup_state SET watermark = :w, version = version + 1 WHERE id = 1"), {"w": top})


def read_rollups(engine: sa.Engine, org: str) -> dict[str, dict[tuple, tuple[int, ...]]]:
    """The four tables' rows of one org, in aggregate()'s shape (0002's columns only)."""
    out = {}
    with engine.connect() as c:
        for table in DIMS:
            keys = ["org_id", "grain", "t", "source", *DIMS[table]]
            got = c.execute(
                sa.text(f"SELECT {', '.join(keys + list(MEASURES))} FROM {table} WHERE org_id = :o"), {"o": org}
            ).all()
            out[table] = {tuple(r[: len(keys)]): tuple(int(v) for v in r[len(keys) :]) for r in got}
    return out
