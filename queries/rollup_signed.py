"""Signed covers (pure): a span of time as aligned blocks added and taken away.

Sums are exact integers, so a block that overhangs a span minus the overhang reads the same
totals as the span, from fewer rows when it replaces several finer blocks. Two covers:
whole UTC days as days and 8- and 64-day blocks, for a totals read (signed_cover: 90 days as
one 64-day block plus 3 eight-day blocks and 2 days minus 1 day); and the sub-day rest of a
local bucket as quarter-hours, hours, 6-hour blocks and a day (sub_day_blocks: New York's
[05:00, 24:00) as the UTC day minus its first 6 hours plus 05:00–06:00). And a local week as
the UTC Monday-to-Monday week block nearest it, plus and minus the sub-day spans between the
two (week_blocks: New York's week, Monday 05:00 UTC to Monday 05:00 UTC, as the week block
minus Monday 00:00–05:00 plus the next Monday's 00:00–05:00: 1 block and 4 sub-day blocks
instead of 6 days and the rests).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from storage.measures import QH
from storage.rollup_tables import DAY, SEALED_GRAIN, WEEK, WEEK_START

IntArray = np.ndarray[Any, np.dtype[np.int64]]
NO_SEAL = 1 << 62  # a seal past every block: every block may be read

# A sub-day rest's blocks, relative cost of reading one: its rows (on the 10M-row benchmark's
# agent family a quarter-hour holds ~0.5 of a day's keys, an hour ~0.7, 6 hours ~0.9) plus
# the read itself (a block outside its segment is a read range of its own). These weights
# make the choices measured in docs/rollups.md, «Sub-day rests added and taken away».
SUB_COSTS = {QH: 1.0, 3600: 1.0, 6 * 3600: 1.1, DAY: 1.3}


def sub_day_blocks(x: IntArray, y: IntArray, k: IntArray, sub: tuple[int, ...]) -> tuple[IntArray, ...]:
    """The cheapest signed blocks of `sub` (seconds, ascending, a quarter-hour to a day) summing
    to each span [x, y) (quarter-hours, shorter than two days), tagged with its k: arrays
    (size, start, sign, k), in quarter-hours. A span's cover depends only on where it starts
    in its UTC day and its length, so each such shape is covered once (_sub_cover)."""
    dq = DAY // QH
    base = x // dq * dq
    # A shape as one integer (its start in the day, its length < 2 days = 192 quarter-hours):
    # np.unique of a column of pairs sorts rows as structured data, several times slower.
    if len(x) and int((y - x).max()) >= 1024:
        raise ValueError("a sub-day rest of more than 1,024 quarter-hours")
    shape = (x - base) * 1024 + (y - x)
    uniq, inv = np.unique(shape, return_inverse=True)
    gq = tuple(g // QH for g in sub)
    costs = tuple(SUB_COSTS[g] for g in sub)
    parts: list[tuple[IntArray, ...]] = []
    for i, code in enumerate(uniq.tolist()):
        r0, n = divmod(code, 1024)
        at = np.flatnonzero(inv == i)
        for size, q, sign in _sub_cover(r0, r0 + n, gq, costs, len(gq) - 1)[1]:
            parts.append((np.full(len(at), size), base[at] + q, np.full(len(at), sign), k[at]))
    if not parts:
        empty = np.zeros(0, dtype="int64")
        return empty, empty, empty, empty
    return tuple(np.concatenate(c).astype("int64") for c in zip(*parts))


# A segment this close to a week's length (quarter-hours: a DST change moves an hour) is a
# local week, and a week block this close to its start (under a day) can stand for it.
WEEK_SLACK_QH = 8


def week_blocks(
    s: IntArray, e: IntArray, k: IntArray, sub: tuple[int, ...], sealed: int
) -> tuple[IntArray, tuple[IntArray, ...]]:
    """(covered, (size, start, sign, k)): the segments [s, e) (quarter-hours) that are local weeks
    and have a written week block starting less than a day from them (it ends at or before
    `sealed`, epoch seconds), each as that block (+1) plus what the segment has outside it and
    minus what the block has outside the segment (sub-day spans, as sub_day_blocks' cheapest
    blocks of `sub`). covered: a boolean per segment; the blocks, in quarter-hours, tagged with
    the segment's k. Sums are exact integers: block − overhang + rest = the segment."""
    w, o, dq = WEEK // QH, WEEK_START // QH, DAY // QH
    w0 = (s - o + w // 2) // w * w + o  # the week block whose start is nearest the segment's
    covered = (np.abs(e - s - w) <= WEEK_SLACK_QH) & (np.abs(w0 - s) < dq) & (w0 + w <= sealed // QH)
    # Nor past the UTC midnight after the segment's end (true of every zone, ±14 h): the reader
    # lifts the seal when the window's end rounded up to a 64-day block is sealed
    # (rollup_read._sealed), so no block read may end later than that.
    covered &= w0 + w <= -(-e // dq) * dq
    s, e, k, w0 = s[covered], e[covered], k[covered], w0[covered]
    w1 = w0 + w
    parts = [(np.full(len(s), w), w0, np.ones(len(s), dtype="int64"), k)]
    for x, y, sign in ((s, w0, 1), (w1, e, 1), (w0, s, -1), (e, w1, -1)):  # rests +, overhangs -
        m = x < y
        if m.any():
            size, start, sg, kk = sub_day_blocks(x[m], y[m], k[m], sub)
            parts.append((size, start, sg * sign, kk))
    return covered, tuple(np.concatenate(c).astype("int64") for c in zip(*parts))


Cover = tuple[float, tuple[tuple[int, int, int], ...]]  # (cost, blocks (size, start, ±1))


def _best(
    a: int,
    b: int,
    sizes: tuple[int, ...],
    costs: tuple[float, ...],
    level: int,
    recurse: Callable[[int, int, int], Cover],
    allowed: Callable[[int, int], bool] = lambda _size, _right: True,
) -> Cover:
    """The cheapest signed blocks (size, start, ±1) summing to [a, b) (whole units: days, or
    quarter-hours), with blocks of sizes[: level + 1] (ascending, the first one unit, each
    dividing the next): each level's edges may round down or up, the rest added or taken away
    at finer levels, through `recurse` (the caller's memoized self). allowed(size, right): may
    a run of that size's blocks end at `right` (the seal). On a tie, the first option: finer
    blocks, fewer kinds of block."""
    if a >= b:
        return 0.0, ()
    size, cost = sizes[level], costs[level]
    if level == 0:
        return (b - a) // size * cost, tuple((size, q, 1) for q in range(a, b, size))
    options = [recurse(a, b, level - 1)]
    for left in sorted({a // size * size, -(-a // size) * size}):
        for right in sorted({b // size * size, -(-b // size) * size}):
            if left >= right or not allowed(size, right):
                continue
            total = (right - left) // size * cost
            blocks = [(size, q, 1) for q in range(left, right, size)]
            for x, y, sign in (
                (a, left, 1) if a < left else (left, a, -1),
                (right, b, 1) if right < b else (b, right, -1),
            ):
                c, bl = recurse(x, y, level - 1)
                total += c
                blocks += [(z, q, g * sign) for z, q, g in bl]
            options.append((total, tuple(blocks)))
    return min(options, key=lambda o: o[0])


@lru_cache(maxsize=65536)
def _sub_cover(a: int, b: int, gq: tuple[int, ...], costs: tuple[float, ...], level: int) -> Cover:
    """_best in quarter-hours from a UTC midnight, with blocks of gq (a quarter-hour to a day)."""
    return _best(a, b, gq, costs, level, lambda x, y, lv: _sub_cover(x, y, gq, costs, lv))


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
def _cover(a: int, b: int, days: tuple[int, ...], costs: tuple[float, ...], level: int, sealed_day: int) -> Cover:
    """_best in days, with blocks of `days` (1, 8, 64); 8-day blocks end at or before sealed_day."""
    return _best(
        a,
        b,
        days,
        costs,
        level,
        lambda x, y, lv: _cover(x, y, days, costs, lv, sealed_day),
        lambda size, right: size * DAY != SEALED_GRAIN or right <= sealed_day,
    )
