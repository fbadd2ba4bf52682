"""The comparison's glue (contract §3.2, docs/compare.md): a route's frame with its earlier
window's beside it, and the previous* fields of a compared row or point for its typed answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import pandas as pd

import queries
from queries.filters import Filters


class Previous(TypedDict, total=False):
    previous_cost_usd: float
    previous_tokens: int
    previous_executions: int


def previous(r: Mapping[Any, Any]) -> Previous:
    """The previous* fields of a compared row or point (contract §3.2); {} without a comparison."""
    if "previous_cost_usd" not in r:
        return {}
    return {
        "previous_cost_usd": float(r["previous_cost_usd"]),
        "previous_tokens": int(r["previous_tokens"]),
        "previous_executions": int(r["previous_executions"]),
    }


def compared(conn, f: Filters, query, keys: tuple[str, ...] | None, *args, lean: bool = False) -> pd.DataFrame:
    """query(conn, f, *args)'s frame, with the earlier window's figures beside it when f
    compares: rows by key (a key only in the earlier window appended with zeros and a zero
    sparkline), or points by position with keys=None (per action type with groupBy).
    lean: the earlier window is read with detail=False (its totals only: no sparklines or
    percentiles, which nothing beside the current rows shows)."""
    df = query(conn, f, *args)
    before = queries.earlier(f)
    if before is None:
        return df
    earlier_df = query(conn, before, *args, detail=False) if lean else query(conn, before, *args)
    if keys is None:
        return queries.align_points(df, earlier_df, ("action_type",) if "action_type" in df.columns else ())
    return queries.zero_sparklines(queries.beside_rows(df, earlier_df, keys), f)
