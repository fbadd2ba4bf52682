"""Rollup planning (pure): which blocks of which grain answer a window cut at local bucket starts.

Time: a request's window [A, B) (quarter-hours) is cut at the local bucket boundaries
the figure needs; each segment between two cuts is served by whole UTC days inside
it, then whole 6-hour blocks, whole hours, and quarter-hours at its edges
(`plan_ranges`), or, for a family keyed by more than the source, by blocks added and
taken away at those edges (signed: queries/rollup_signed.py). Each read range carries a key
lattice (phase, period) so that SQL returns one row per segment — the segment's first
quarter-hour, which lies in the same local bucket as every row it sums — rather than one
per block read (`blocks_of` states what SQL reads of a range); the heatmap's clock hours
also fold by week where the UTC offset holds (queries/rollup_folds.py). The total family's
whole local days off UTC come as one block each (queries/rollup_local.py, `local`).

Over 300 lines: plan_ranges and the helpers its arrays pass through (_residues, _place,
_merge, blocks_of that states what SQL reads) are one pipeline, read best together.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from storage.local_days import span
from storage.measures import QH
from storage.rollup_tables import DAY, GRAINS, SEALED_GRAINS, WEEK, align

from .rollup_local import local_day_blocks
from .rollup_signed import NO_SEAL, SUB_COSTS, sub_day_blocks, week_blocks

IntArray = np.ndarray[Any, np.dtype[np.int64]]
Range = tuple[int, ...]  # (grain, lo, hi, phase, period[, fold, shift, fit, sign]), seconds

MAX_GAP_BLOCKS = 4  # merge two read ranges across at most this many excluded blocks
NO_FOLD = 1 << 62  # the fold period of a range that does not fold


def _ceil(a: Any, n: int) -> Any:
    return -((-a) // n)


def plan_ranges(
    A: int,
    B: int,
    cuts: IntArray | None = None,
    by_qh: bool = False,
    grains: tuple[int, ...] = GRAINS,
    sealed: int = NO_SEAL,
    signed: bool = False,
    local: bool = False,
) -> list[Range]:
    """Read ranges (grain, lo, hi, phase, period[, fold, shift, fit, sign]), all in seconds,
    covering quarter-hours [A, B).

    cuts: quarter-hour indexes where a new bucket starts (by_qh); None with by_qh keeps
    every quarter-hour apart. A row of `grain` at t is read when lo <= t < hi and its
    block fits inside its segment of the lattice phase + k·period; its key is the
    segment's start. Blocks are exactly the decomposition of every segment into its
    family's coarsest whole blocks first (64 days, 8 days, Monday-aligned weeks: each taken
    inside what the coarser ones left), then whole UTC days, 6-hour blocks, hours, and
    quarter-hours. grains: a family's own (ascending, each dividing the next but the week,
    whose blocks start at storage.rollup_tables.ALIGN; the first a quarter-hour: what no
    coarser grain covers is returned at it; the user family reads those pieces raw). sealed
    (epoch seconds): a week or 8-day block is read only if it ends at or before it (a later
    one is not written: storage.rollup_tables.SEALED_GRAINS); finer blocks are read instead.

    signed (a family with sub-day grains up to a day): what whole days leave of a segment of
    a day or more (less than a day at each edge, or all of it if it holds no whole UTC day)
    is read as the cheapest blocks added and taken away (rollup_signed.sub_day_blocks):
    New York's local day [05:00, 05:00)
    as the UTC day, minus its first 6 hours, plus 05:00–06:00, plus the next day's first 6
    hours minus its 05:00–06:00 — 5 blocks instead of 9; Kathmandu's 12 → 5. A block that
    overhangs its segment, or is taken away, comes as a range of its own kind (shift, fit,
    sign): see blocks_of, which states what SQL reads of every range.

    local (rollup_total: storage.local_days): before UTC days, what the coarse blocks leave of a
    segment, if it starts on no UTC midnight, takes its whole days from that start as blocks
    at that offset (queries/rollup_local.py).
    """
    if B <= A:
        return []
    if not by_qh:
        s, e = np.array([A], dtype="int64"), np.array([B], dtype="int64")
    elif cuts is None:
        return [(QH, A * QH, B * QH, A * QH, QH)]
    else:
        c = np.unique(np.asarray(cuts, dtype="int64"))
        c = c[(c > A) & (c < B)]
        s = np.concatenate([[A], c]).astype("int64")
        e = np.concatenate([c, [B]]).astype("int64")
    seg = np.arange(len(s))
    pieces: dict[int, list[tuple[IntArray, IntArray, IntArray]]] = {g: [] for g in grains}
    # Coarsest grain first: whole blocks inside each part, the two leftovers (before and
    # after them) go down a grain, all parts of a grain as one set of arrays.
    x, y, k = s, e, seg
    seg_len = e - s
    sub = tuple(g for g in grains if g <= DAY) if signed else ()
    if signed and (DAY not in sub or any(g not in SUB_COSTS for g in sub)):
        raise ValueError(f"signed plans need sub-day grains up to a day: {grains}")
    residues: list[Range] | None = None if signed else []
    weekly = None  # signed, with week blocks: local weeks as a week block ± sub-day spans
    if signed and WEEK in grains and len(s):
        covered, weekly = week_blocks(s, e, seg, sub, sealed)
        x, y, k = s[~covered], e[~covered], seg[~covered]
    for grain in grains[:0:-1]:
        keep = x < y
        x, y, k = x[keep], y[keep], k[keep]
        if local and grain == DAY:  # whole local days off UTC midnights (queries/rollup_local.py)
            x = local_day_blocks(x, y, k, pieces)
        if residues is None and grain < DAY:  # the rests of segments of a day or more: signed
            long = seg_len[k] >= DAY // QH
            residues = _residues(x[long], y[long], k[long], s, e, sub, pieces)
            x, y, k = x[~long], y[~long], k[~long]
        g, o = grain // QH, align(grain) // QH  # blocks start at o + k·g (week blocks: Mondays)
        a, b = _ceil(x - o, g) * g + o, ((y - o) // g) * g + o
        if grain in SEALED_GRAINS:
            b = np.minimum(b, ((sealed // QH) - o) // g * g + o)
        has = a < b
        pieces[grain].append((a[has], b[has], k[has]))
        # np.concatenate, not np.r_: ~2 µs less each, 18 per plan, every distinct window
        x, y, k = (
            np.concatenate((x, np.where(has, b, y))),
            np.concatenate((np.where(has, a, y), y)),
            np.concatenate((k, k)),
        )
    if residues is None:  # no grain between a quarter-hour and a day
        keep = (x < y) & (seg_len[k] >= DAY // QH)
        residues = _residues(x[keep], y[keep], k[keep], s, e, sub, pieces)
        x, y, k = x[~keep], y[~keep], k[~keep]
    if weekly is not None:
        wg, wt, wsign, wk = weekly
        residues += _place(wg, wt, wsign, wk, s, e, pieces)
    pieces[grains[0]].append((x, y, k))
    out: list[Range] = []
    for grain, chunks in pieces.items():
        if not chunks:
            continue
        lo = np.concatenate([c[0] for c in chunks])
        hi = np.concatenate([c[1] for c in chunks])
        k = np.concatenate([c[2] for c in chunks])
        keep = lo < hi
        lo, hi, k = lo[keep], hi[keep], k[keep]
        if not len(lo):
            continue
        order = np.argsort(lo, kind="stable")
        lo, hi, k = lo[order], hi[order], k[order]
        out += _merge(grain, lo, hi, k, s, seg_len)
    return out + residues


def _residues(
    x: IntArray,
    y: IntArray,
    k: IntArray,
    s: IntArray,
    e: IntArray,
    sub: tuple[int, ...],
    pieces: dict[int, list[tuple[IntArray, IntArray, IntArray]]],
) -> list[Range]:
    """The sub-day rests [x, y) of segments k (quarter-hours; each shorter than two days,
    holding no whole UTC day) as signed blocks of `sub`: those added inside their segment
    join `pieces` (read like any other, merged by the lattice); the others — a block that
    overhangs its segment, or one taken away — become residue ranges: one block per segment
    at a fixed shift from the segment's start, runs of consecutive equal segments merged
    (rollup_signed.sub_day_blocks chooses the blocks)."""
    g, t, sign, kk = sub_day_blocks(x, y, k, sub)
    return _place(g, t, sign, kk, s, e, pieces)


def _place(
    g: IntArray,
    t: IntArray,
    sign: IntArray,
    kk: IntArray,
    s: IntArray,
    e: IntArray,
    pieces: dict[int, list[tuple[IntArray, IntArray, IntArray]]],
) -> list[Range]:
    """Signed blocks (size, start, sign, segment; quarter-hours) as reads: those added inside
    their segment join `pieces`, the others become residue ranges (see _residues)."""
    if not len(g):
        return []
    inside = (sign == 1) & (t >= s[kk]) & (t + g <= e[kk])
    for grain in np.unique(g[inside]).tolist():
        m = inside & (g == grain)
        pieces[grain * QH].append((t[m], t[m] + grain, kk[m]))
    g, t, sign, kk = g[~inside], t[~inside], sign[~inside], kk[~inside]
    if not len(g):
        return []
    d, p = s[kk] - t, e[kk] - s[kk]
    order = np.lexsort((t, p, d, sign, g))
    g, t, sign, kk, d, p = (a[order] for a in (g, t, sign, kk, d, p))
    # A run: the same kind of block in consecutive segments of one length, back to back.
    same = (g[1:] == g[:-1]) & (sign[1:] == sign[:-1]) & (d[1:] == d[:-1]) & (p[1:] == p[:-1])
    same &= (kk[1:] == kk[:-1] + 1) & (t[1:] == t[:-1] + g[:-1])
    first = np.flatnonzero(np.concatenate(([True], ~same)))
    last = np.append(first[1:] - 1, len(g) - 1)
    # (grain, lo, hi, phase, period, fold, shift, fit = period, sign) per run: rollup_plan.full_range
    cols = (g[first], t[first], t[last] + g[last], s[kk[first]], p[first], np.full(len(first), NO_FOLD // QH))
    rows = np.stack((*cols, d[first], p[first]), axis=1) * QH
    return [(*row, int(sg)) for row, sg in zip(map(tuple, rows.tolist()), sign[first].tolist())]


def full_range(r: Range) -> tuple[int, ...]:
    """A range with all nine values (grain, lo, hi, phase, period, fold, shift, fit, sign):
    a plain one folds never, has no shift, fits its grain and counts once."""
    return (*r, *(NO_FOLD, 0, span(r[0]), 1)[len(r) - 5 :])


def blocks_of(r: Range) -> list[tuple[int, int, int]]:
    """What SQL reads of a range (queries/rollup_sql.py), as (block start, key, sign): the
    blocks of its grain at lo <= t < hi with ((t + shift - phase) % period) + fit <= period,
    keyed phase + ((t + shift - phase) % fold) // period * period, counted `sign` times.
    A plain range (five values) has no shift, fit = its grain's span (the block fits inside its
    segment; a local-day code's is a day, storage.local_days) and sign 1; a residue range has
    fit = period (exactly one block per segment)."""
    code, lo, hi, ph, p, w, d, fit, sign = full_range(r)
    g, o = span(code), align(code)
    out = []
    for t in range(-(-(lo - o) // g) * g + o, hi, g):
        if (t + d - ph) % p + fit <= p:
            out.append((t, ph + (t + d - ph) % w // p * p, sign))
    return out


def _merge(code: int, lo: IntArray, hi: IntArray, k: IntArray, s: IntArray, seg_len: IntArray) -> list[Range]:
    """Merge consecutive ranges of one grain that share a key lattice (vectorised)."""
    g = span(code) // QH
    p = seg_len[k]
    ok = np.zeros(len(lo), dtype=bool)
    if len(lo) > 1:
        gap = lo[1:] - hi[:-1]
        same = (p[1:] == p[:-1]) & ((k[1:] - k[:-1]) <= 1) & (gap >= 0) & (gap <= MAX_GAP_BLOCKS * g)
        # Blocks of this grain inside the gap must not fit their segment (else the
        # lattice predicate would read them too): they straddle a cut, and are served
        # by finer grains.
        phase = s[k[:-1]]
        for j in range(MAX_GAP_BLOCKS):
            tb = hi[:-1] + j * g
            inside = tb < lo[1:]
            fits = ((tb - phase) % p[:-1]) + g <= p[:-1]
            same &= ~(inside & fits)
        ok[1:] = same
    first = np.flatnonzero(~ok)
    last = np.append(first[1:] - 1, len(lo) - 1)
    return [(code, int(lo[a]) * QH, int(hi[b]) * QH, int(s[k[a]]) * QH, int(p[a]) * QH) for a, b in zip(first, last)]


Piece = tuple[int, int]  # [a, b) epoch seconds read raw, each row keyed by its quarter-hour
Block = tuple[int, int]  # (UTC day start, key): that day's 1-day block, every row keyed `key`
# (a, b, key, twin): raw rows of [a, b), counted negative, keyed `key`; twin = 1: the same
# rows are also a piece (read once, counted twice: keyed by their quarter-hour, and negative).
Negative = tuple[int, int, int, int]


def day_remainders(ranges: list[Range], has_day: bool) -> tuple[list[Piece], list[Block], list[Negative]]:
    """What a family without sub-day grains (the user family) reads of its quarter-hour
    ranges (a window's sub-day rest): raw pieces, and whole days minus their rest.

    Each range is cut at UTC midnights and at its segments' starts (phase + k·period). A part
    longer than half a UTC day is read as that day's 1-day block, keyed to the part's segment
    (its first quarter-hour), minus the raw rows of the rest of the day counted negative and
    keyed the same: sums are exact integers, so block − rest = the part, and the raw rows read
    are the day's short rest instead of its long part (Madrid's local days start at 23:00 UTC:
    an hour of raw rows per day instead of 23). Shorter parts stay raw pieces (adjacent ones
    merged). Without a 1-day grain, or with segments of at most half a day (hourly buckets,
    quarter-hours), every range stays one raw piece, as before. A piece that is exactly the
    rest of a day's block leaves the pieces and marks that negative its twin: its raw rows
    are read once and counted both ways (the piece's own keys, and negative).
    """
    pieces: list[Piece] = []
    blocks: list[Block] = []
    negatives: list[Negative] = []
    for _g, lo, hi, ph, p in ranges:
        if not has_day or p <= DAY // 2:
            pieces.append((lo, hi))
            continue
        cuts = {lo, hi, *range(_ceil(lo, DAY) * DAY, hi, DAY), *range(ph + _ceil(lo - ph, p) * p, hi, p)}
        for a, b in pairwise(sorted(cuts)):
            if b - a > DAY // 2:
                day, key = a // DAY * DAY, (ph + (a - ph) // p * p) // QH
                blocks.append((day, key))
                negatives += [(x, y, key, 0) for x, y in ((day, a), (b, day + DAY)) if x < y]
            elif pieces and pieces[-1][1] == a:
                pieces[-1] = (pieces[-1][0], b)
            else:
                pieces.append((a, b))
    return _twins(pieces, blocks, negatives)


def _twins(
    pieces: list[Piece], blocks: list[Block], negatives: list[Negative]
) -> tuple[list[Piece], list[Block], list[Negative]]:
    """A piece that is exactly a negative's span (the rest of a UTC day past a local midnight:
    Madrid's 23:00–24:00, New York's 00:00–05:00) is read once, as that negative's twin."""
    spans = {(a, b) for a, b, _k, _t in negatives}
    twins = [p for p in pieces if p in spans]
    if not twins:
        return pieces, blocks, negatives
    both = set(twins)
    return (
        [p for p in pieces if p not in both],
        blocks,
        [(a, b, k, int((a, b) in both)) for a, b, k, _t in negatives],
    )


def cuts_from_boundaries(boundaries: Any) -> IntArray:
    """Quarter-hour indexes where buckets start: the first quarter-hour at or after each boundary."""
    b = np.asarray(boundaries, dtype="int64")
    out: IntArray = _ceil(b, QH)
    return out
