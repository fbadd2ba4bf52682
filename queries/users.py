"""Users (contract §3.3): the top users by cost, with a cost sparkline each, and the rest as one «otros» row."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .base import bucket_cuts, facts, with_derived
from .filters import NONE, Filters
from .sparklines import cost_sparklines

DEFAULT_LIMIT, MAX_LIMIT = 50, 1000
COLUMNS = ["user_id", "cost_usd", "cost_e8", "tokens", "executions", "sparkline", "sparkline_partial_last"]


@dataclass(frozen=True)
class Users:
    """users: the top `limit` users (user_id None for rows without a user), by cost, then
    executions descending, then user_id (the row without a user last among ties):
    user_id, cost_usd, cost_e8, tokens, executions, sparkline (cost per bucket up to now),
    sparkline_partial_last. total_users: distinct users of the window (rows without one
    count as one). others: cost_usd, cost_e8, tokens, executions of the users past the
    limit (zeros when none), so that users + others add up to the window's totals."""

    users: pd.DataFrame
    total_users: int
    others: dict[str, Any]


def by_user(conn: sa.Connection, f: Filters, limit: int = DEFAULT_LIMIT) -> Users:
    """The window's users, ranked; sparklines are read for the top `limit` only (a window
    can hold tens of thousands of users)."""
    totals = with_derived(facts(conn, f, dims=("user_id",)))
    if not len(totals):
        return Users(pd.DataFrame(columns=COLUMNS), 0, _sums(totals))
    totals["_none"] = totals["user_id"].isna()
    totals["_id"] = totals["user_id"].fillna("")
    ranked = totals.sort_values(
        ["cost_e8", "executions", "_none", "_id"], ascending=[False, False, True, True], kind="stable"
    ).reset_index(drop=True)
    top, rest = ranked.iloc[:limit], ranked.iloc[limit:]
    ids = [NONE if u is None else u for u in top["user_id"]]
    qh = facts(
        conn, replace(f, user_ids=tuple(sorted(set(ids)))), dims=("user_id",), by_qh=True, boundaries=bucket_cuts(f)
    )
    index = {u: i for i, u in enumerate(top["user_id"])}
    k = np.array([index[u] for u in qh["user_id"]], dtype="int64")
    spark, partial_last = cost_sparklines(f, qh["qh"].to_numpy(), k, qh["cost_e8"].to_numpy(), len(top))
    users = pd.DataFrame(
        {
            # None, never NaN, for the rows without a user (pandas 3 infers a string dtype from a list).
            "user_id": pd.Series([None if pd.isna(u) else u for u in top["user_id"]], dtype="object"),
            "cost_usd": top["cost_e8"].to_numpy() / 1e8,
            "cost_e8": top["cost_e8"].to_numpy(dtype="int64"),
            "tokens": top["tokens"].to_numpy(dtype="int64"),
            "executions": top["executions"].to_numpy(dtype="int64"),
            "sparkline": [[float(v) / 1e8 for v in row] for row in spark.tolist()],
            "sparkline_partial_last": partial_last,
        },
        columns=COLUMNS,
    )
    return Users(users, len(ranked), _sums(rest))


def _sums(df: pd.DataFrame) -> dict[str, Any]:
    cost = int(df["cost_e8"].sum()) if len(df) else 0
    return {
        "cost_usd": cost / 1e8,
        "cost_e8": cost,
        "tokens": int(df["tokens"].sum()) if len(df) else 0,
        "executions": int(df["executions"].sum()) if len(df) else 0,
    }
