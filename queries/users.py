"""Users (contract §3.3): the top users by cost, with a cost sparkline each, and the rest as one «otros» row.

With a comparison (contract §3.2, docs/compare.md), `by_user_compared`: the ranking and
the limit are the current window's; each listed user gains its earlier totals (whatever
its earlier rank); users with usage only in the earlier window that are among the earlier
window's top `limit` are appended after, with zeros; `others` gains the earlier totals of
everyone not listed, so that current and previous figures each add up to their window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.rollup_tables import family_for
from storage.schema import COST_SCALE

from . import freshness, slice_rows
from .base import DERIVED_FROM, facts, reads_rollups, with_derived
from .buckets import bucket_cuts
from .compare import beside_rows, earlier, zero_sparklines
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


def user_totals(conn: sa.Connection, f: Filters, read: Callable[[], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Every user of f's window (org, period, source, slice): user_id, cost_e8, tokens,
    executions, cost_usd, in no order. The users' ranking, «Mayores cambios» and the Usuario
    select each need it of the same window, at once (a page change sends all three): one
    answer, shared through the answer cache (freshness.shared), keyed by what it depends on
    only — not the granularity, the preset or the comparison. Only the columns its readers
    use are kept: ~1 MB cached for 25k users instead of 2.4 MB. read: what computes them
    when the cache has not (by_user's per-bucket read, summed)."""
    g = _window_only(f)

    def compute() -> pd.DataFrame:
        if read is not None:
            return read()
        roomy(conn)
        return with_derived(facts(conn, g, dims=("user_id",), measures=DERIVED_FROM))[list(TOTALS)]

    totals: pd.DataFrame = freshness.shared(conn, "user-totals", g, compute)
    totals["cost_usd"] = totals["cost_e8"] / COST_SCALE
    return totals


TOTALS = ("user_id", "cost_e8", "tokens", "executions")  # what user_totals caches
# They are made of DERIVED_FROM: three sums per key, not eight (a window's users are 25k keys
# of ~200k rollup rows; five sums instead of eight took ~30 of ~180 ms of that statement at
# 10M rows, and tokens as one sum instead of three ~15–20 of ~155 ms more: docs/rollups.md).


def _window_only(f: Filters) -> Filters:
    """f without what a window's totals do not depend on (granularity, preset, comparison)."""
    return replace(f, granularity="day", requested_granularity="auto", preset=None, compare=None)


