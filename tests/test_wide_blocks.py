"""Blocks of 8 and 64 days in total, action, model and agent (migration 0015).

- The plan: a year's totals read a handful of 64-day blocks, not a row per day; monthly
  buckets read 8-day blocks inside each month; weekly buckets and the heatmap's hours
  never read a block that does not fit them (tests/test_rollups.py's partition test covers
  the grains in general).
- The rows: the refresh writes the new blocks (they sum to the raw table: test_rollups.py's
  sums test), and migration 0015 builds, from the day rows, exactly the blocks the refresh
  writes (rows before 1970 included); its downgrade removes them.

Every figure read through them is compared with the raw rows in tests/test_rollups.py
(random windows up to 400 days, every granularity, DST and +5:45 zones, late rows, the tail).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from support.db import downgrade, rolled_up_rows, upgrade

from queries import buckets as qbuckets, parse_filters, rollup_plan as qp, rollup_read as qr
from storage import rollup_tables as rt

QH, DAY = 900, 86400
WIDE = (8 * DAY, 64 * DAY)
TABLES = ("rollup_total", "rollup_action", "rollup_model", "rollup_agent")


def grains_read(tz: str, gran: str | None, start="2025-12-06", end="2026-12-05") -> dict[int, int]:
    """Blocks read per grain (seconds -> count) by a question of the model family."""
    f = parse_filters({"from": start, "to": end, "timezone": tz, "granularity": gran or "auto"}, "x")
    A, B = -(-int(f.start_utc.timestamp()) // QH), int(f.read_end_utc.timestamp()) // QH
    cuts = np.asarray(qbuckets.bucket_cuts(f), dtype="int64").tobytes() if gran else None
    ranges = qr._plan(tz, A, B, cuts, gran is not None, 0, rt.WIDE_GRAINS)[0]
    out: dict[int, int] = {}
    for r in ranges:
        out[r[0]] = out.get(r[0], 0) + len(qp.blocks_of(r))
    return out


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kathmandu", "America/New_York"])
def test_a_years_totals_read_64_day_blocks(tz):
    n = grains_read(tz, None)
    assert n.get(64 * DAY, 0) >= 4 and n.get(DAY, 0) <= 2 * 7 + 2, n
    assert sum(n.values()) <= 40, n  # against ~365 day rows and the edges before


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kathmandu"])
def test_monthly_buckets_read_8_day_blocks_and_weekly_ones_none(tz):
    assert grains_read(tz, "month").get(8 * DAY, 0) >= 24
    weekly = grains_read(tz, "week")
    assert not weekly.get(8 * DAY) and not weekly.get(64 * DAY), weekly


KEYS = ("org_id", "grain", "t", "source", "action_type", "provider", "model", "agent_id", "agent_null")


def _wide_rows(engine) -> dict:
    """Every 8- and 64-day block: (table, key columns…) -> its measures."""
    out = {}
    with engine.connect() as c:
        for table in TABLES:
            for r in c.execute(sa.text(f"SELECT * FROM {table} WHERE grain IN {WIDE}")).mappings():
                key = (table, *(r[k] for k in KEYS if k in r))
                out[key] = tuple(sorted((k, int(v)) for k, v in r.items() if k not in KEYS))
    return out


def test_0015_builds_the_blocks_the_refresh_writes_and_goes_back(fresh):
    upgrade(fresh, "head")
    early = [datetime(1969, 12, 20, 5, 7, tzinfo=UTC), datetime(1969, 10, 3, 23, 59, tzinfo=UTC)]
    choices = {"model": ["m1", "m2"], "action_type": ["chat", "tool"]}
    rolled_up_rows(fresh, random.Random(15), 500, early, choices)
    written = _wide_rows(fresh)
    assert {k[0] for k in written} == set(TABLES)
    assert any(k[3] < 0 for k in written)  # (table, org, grain, t…): a block before 1970
    downgrade(fresh, "0014")
    assert _wide_rows(fresh) == {}
    upgrade(fresh, "head")
    assert _wide_rows(fresh) == written
