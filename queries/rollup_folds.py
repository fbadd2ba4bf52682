"""Folding (the heatmap, pure): its clock hours repeat every week, so where the UTC offset holds,
rows a week apart share a key (`fold_ranges`), and whole 8-week blocks read a folded family's
fold rows, a week of quarter-hours each (`fold_blocks`; storage.rollup_tables.FOLD_GRAIN).
"""

from __future__ import annotations

from .rollup_plan import NO_FOLD, Range, _ceil

FoldedRange = tuple[int, int, int, int, int, int]  # a Range and its fold period (NO_FOLD: none)


def fold_ranges(ranges: list[Range], stretches: tuple[tuple[int, int], ...], period: int) -> list[FoldedRange]:
    """Let rows `period` seconds apart share a key where the clock reads the same.

    Inside a stretch of constant UTC offset, a segment and the one `period` (a week)
    earlier have the same local weekday and hour: a row's key becomes its segment's
    start moved back by whole periods, to the stretch's first period. A segment that
    began before the offset changed keeps its own key.
    """
    out: list[FoldedRange] = []
    for g, lo, hi, ph, p in ranges:
        if period % p:
            out.append((g, lo, hi, ph, p, NO_FOLD))
            continue
        for S, E in stretches:
            a, b = max(lo, S), min(hi, E)
            if a >= b:
                continue
            s0 = ph + (a - ph) // p * p  # start of the segment holding a
            if s0 < S:
                out.append((g, a, min(b, s0 + p), ph, p, NO_FOLD))
                a = s0 = s0 + p
                if a >= b:
                    continue
            out.append((g, a, b, s0, p, period))
    return out


def fold_blocks(
    ranges: list[FoldedRange], stretches: tuple[tuple[int, int], ...], span: int, grain: int, period: int
) -> list[FoldedRange]:
    """Read whole `span` blocks (epoch-aligned) of a folded question from the fold rows instead.

    A fold row (grain `grain`, storage.rollup_tables.FOLD_GRAIN) at t sums the quarter-hours
    t + k·period of its block: it stands for them all where they share one key, i.e. where
    every range that reads inside the block folds by `period` on one lattice, and the block
    lies in one stretch of constant UTC offset. Such a block's ranges are cut at its edges
    and one range reads the fold rows in between, keyed on the same lattice (its phase the
    lattice's last point at or before the block, still inside the stretch, so every key lies
    before its rows and after the offset last changed). Other blocks stay as planned.
    """
    out = list(ranges)
    for S, E in stretches:
        b0, b1 = _ceil(S, span) * span, E // span * span
        if b0 >= b1:
            continue
        inside = [r for r in out if r[1] < b1 and r[2] > b0]
        if not inside or any(r[5] != period for r in inside):
            continue
        ph0, p = inside[0][3], inside[0][4]
        if any(r[4] != p or (r[3] - ph0) % p for r in inside):
            continue
        ph = ph0 + (b0 - ph0) // p * p
        if ph < S:
            continue
        out = [r for r in out if r not in inside]
        for g, lo, hi, rph, rp, w in inside:  # what each keeps outside the blocks
            if lo < b0:
                out.append((g, lo, b0, rph, rp, w))
            if hi > b1:
                out.append((g, b1, hi, rph, rp, w))
        out.append((grain, b0, b1, ph, p, period))
    return sorted(out, key=lambda r: (r[1], r[0]))
