"""Rollup reads: facts() from the rollup tables plus the live tail, equal to raw_facts bucket for bucket.

An answer is the rollups (rows with id <= watermark, minus the gap ranges) plus the
live tail (id > watermark, or inside a gap range) read from token_usage_logs with the
same aggregation, so a committed row counts at once and sums stay exact integers. The
blocks read come from rollup_plan, the statement from rollup_sql; the tables and the state
row from storage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.measures import QH, UNPRICED, measure_names
from storage.rollup_tables import (
    BLOCK_COSTS,
    DAY,
    FOLD_GRAIN,
    FOLD_SPAN,
    GRAINS,
    SEALED_GRAIN,
    WEEK,
    Family,
    State,
    available,
    family_for,
    read_state,
    read_version,
)

from .base import frame, raw_facts, tuples
from .buckets import offset_stretches
from .filters import Filters
from .rollup_folds import fold_blocks, fold_ranges
from .rollup_plan import (
    NO_FOLD,
    Block,
    Negative,
    cuts_from_boundaries,
    day_remainders,
    plan_ranges,
)
from .rollup_signed import NO_SEAL, Span, signed_cover
from .rollup_sql import build_query


def rollup_facts(
    conn: sa.Connection,
    f: Filters,
    dims: Sequence[str] = (),
    by_qh: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    boundaries: Any = None,
    period: int | None = None,
    unpriced: bool = False,
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """facts() from the rollups plus the live tail: equal to raw_facts, bucket for bucket.

    With by_qh, a returned qh may stand for a whole segment between two boundaries
    (sorted UTC epoch seconds of local bucket starts); without boundaries every
    quarter-hour is its own key. period (seconds; the heatmap's week): buckets repeat
    with it, so segments that far apart on the same clock share one key.
    """
    dims = tuple(dims)
    start, end = start or f.start_utc, end or f.read_end_utc

    def raw() -> pd.DataFrame:  # the same question, answered from the raw rows whole
        return raw_facts(
            conn,
            f,
            dims=dims,
            by_qh=by_qh,
            start=start,
            end=end,
            boundaries=boundaries,
            unpriced=unpriced,
            measures=measures,
        )

    # The family must hold the sliced columns too (a user filter: none does, read raw).
    fam = family_for(set(dims) | f.slice_dims, unpriced)
    if fam is None or not available(conn):
        return raw()
    s_epoch, e_epoch = start.timestamp(), end.timestamp()
    A, B = int(-(-s_epoch // QH)), int(e_epoch // QH)
    if B <= A:
        return raw()
    cut_bytes = np.asarray(boundaries, dtype="int64").tobytes() if (by_qh and boundaries is not None) else None
    wa = datetime.fromtimestamp(A * QH, UTC)
    wb = datetime.fromtimestamp(B * QH, UTC)
    edges = [(a, b) for a, b in ((start, wa), (wb, end)) if a < b]
    dialect = conn.dialect.name
    names = measure_names(measures)
    cols = (["qh"] if by_qh else []) + list(dims) + names + (UNPRICED if unpriced else [])
    key = conn.engine.url.render_as_string(hide_password=False)
    state = _STATE.get(key)
    if state is not None and state.watermark == 0:
        state = None  # the first refresh may have happened since: look again
    for _attempt in range(4):
        if state is None:
            state = _STATE[key] = read_state(conn)
        if state.watermark == 0:  # never refreshed: the rollups hold nothing
            return raw()
        # Planned with the state's seal: the blocks it reads are written (a seal read
        # earlier only leaves out blocks that are there; never one that is not).
        ranges, pieces, blocks, negatives, minus, taking = _plan(
            f.timezone,
            A,
            B,
            cut_bytes,
            by_qh,
            int(period or 0),
            fam.grains,
            fam.folded,
            _sealed(fam, state, B),
            SIGNED and bool(fam.key_columns),
            fam.local_days,
        )
        if len(pieces) + len(negatives) > MAX_PIECES:  # sub-day cuts everywhere (a heatmap's hours): raw answers
            return raw()
        sql, params = build_query(
            dialect,
            fam.name,
            dims,
            by_qh,
            ranges,
            state.tail_ranges,
            (wa, wb),
            edges,
            f.source,
            unpriced,
            f,
            pieces=pieces,
            blocks=blocks,
            negatives=negatives,
            minus=minus,
            measures=names,
            taking=taking,
        )
        params["org"] = f.org_id
        rows = tuples(conn.execute(sa.text(sql), params))
        # Rows carry the version their snapshot saw. Another version means the tail was
        # planned with another watermark than the rollups read: read the state, again.
        seen = rows[0][-1] if rows else read_version(conn)
        if seen == state.version:
            # A block minus its rest (or its overhang) can leave a key with no row: none in raw.
            if (negatives or minus or taking) and (by_qh or dims):
                at = cols.index("executions")
                rows = [r for r in rows if r[at] != 0]
            return frame(rows, cols, dims)  # the trailing version column is left out
        state = None
    return raw()


# Sub-day rests read as blocks added and taken away (rollup_plan.plan_ranges, signed) by the
# families keyed by more than the source: a block of rollup_total holds a row per source, and
# there the extra read ranges cost more than the rows they save (docs/rollups.md, «Sub-day
# rests added and taken away»).
SIGNED = True

# A family without quarter-hours (user) reads at most this many sub-day pieces raw; past
# it (cuts inside most days: hourly buckets, the heatmap's hours) the raw rows answer whole.
MAX_PIECES = 400


# (ranges, raw pieces, day blocks, negatives, rollup spans taken away, whether a range takes blocks away)
Plan = tuple[
    tuple[tuple[int, ...], ...],
    tuple[tuple[int, int], ...],
    tuple[Block, ...],
    tuple[Negative, ...],
    tuple[Span, ...],
    bool,
]


def _sealed(fam: Family, state: State, B: int) -> int:
    """The seal a plan takes: the state's, or NO_SEAL when it holds back none of the blocks the
    plan may read (the family has no 8-day blocks, or the window's end rounded up to its
    coarsest block, which a block read minus its overhang may reach, is sealed; a week block
    read for a local week ends by the UTC midnight after it: rollup_signed.week_blocks), so
    that plans stay shared across seals."""
    top = fam.grains[-1]
    if SEALED_GRAIN not in fam.grains or -(-(B * QH) // top) * top <= state.sealed:
        return NO_SEAL
    return state.sealed


class CutKey:
    """Bucket cuts as a plan cache key: equal by digest, holding the cuts only until _planned
    drops them. Keyed by the bytes, the cache kept them all: ~7 MB per worker after a load
    test of distinct questions, up to ~35 MB (512 years of Kathmandu's days, ~70 KB each)."""

    __slots__ = ("data", "digest")

    def __init__(self, data: bytes) -> None:
        self.data: bytes | None = data
        self.digest = hashlib.blake2b(data, digest_size=16).digest()

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CutKey) and other.digest == self.digest


def _plan(tz_name: str, A: int, B: int, cut_bytes: bytes | None, by_qh: bool, period: int, *rest: Any) -> Plan:
    """_planned(tz_name, A, B, cuts, by_qh, period, grains, folded, sealed, signed, local), the
    cuts (int64 boundaries as bytes, or None) keyed by their digest."""
    key = None if cut_bytes is None else CutKey(cut_bytes)
    return _planned(tz_name, A, B, key, by_qh, period, *rest)


@lru_cache(maxsize=512)
def _planned(
    tz_name: str,
    A: int,
    B: int,
    cut_key: CutKey | None,
    by_qh: bool,
    period: int,
    grains: tuple[int, ...] = GRAINS,
    folded: bool = False,
    sealed: int = NO_SEAL,
    signed: bool = False,
    local: bool = False,
) -> Plan:
    """The read ranges of one (zone, window, bucket cuts, fold period, family grains); for a
    family without quarter-hours, what its grains do not cover: raw pieces [a, b) (epoch
    seconds, keyed by quarter-hour), and days read whole minus their raw rest counted negative
    (rollup_plan.day_remainders); for a family with blocks coarser than a day, read without
    time keys (the users' totals), rollup spans taken away (rollup_signed.signed_cover); for a
    folded family (folded: it keeps FOLD_GRAIN rows) and a weekly period, whole 8-week blocks
    read from the fold rows (rollup_folds.fold_blocks); no 8-day block that ends after
    `sealed` (epoch seconds: it is not written yet, storage.rollup_tables.SEALED_GRAIN); signed:
    the sub-day rests of segments as blocks added and taken away (a family with quarter-hours,
    no fold: rollup_plan.plan_ranges). Pure, so planned once per question shape and shared."""
    cuts = None
    if cut_key is not None:  # the cache keeps the key: its digest, not the cuts
        data, cut_key.data = cut_key.data, None
        if data is None:
            raise ValueError("a plan key whose cuts were dropped (only the cache holds those)")
        cuts = cuts_from_boundaries(np.frombuffer(data, dtype="int64"))
    signed = signed and grains[0] == QH and not period
    local = local and not period and grains[0] == QH  # whole local days (storage.local_days)
    planned = plan_ranges(A, B, cuts, by_qh, grains if grains[0] == QH else (QH, *grains), sealed, signed, local)
    pieces: tuple[tuple[int, int], ...] = ()
    blocks: tuple[Block, ...] = ()
    negatives: tuple[Negative, ...] = ()
    if grains[0] != QH:  # the quarter-hour ranges: no lattice in raw reads, whose keys are quarter-hours
        qh = [r for r in planned if r[0] == QH]
        # Folded keys (the heatmap's weeks) stay on raw pieces: its clock hours are never long parts.
        p, b, n = day_remainders(qh, DAY in grains and not period)
        pieces, blocks, negatives = tuple(p), tuple(b), tuple(n)
        planned = [r for r in planned if r[0] != QH]
    if period and cuts is not None:
        stretches = offset_stretches(tz_name, A, B)
        folds = fold_ranges(planned, stretches, period)
        if folded and WEEK % period == 0 and grains[0] == QH:
            folds = fold_blocks(folds, stretches, FOLD_SPAN, FOLD_GRAIN, period)
        return tuple(folds), pieces, blocks, negatives, (), False
    if not by_qh and grains[-1] > DAY and grains[0] == DAY:
        return _signed(planned, pieces, blocks, negatives, grains, sealed)
    taking = any(len(r) > 8 and r[8] < 0 for r in planned)  # rollup_plan.full_range: the sign
    return tuple(planned), pieces, blocks, negatives, (), taking


def _signed(
    planned: Sequence[tuple[int, ...]],
    pieces: tuple[tuple[int, int], ...],
    blocks: tuple[Block, ...],
    negatives: tuple[Negative, ...],
    grains: tuple[int, ...],
    sealed: int,
) -> Plan:
    """A totals read (one segment, no time key) of a family with coarse blocks: its whole days
    (the ranges and the 1-day blocks of day_remainders, one run of days) as the cheapest
    blocks added and taken away; what is not a whole day stays as planned."""
    days = sorted([(r[1], r[2]) for r in planned] + [(d, d + DAY) for d, _k in blocks])
    if not days or any(b != a2 for (_a, b), (a2, _b) in pairwise(days)):
        return tuple(planned), pieces, blocks, negatives, (), False  # not one run of days: as planned
    added, taken = signed_cover(days[0][0], days[-1][1], grains, tuple(BLOCK_COSTS[g] for g in grains), sealed)
    ranges = tuple((g, lo, hi, lo, NO_FOLD) for g, lo, hi in added)  # no key, no lattice: every block read
    return ranges, pieces, (), negatives, tuple(taken), False


# The last state read per database: most requests plan with it and never re-read it.
_STATE: dict[str, State] = {}
