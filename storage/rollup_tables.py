"""The rollup tables: one table of families (what each keys by) and the state row, shared by reads and refreshes.

A family is one pre-aggregated table (migration 0002, 0008) keyed by (org_id, grain, t,
source, *key columns): facts(dims) with a slice reads the narrowest family whose key
holds dims ∪ the sliced columns, and a refresh adds raw rows to every family, at the
family's own grains (docs/rollups.md: why `user` keeps whole days and coarser only). `rollup_state` (one row) records the
watermark (ids <= it are rolled up, minus the gap ranges), a version bumped by every
refresh, the gaps (id ranges read live until their rows appear or they expire), and the
seal (migrations 0016, 0017): the instant up to which the 8-day and week blocks are written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage.local_days import offset_of, span
from storage.measures import MEASURES, UNPRICED
from storage.schema_version import at_head

GRAINS = (900, 3600, 21600, 86400)  # the 6-hour grain halves what a local midnight off UTC reads
DAY = 86400
# The user family (high cardinality: ~4M user × quarter-hour rows per 10M raw rows, as many at
# every sub-day grain) keeps whole UTC days, 8-day and 64-day blocks (epoch-aligned): a year is at
# most ~30 blocks per user; the sub-day rest is read raw (ix_tul_org_user_created for a user).
USER_GRAINS = (DAY, 8 * DAY, 64 * DAY)
# The families of few keys (total, action, model, agent) also keep 8-day and 64-day blocks
# (migration 0015): a window's totals (the KPIs, the models' and agents' figures) and its
# monthly buckets read a 64-day block where they read 64 days before (docs/rollups.md,
# «Blocks of 8 and 64 days»). combo keeps the four grains: its rows are many, and every
# new row would update two more of them at every refresh.
WEEK = 7 * DAY
# Monday-aligned weeks (migration 0017): a local week's bucket (the 365-day page's trend, actions,
# cache points, sparklines) is a UTC Monday-to-Monday block in UTC, that block ± a few sub-day
# blocks elsewhere, where it was 7 days. Week blocks start at WEEK_START + k·WEEK (1970-01-05 was
# a Monday), not nesting with the 8- and 64-day blocks: a plan takes whole 64-day, then 8-day,
# then week blocks inside what is left of each segment, then days (queries.rollup_plan).
WEEK_START = 4 * DAY
ALIGN = {WEEK: WEEK_START}  # where a grain's blocks start (epoch seconds mod the grain); 0 if absent
WIDE_GRAINS = (*GRAINS, WEEK, 8 * DAY, 64 * DAY)
# The 8-day blocks are written only once they have ended: a block whose end is at or before
# the state's `sealed` instant is complete (the refresh adds every new row of it, late rows
# included); a later one has no rows at all, and reads take its days instead. The refresh
# that first sees a block ended builds it from the day rows (ingest.rollup_write.seal), so a
# catch-up writes a new row's day and 64-day block, not also its open 8-day block. The open 64-day
# block stays written: windows ending today read most of their last 64 days from it (docs/rollups.md,
# «Sealed 8-day blocks»). `sealed` moves in whole 8-day steps. Week blocks are sealed the same way.
SEALED_GRAIN = 8 * DAY
SEALED_GRAINS = (WEEK, SEALED_GRAIN)
SEAL_STEP = SEALED_GRAIN


def align(grain: int) -> int:
    """Where a grain's blocks start (epoch seconds mod its span): ALIGN's, a local-day code's offset, or 0."""
    return offset_of(grain) or ALIGN.get(grain, 0)


def block_start(t: int, grain: int) -> int:
    """The start of the block of `grain` (a size, or a local-day code) holding instant t (epoch seconds)."""
    return t - (t - align(grain)) % span(grain)


