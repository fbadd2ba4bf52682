"""What a read plan must key each quarter-hour by: the start of its segment."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable


def segment_starts(a: int, b: int, cuts: Iterable[int] | None) -> list[int]:
    """The segments' first quarter-hours in [a, b): a, then every cut inside, sorted."""
    return sorted({a} | {c for c in (cuts if cuts is not None else ()) if a < c < b})


def segment_of(starts: list[int], q: int) -> int:
    """The last start at or before q (starts sorted, starts[0] <= q): a bisection, where
    `max(s for s in starts if s <= q)` made the plan tests quadratic in the cuts."""
    return starts[bisect_right(starts, q) - 1]
