"""Day blocks at every quarter-hour offset (migration 0018): a local day off UTC read as one row.

A local day in a zone off UTC is no UTC day: rollup_total read Kathmandu's year of daily
points (the projection, 365 days) as 730 read ranges of ~12 blocks each (its 6-hour blocks,
hours and quarter-hours at each local midnight), 21.5 ms of PostgreSQL on the benchmark,
New York's as 9.1 ms against UTC's 1.7 ms (docs/measurements.md, «a twenty-fourth machine»).
The total family (`Family.local_days`, storage.rollup_tables) therefore also keeps, for each
offset o of the 95 quarter-hours after a UTC midnight, blocks of one day starting at
o + k·DAY, written with its other grains at every refresh (ingest.rollup_write). Each offset
has a grain code of its own, so that one offset's blocks lie together in the primary key
and a read scans no other offset's: the code is negative (like the fold's, it is no size),
-(DAY + o). A day starting on a UTC midnight is the plain DAY grain. Plans take them for
whole local days inside a segment (queries.rollup_plan). ~70k rows per org-year (95
offsets, two or three sources): a table of ~100k rows at 10M raw rows doubles, the smallest.
"""

from __future__ import annotations

DAY, QH = 86400, 900
OFFSETS = tuple(range(QH, DAY, QH))  # seconds after a UTC midnight; 0 is the DAY grain


def grain(offset: int) -> int:
    """The grain code of the day blocks starting `offset` seconds after UTC midnights."""
    assert offset in OFFSETS, offset
    return -(DAY + offset)


def offset_of(g: int) -> int | None:
    """The offset of a local-day grain code, or None for any other grain."""
    o = -g - DAY
    return o if 0 < o < DAY and o % QH == 0 else None


GRAINS = tuple(grain(o) for o in OFFSETS)


def span(g: int) -> int:
    """A grain's block length in seconds: DAY for a local-day code, else the grain itself."""
    return DAY if offset_of(g) is not None else g