def ranked_users(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """Every user of the window (user_id, cost_e8, cost_usd, tokens, executions…), in the
    ranking's order: cost, then executions descending, then user_id (no user last)."""
    return _ranked(user_totals(conn, f))


def _ranked(totals: pd.DataFrame) -> pd.DataFrame:
    """totals in the ranking's order. The integer keys sort first; only users tied with another
    on (cost, executions) are ranked by id too: a sort of every id (pandas' sort_values over
    the four keys) took 20–22 ms for 25k users, this 6–12 ms (the fewer the ties, the faster)."""
    if not len(totals):
        return totals
    cost = totals["cost_e8"].to_numpy(dtype="int64")
    executions = totals["executions"].to_numpy(dtype="int64")
    uid = totals["user_id"].to_numpy(dtype=object)
    none = pd.isna(uid)  # the row without a user: last among its ties
    order = np.lexsort((none, -executions, -cost))  # the last key sorts first
    c, e, n = cost[order], executions[order], none[order]
    same = (c[1:] == c[:-1]) & (e[1:] == e[:-1]) & (n[1:] == n[:-1])
    if same.any():
        tied = np.zeros(len(order), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        rows = order[tied]
        ids = [str(u) for u in uid[rows]]  # Python's order of str (numpy's drops trailing NULs)
        by_id = np.zeros(len(order), dtype="int64")  # each tied user's rank by id among the tied
        by_id[rows[sorted(range(len(ids)), key=ids.__getitem__)]] = np.arange(len(ids))
        order = np.lexsort((by_id, none, -executions, -cost))
    return totals.iloc[order].reset_index(drop=True)


def by_user(conn: sa.Connection, f: Filters, limit: int = DEFAULT_LIMIT) -> Users:
    """The window's users, ranked; sparklines are read for the top `limit` only (a window
    can hold tens of thousands of users)."""
    ranked, buckets = _ranked_with_buckets(conn, f)
    return _top(conn, f, ranked, limit, buckets)


# A slice without a user family (a user with an agent, model, action or provider: no rollup
# holds both) is read from raw rows twice: every user's totals, then the top users' rows
# again for their sparklines (through the user index: all of a busy user's rows, whatever
# the slice). When the slice holds at most this many rows (its count read from its own
# rollup family), one read by (bucket, user) gives both: its groups are at most its rows.
ONE_READ_ROWS = 100_000


def _ranked_with_buckets(conn: sa.Connection, f: Filters) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(ranked users, their cost per bucket or None): one raw read by (bucket, user) for a
    narrow slice without a user family (ONE_READ_ROWS), else the shared totals alone."""
    if not _one_read(conn, f):
        return ranked_users(conn, f), None
    roomy(conn)
    buckets = facts(conn, f, dims=("user_id",), by_qh=True, boundaries=bucket_cuts(f), measures=DERIVED_FROM)
    totals = user_totals(conn, f, read=lambda: _summed(buckets))
    return _ranked(totals), buckets


def _one_read(conn: sa.Connection, f: Filters) -> bool:
    dims = f.slice_dims
    if not reads_rollups(conn) or not dims or "user_id" in dims:
        return False
    if family_for(dims | {"user_id"}) is not None or family_for(dims) is None:
        return False  # the user family answers (cheap totals), or no cheap count of the slice
    count = facts(conn, _window_only(f), measures=("executions",))["executions"]
    return bool(len(count)) and int(count.iloc[0]) <= ONE_READ_ROWS


def _summed(buckets: pd.DataFrame) -> pd.DataFrame:
    """Every user's totals (TOTALS) from their rows by (bucket, user)."""
    codes, uniques = pd.factorize(buckets["user_id"], use_na_sentinel=False)
    sums: dict[str, Any] = {"user_id": pd.Series([None if pd.isna(u) else u for u in uniques], dtype="object")}
    for m in DERIVED_FROM:
        acc = np.zeros(len(uniques), dtype="int64")
        np.add.at(acc, codes, buckets[m].to_numpy(dtype="int64"))
        sums[m] = acc
    return with_derived(pd.DataFrame(sums))[list(TOTALS)]


# A ranking groups every user of the window (25k at 10M rows): at PostgreSQL's default
# work_mem (4 MB) that hash spills to disk, from the user rollup as from raw rows.
WORK_MEM = "64MB"


def roomy(conn: sa.Connection) -> None:
    """Let this transaction's groupings of every user stay in memory (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")


def _top(
    conn: sa.Connection, f: Filters, ranked: pd.DataFrame, limit: int, buckets: pd.DataFrame | None = None
) -> Users:
    """The top `limit` of ranked with their sparklines (from buckets, every user's cost by
    (bucket, user), when given; else read for them), and the rest summed."""
    if not len(ranked):
        return Users(pd.DataFrame(columns=COLUMNS), 0, _sums(ranked))
    top, rest = ranked.iloc[:limit], ranked.iloc[limit:]
    if buckets is not None:
        qh = buckets[buckets["user_id"].isin(top["user_id"])]  # isin matches None (no user) too
    else:
        ids = [NONE if u is None else u for u in top["user_id"]]
        g = replace(f, user_ids=tuple(sorted(set(ids))))
        # Their executions are their rows in the window: past the narrow limit, no raw read is tried.
        slice_rows.known_rows(conn, g, int(top["executions"].sum()))
        qh = facts(
            conn,
            g,
            dims=("user_id",),
            by_qh=True,
            boundaries=bucket_cuts(f),
            measures=("cost_e8",),  # a sparkline is cost alone
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


def by_user_compared(conn: sa.Connection, f: Filters, limit: int = DEFAULT_LIMIT) -> Users:
    """by_user(f) beside f's earlier window (see the module's docstring): users gain
    previous_cost_usd, previous_tokens, previous_executions; others gains the same keys
    (and previous_cost_e8)."""
    before = earlier(f)
    assert before is not None, "by_user_compared needs f.compare"
    ranked, buckets = _ranked_with_buckets(conn, f)
    cur = _top(conn, f, ranked, limit, buckets)
    prev = ranked_users(conn, before)
    listed = _ids(cur.users["user_id"])
    if len(prev):
        now_users = _ids(ranked["user_id"]) if len(ranked) else set()
        gone = _ids(prev["user_id"].iloc[:limit]) - now_users
        keep = prev["user_id"].isin(listed) | prev["user_id"].isin(gone)
        if None in listed or None in gone:
            keep |= prev["user_id"].isna()
        shown = prev[keep]
    else:
        shown = prev
    users = zero_sparklines(beside_rows(cur.users, shown, ["user_id"]), f)
    users["cost_e8"] = users["cost_e8"].astype("int64")
    rest = prev.drop(shown.index) if len(prev) else prev
    others = {**cur.others, **{f"previous_{k}": v for k, v in _sums(rest).items()}}
    return Users(users, cur.total_users, others)


def _ids(col: pd.Series) -> set[str | None]:
    """The user ids of a column, the missing user as None (a frame may hold it as NaN)."""
    return {None if pd.isna(u) else str(u) for u in col}


def _sums(df: pd.DataFrame) -> dict[str, Any]:
    cost = int(df["cost_e8"].sum()) if len(df) else 0
    return {
        "cost_usd": cost / 1e8,
        "cost_e8": cost,
        "tokens": int(df["tokens"].sum()) if len(df) else 0,
        "executions": int(df["executions"].sum()) if len(df) else 0,
    }
