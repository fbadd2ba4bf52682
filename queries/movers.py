"""«Mayores cambios» (the page's panel beside a comparison, contract §3.2): each key's cost in
the window and in its earlier one, and nothing else — no sparklines, no percentiles, and every
user rather than the two windows' top ranks.

`cost_changes(conn, f, b, dims)`: one row per key of `dims` present in either window, with
`cost_e8` (window f) and `previous_e8` (window b) as exact integers (1e-8 US$), zero where
the key had no row. `biggest(frame, n)` keeps the rows a top-n by change in either direction
needs, ties at the edge included, so the page's exact ordering works on a few rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .base import facts
from .filters import Filters
from .users import user_totals

MISSING = "\x00none"  # a NULL key while the two windows are matched (agent or user: none)


def _costs(conn: sa.Connection, f: Filters, dims: Sequence[str]) -> tuple[pd.Index, np.ndarray]:
    """Every key of window f (an index of dims' values, MISSING for a NULL) and its cost_e8."""
    # Every user of a window: the answer the users' ranking reads too (users.user_totals).
    df = (
        user_totals(conn, f) if tuple(dims) == ("user_id",) else facts(conn, f, dims=tuple(dims), measures=("cost_e8",))
    )
    cols = [df[d].to_numpy(dtype=object, copy=True) for d in dims]  # df may be a shared answer
    for c in cols:
        c[pd.isna(c)] = MISSING
    keys = pd.Index(cols[0], dtype=object) if len(cols) == 1 else pd.MultiIndex.from_arrays(cols)
    return keys, df["cost_e8"].to_numpy(dtype="int64")


def cost_changes(conn: sa.Connection, f: Filters, b: Filters, dims: Sequence[str]) -> pd.DataFrame:
    """dims…, cost_e8, previous_e8: every key of either window (None for a NULL key), in no
    particular order. The two windows' keys are matched through one hash table (factorize)
    and their integers added in place: 8–9 ms of CPU for two windows of 25k users, where an
    outer merge took 21–25 ms (docs/measurements.md, *a thirty-first machine*)."""
    dims = list(dims)
    (ck, cc), (pk, pc) = _costs(conn, f, dims), _costs(conn, b, dims)
    codes, uniques = ck.append(pk).factorize()
    keys = uniques if isinstance(uniques, pd.Index) else pd.Index(uniques)  # a MultiIndex stays one
    cost, previous = np.zeros(len(keys), dtype="int64"), np.zeros(len(keys), dtype="int64")
    np.add.at(cost, codes[: len(ck)], cc)
    np.add.at(previous, codes[len(ck) :], pc)
    out = pd.DataFrame({d: pd.Series(_nulls(keys.get_level_values(i)), dtype=object) for i, d in enumerate(dims)})
    out["cost_e8"], out["previous_e8"] = cost, previous
    return out


def _nulls(values: pd.Index) -> np.ndarray:
    """values as objects, MISSING back to None."""
    out = values.to_numpy(dtype=object, copy=True)
    out[out == MISSING] = None
    return out


def biggest(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The rows among the n largest rises or the n largest falls, every row tied at the edge kept."""
    delta = frame["cost_e8"].to_numpy(dtype="int64") - frame["previous_e8"].to_numpy(dtype="int64")
    keep = np.zeros(len(frame), dtype=bool)
    for side in (delta, -delta):
        moved = side[side > 0]
        if len(moved):
            edge = np.sort(moved)[-n] if len(moved) >= n else moved.min()
            keep |= side >= max(edge, 1)
    return frame[keep].reset_index(drop=True)
