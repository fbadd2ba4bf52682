"""Summary: totals over the whole window."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from storage.schema import COST_SCALE

from . import costing, price_book
from .filters import Filters


def _by_model(conn: sa.Connection, f: Filters) -> tuple[pd.DataFrame, costing.Priced]:
    """One read of the model family (unpriced measures included) and its pricing."""
    book = price_book.load(conn)
    df, cuts = costing.priced_facts(conn, f, book, unpriced=True)
    return df, costing.priced(df, book, cuts, int(f.start_utc.timestamp()))


def unpriced(conn: sa.Connection, f: Filters) -> tuple[int, float]:
    """(rows whose cost_usd is NULL, their cost estimated from prices in USD): see queries.costing."""
    _, g = _by_model(conn, f)
    return int(g.tokens["unpriced_executions"].sum()), g.usd(g.estimate.sum())


def summary(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """One row: total_cost_usd, total_tokens, total_input/output/cache_read_tokens, executions,
    unpriced_executions, estimated_unpriced_cost_usd (never part of total_cost_usd).

    The totals and the estimate come from one read by model: its sums are the window's."""
    df, g = _by_model(conn, f)
    tot = {c: df[c].to_numpy(dtype="int64").sum() for c in ("cost_e8", *costing.TOKENS[:3], "executions")}
    return pd.DataFrame(
        [
            {
                "total_cost_usd": float(tot["cost_e8"] / COST_SCALE),
                "total_tokens": int(tot["input_tokens"] + tot["output_tokens"] + tot["cache_read_tokens"]),
                "total_input_tokens": int(tot["input_tokens"] + tot["cache_read_tokens"]),
                "total_output_tokens": int(tot["output_tokens"]),
                "total_cache_read_tokens": int(tot["cache_read_tokens"]),
                "executions": int(tot["executions"]),
                "unpriced_executions": int(g.tokens["unpriced_executions"].sum()),
                "estimated_unpriced_cost_usd": g.usd(g.estimate.sum()),
            }
        ]
    )
