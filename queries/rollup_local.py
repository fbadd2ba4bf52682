"""Local days in a plan (pure): whole days from a segment's start off a UTC midnight, as one block each.

rollup_total keeps day blocks at every quarter-hour offset (storage.local_days). Where what is
left of a segment, once its 64-day, 8-day and week blocks are taken, starts on no UTC midnight
and holds a day or more, its whole days from that start are read from the blocks at that
offset (a New York day: one row per source instead of three 6-hour blocks and six hours);
the rest goes on to UTC days and finer grains (queries.rollup_plan.plan_ranges).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from storage import local_days
from storage.measures import QH

IntArray = np.ndarray[Any, np.dtype[np.int64]]
DQ = local_days.DAY // QH  # a day in quarter-hours


def local_day_blocks(
    x: IntArray, y: IntArray, k: IntArray, pieces: dict[int, list[tuple[IntArray, IntArray, IntArray]]]
) -> IntArray:
    """Add to `pieces` (grain code -> [(lo, hi, segment)], quarter-hours) the whole days of each
    interval [x, y) of segment k from x, where x is no UTC midnight; return where each
    interval's rest starts (x itself where none was taken)."""
    n, off = (y - x) // DQ, x % DQ
    use = (n > 0) & (off != 0)
    for o in np.unique(off[use]).tolist():
        m = use & (off == o)
        pieces.setdefault(local_days.grain(o * QH), []).append((x[m], x[m] + n[m] * DQ, k[m]))
    out: IntArray = np.where(use, x + n * DQ, x)
    return out