def sealed_at(epoch: float) -> int:
    """The seal an instant allows: the last 8-day boundary at or before it (epoch seconds)."""
    return int(epoch // SEAL_STEP) * SEAL_STEP


# What a block of each grain costs to read, relative (rows per block at 10M rows and 25k
# users, `make bench`: 8.2k, 27.5k, 36k): a window's whole days are read as the cheapest
# blocks added and taken away (queries.rollup_signed.signed_cover, docs/rollups.md).
BLOCK_COSTS = {DAY: 1.0, 8 * DAY: 3.3, 64 * DAY: 4.4}
# The heatmap's fold (migration 0014). A row of grain FOLD_GRAIN (negative: it is no block of
# time) at t holds the quarter-hours t, t + 1 week, … t + 7 weeks: its FOLD_SPAN block (epoch-
# aligned, 8 weeks) folded onto the block's first week. The heatmap's clock hours repeat every
# week, so where the UTC offset holds for a whole block, its 672 quarter-hours of the week
# answer for the block's 5,376 (queries.rollup_folds.fold_blocks; docs/rollups.md). Only a
# family with `folded` keeps them: total, which the page's heatmap reads.
FOLD_SPAN = 8 * WEEK
FOLD_GRAIN = -FOLD_SPAN
# The watermark stays below the largest BIGINT: answers read the live tail from
# watermark + 1, which must still be a BIGINT (SQLite: OverflowError, every route 500).
# A row stored at 2^63 - 1 (the importer refuses ids above 2^62) stays in the tail.
LAST_ROLLED_ID = 2**63 - 2


@dataclass(frozen=True)
class Family:
    """One rollup table and how its key maps to facts' dimensions and to raw rows."""

    name: str
    table: str
    dims: tuple[str, ...]  # the facts dimensions it answers (source is in every key)
    key_columns: tuple[str, ...]  # its key columns after (org_id, grain, t, source)
    key_values: tuple[str, ...]  # SQL for each key column from a staged raw row `s`
    read_dims: tuple[str, ...]  # SQL for each of dims from a rollup row `x`
    unpriced: bool = False  # also keeps UNPRICED (migration 0005)
    grains: tuple[int, ...] = GRAINS  # ascending; each divides the next but WEEK (ALIGN)
    folded: bool = False  # also keeps FOLD_GRAIN rows (the heatmap's weeks folded)
    local_days: bool = False  # also keeps day blocks at every quarter-hour (storage.local_days)

    @property
    def sub_day_raw(self) -> bool:
        """Its finest grain is coarser than a quarter-hour: finer pieces are read raw."""
        return self.grains[0] > GRAINS[0]

    def key_sql(self, dim: str) -> str | None:
        """The stored key column of a nullable dimension coded as ('', null flag), or None:
        a slice on it first matches this column (indexable), then the decoded value."""
        if dim in self.dims and dim in NULL_CODED:
            return f"x.{dim}"
        return None

    @property
    def measures(self) -> list[str]:
        """The measure columns it stores."""
        return MEASURES + UNPRICED if self.unpriced else list(MEASURES)

    def read_sql(self, dim: str) -> str:
        """SQL for one facts dimension (its own, or source) from a rollup row `x`."""
        return dict(zip(self.dims, self.read_dims)).get(dim, f"x.{dim}")


NULL_CODED = ("agent_id", "user_id")  # key columns stored NOT NULL as ('', <dim>_null = 1)


def _null_coded(dim: str) -> tuple[tuple[str, str], tuple[str, str], str]:
    """(key columns, their SQL from a staged row `s`, the dimension's SQL from a rollup row `x`)."""
    flag = dim.replace("_id", "_null")
    return (
        (dim, flag),
        (f"COALESCE(s.{dim}, '')", f"CASE WHEN s.{dim} IS NULL THEN 1 ELSE 0 END"),
        f"CASE WHEN x.{flag} = 1 THEN NULL ELSE x.{dim} END",
    )


_AG_KEYS, _AG_VALS, _AG_READ = _null_coded("agent_id")
_US_KEYS, _US_VALS, _US_READ = _null_coded("user_id")

# In order of size (rows at 10M raw rows, docs/rollups.md): the first that holds what a
# question needs is the narrowest.
FAMILIES: tuple[Family, ...] = (
    Family("total", "rollup_total", (), (), (), (), grains=WIDE_GRAINS, folded=True, local_days=True),
    Family(
        "action",
        "rollup_action",
        ("action_type",),
        ("action_type",),
        ("s.action_type",),
        ("x.action_type",),
        grains=WIDE_GRAINS,
    ),
    Family(
        "model",
        "rollup_model",
        ("provider", "model"),
        ("provider", "model"),
        ("s.provider", "s.model"),
        ("x.provider", "x.model"),
        unpriced=True,
        grains=WIDE_GRAINS,
    ),
    # agent_id is NOT NULL in the key: rows without an agent are ('', agent_null = 1).
    Family("agent", "rollup_agent", ("agent_id",), _AG_KEYS, _AG_VALS, (_AG_READ,), grains=WIDE_GRAINS),
    # Every column but the user: any slice of several filters without a user (migration 0008).
    Family(
        "combo",
        "rollup_combo",
        ("action_type", "provider", "model", "agent_id"),
        ("action_type", "provider", "model", *_AG_KEYS),
        ("s.action_type", "s.provider", "s.model", *_AG_VALS),
        ("x.action_type", "x.provider", "x.model", _AG_READ),
        unpriced=True,
    ),
    # The user alone (migration 0008): user filters and the users' ranking.
    Family("user", "rollup_user", ("user_id",), _US_KEYS, _US_VALS, (_US_READ,), grains=USER_GRAINS),
)
BY_NAME = {fam.name: fam for fam in FAMILIES}
TABLES = [fam.table for fam in FAMILIES]


def family_for(dims: Iterable[str], unpriced: bool = False) -> Family | None:
    """The narrowest rollup family whose key holds dims (source is in every key), and
    that keeps UNPRICED when asked."""
    need = set(dims) - {"source"}
    for fam in FAMILIES:
        if need <= set(fam.dims) and (fam.unpriced or not unpriced):
            return fam
    return None


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class State:
    watermark: int
    version: int
    gaps: tuple[tuple[Any, ...], ...]  # ((lo, hi, seen_at_epoch, pg_xmax | None), ...): missing ids <= watermark
    sealed: int = 0  # epoch seconds: the 8-day blocks that end at or before it are written

    @property
    def tail_ranges(self) -> list[tuple[int, int | None]]:
        """Id ranges read live: beyond the watermark, and every gap (hi None = open)."""
        return [(self.watermark + 1, None)] + [(int(g[0]), int(g[1])) for g in self.gaps]


def read_state(conn: sa.Connection, for_update: bool = False) -> State:
    sql = "SELECT watermark, version, gaps, sealed FROM rollup_state WHERE id = 1"
    if for_update and conn.dialect.name == "postgresql":
        sql += " FOR UPDATE"
    row = conn.execute(sa.text(sql)).one()
    return State(int(row[0]), int(row[1]), tuple(tuple(g) for g in json.loads(row[2] or "[]")), int(row[3]))


def read_version(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT version FROM rollup_state WHERE id = 1")).scalar_one())


def write_state(
    conn: sa.Connection,
    watermark: int,
    version: int,
    gaps: Iterable[Sequence[Any]],
    as_of: datetime | None,
    sealed: int,
) -> None:
    """as_of: the rollups hold every row committed before it (None: they are not caught up; keep the last)."""
    conn.execute(
        sa.text(
            "UPDATE rollup_state SET watermark = :w, version = :v, gaps = :g, sealed = :s,"
            " refreshed_at = COALESCE(:at, refreshed_at) WHERE id = 1"
        ),
        {"w": int(watermark), "v": int(version), "g": json.dumps([list(g) for g in gaps]), "at": as_of, "s": sealed},
    )


def write_as_of(conn: sa.Connection, as_of: datetime) -> None:
    """A refresh that found nothing new: the rollups are current as of as_of (version unchanged)."""
    conn.execute(sa.text("UPDATE rollup_state SET refreshed_at = :at WHERE id = 1"), {"at": as_of})


def _instant(value: Any) -> datetime | None:
    """refreshed_at as an aware instant (PostgreSQL gives a datetime, SQLite its ISO text)."""
    if value is None:
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Lag:
    seconds: float  # 0 when no committed row waits past the watermark; inf if never caught up
    watermark: int
    version: int
    newest_id: int | None
    as_of: datetime | None


def lag(conn: sa.Connection, now: datetime) -> Lag:
    """How far the rollups are behind: 0 when every committed row id is at or below the
    watermark (gaps are read live, not behind), else the seconds since the last instant
    at which they held every committed row."""
    row = conn.execute(
        sa.text(
            "SELECT watermark, version, refreshed_at, (SELECT MAX(id) FROM token_usage_logs) FROM rollup_state"
            " WHERE id = 1"
        )
    ).one()
    wm, version, as_of, top = int(row[0]), int(row[1]), _instant(row[2]), row[3]
    top = None if top is None else int(top)
    if top is None or min(top, LAST_ROLLED_ID) <= wm:
        seconds = 0.0
    elif as_of is None:
        seconds = float("inf")
    else:
        seconds = max(0.0, (now - as_of).total_seconds())
    return Lag(seconds, wm, version, top, as_of)


_AVAILABLE: dict[str, bool | float] = {}  # a cache per database URL, not a switch: True, or when "no" was seen


def available(conn: sa.Connection) -> bool:
    """True when this code's migrations all ran on this database (storage.schema_version; cached:
    yes forever, no for 30 s)."""
    key = conn.engine.url.render_as_string(hide_password=False)
    hit = _AVAILABLE.get(key)
    if hit is True:
        return True
    if hit is not None and time.monotonic() - hit < 30:
        return False
    ok = bool(sa.inspect(conn).has_table("rollup_state")) and at_head(conn)
    _AVAILABLE[key] = True if ok else time.monotonic()
    return ok
