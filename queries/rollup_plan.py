"""Rollup planning (pure): which blocks of which grain answer a window cut at local bucket starts.

Time: a request's window [A, B) (quarter-hours) is cut at the local bucket boundaries
the figure needs; each segment between two cuts is served by whole UTC days inside
it, then whole 6-hour blocks, whole hours, and quarter-hours at its edges
(`plan_ranges`). Each read range carries a key lattice (phase, period) so that SQL
returns one row per segment — the segment's first quarter-hour, which lies in the same
local bucket as every row it sums — rather than one per block read; the heatmap's
clock hours also fold by week where the UTC offset holds (queries/rollup_folds.py).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from storage.measures import QH
from storage.rollup_tables import DAY, GRAINS, SEALED_GRAIN

IntArray = np.ndarray[Any, np.dtype[np.int64]]
Range = tuple[int, int, int, int, int]  # (grain, lo, hi, phase, period), seconds

MAX_GAP_BLOCKS = 4  # merge two read ranges across at most this many excluded blocks
NO_FOLD = 1 << 62  # the fold period of a range that does not fold
NO_SEAL = 1 << 62  # a seal past every block: every block may be read


def _ceil(a: Any, n: int) -> Any:
    return -((-a) // n)


def plan_ranges(
    A: int,
    B: int,
    cuts: IntArray | None = None,
    by_qh: bool = False,
    grains: tuple[int, ...] = GRAINS,
    sealed: int = NO_SEAL,
) -> list[Range]:
    """Read ranges (grain, lo, hi, phase, period), all in seconds, covering quarter-hours [A, B).

    cuts: quarter-hour indexes where a new bucket starts (by_qh); None with by_qh keeps
    every quarter-hour apart. A row of `grain` at t is read when lo <= t < hi and its
    block fits inside its segment of the lattice phase + k·period; its key is the
    segment's start. Blocks are exactly the decomposition of every segment into whole
    UTC days, then whole 6-hour blocks, whole hours, and quarter-hours. grains: a family's
    own (ascending, each dividing the next, the first a quarter-hour: what no coarser
    grain covers is returned at it; the user family reads those pieces raw). sealed (epoch
    seconds): an 8-day block is read only if it ends at or before it (a later one is not
    written: storage.rollup_tables.SEALED_GRAIN); its days are read instead.
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
    for grain in grains[:0:-1]:
        g = grain // QH
        keep = x < y
        x, y, k = x[keep], y[keep], k[keep]
        a, b = _ceil(x, g) * g, (y // g) * g
        if grain == SEALED_GRAIN:
            b = np.minimum(b, (sealed // QH) // g * g)
        has = a < b
        pieces[grain].append((a[has], b[has], k[has]))
        x, y, k = np.r_[x, np.where(has, b, y)], np.r_[np.where(has, a, y), y], np.r_[k, k]
    pieces[grains[0]] = [(x, y, k)]
    out: list[Range] = []
    seg_len = e - s
    for grain, chunks in pieces.items():
        lo = np.concatenate([c[0] for c in chunks])
        hi = np.concatenate([c[1] for c in chunks])
        k = np.concatenate([c[2] for c in chunks])
        keep = lo < hi
        lo, hi, k = lo[keep], hi[keep], k[keep]
        if not len(lo):
            continue
        order = np.argsort(lo, kind="stable")
        lo, hi, k = lo[order], hi[order], k[order]
        out += _merge(grain // QH, lo, hi, k, s, seg_len)
    return out


def _merge(g: int, lo: IntArray, hi: IntArray, k: IntArray, s: IntArray, seg_len: IntArray) -> list[Range]:
    """Merge consecutive ranges of one grain that share a key lattice (vectorised)."""
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
    last = np.r_[first[1:] - 1, len(lo) - 1]
    return [(g * QH, int(lo[a]) * QH, int(hi[b]) * QH, int(s[k[a]]) * QH, int(p[a]) * QH) for a, b in zip(first, last)]


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


Span = tuple[int, int, int]  # (grain, lo, hi): rollup rows of that grain with lo <= t < hi, seconds


def signed_cover(
    lo: int, hi: int, grains: tuple[int, ...], costs: tuple[float, ...], sealed: int = NO_SEAL
) -> tuple[list[Span], list[Span]]:
    """Whole UTC days [lo, hi) (seconds) as aligned blocks of `grains` (ascending, the first a
    day, each dividing the next) added and taken away: (added, taken), adjacent blocks of a
    grain merged into one span. Sums are exact integers, so a coarse block that overhangs the
    window minus the overhang reads the same totals as the window, from fewer rows when a
    block costs less than the finer blocks it replaces: costs[i] is a block of grains[i]'s
    cost (rows read, relative). E.g. 90 days as one 64-day block plus 3 eight-day blocks and
    2 days minus 1 day, instead of 9 eight-day blocks and 18 days. An 8-day block, added or
    taken away, is used only if it ends at or before `sealed` (epoch seconds; see plan_ranges)."""
    days = tuple(g // DAY for g in grains)
    best = _cover(lo // DAY, hi // DAY, days, tuple(costs), len(days) - 1, sealed // DAY)[1]
    out: tuple[list[Span], list[Span]] = ([], [])
    for sign in (1, -1):
        spans = out[0 if sign == 1 else 1]
        for size, start in sorted((z, s) for z, s, g in best if g == sign):
            a, b = start * DAY, (start + size) * DAY
            if spans and spans[-1][0] == size * DAY and spans[-1][2] == a:
                spans[-1] = (size * DAY, spans[-1][1], b)
            else:
                spans.append((size * DAY, a, b))
    return out


@lru_cache(maxsize=4096)
def _cover(
    a: int, b: int, days: tuple[int, ...], costs: tuple[float, ...], level: int, sealed_day: int
) -> tuple[float, tuple[tuple[int, int, int], ...]]:
    """The cheapest signed blocks (size in days, start day, ±1) summing to days [a, b), with
    blocks of days[: level + 1]; each level's edges may round down or up (the rest taken away
    or added at finer levels). 8-day blocks end at or before sealed_day."""
    size, cost = days[level], costs[level]
    if a >= b:
        return 0.0, ()
    if level == 0:
        return (b - a) * cost, tuple((size, d, 1) for d in range(a, b))
    options = [_cover(a, b, days, costs, level - 1, sealed_day)]
    for left in sorted({a // size * size, -(-a // size) * size}):
        for right in sorted({b // size * size, -(-b // size) * size}):
            if left >= right or (size * DAY == SEALED_GRAIN and right > sealed_day):
                continue
            total = (right - left) // size * cost
            blocks = [(size, d, 1) for d in range(left, right, size)]
            for x, y, sign in (
                (a, left, 1) if a < left else (left, a, -1),
                (right, b, 1) if right < b else (b, right, -1),
            ):
                c, bl = _cover(x, y, days, costs, level - 1, sealed_day)
                total += c
                blocks += [(z, d, g * sign) for z, d, g in bl]
            options.append((total, tuple(blocks)))
    return min(options, key=lambda o: o[0])


def cuts_from_boundaries(boundaries: Any) -> IntArray:
    """Quarter-hour indexes where buckets start: the first quarter-hour at or after each boundary."""
    b = np.asarray(boundaries, dtype="int64")
    out: IntArray = _ceil(b, QH)
    return out
