"""Summary: totals over the whole window."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from . import costing, price_book
from .base import facts, with_derived
from .filters import Filters


def unpriced(conn: sa.Connection, f: Filters) -> tuple[int, float]:
    """(rows whose cost_usd is NULL, their cost estimated from prices in USD): see queries.costing."""
    book = price_book.load(conn)
    df, cuts = costing.priced_facts(conn, f, book, unpriced=True)
    g = costing.priced(df, book, cuts, int(f.start_utc.timestamp()))
    return int(g["unpriced_executions"].sum()), float(costing.dec_sum(g["estimate"]))


def summary(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """One row: total_cost_usd, total_tokens, total_input/output/cache_read_tokens, executions,
    unpriced_executions, estimated_unpriced_cost_usd (never part of total_cost_usd)."""
    count, estimate = unpriced(conn, f)
    df = with_derived(facts(conn, f))
    r = df.iloc[0] if len(df) else None
    get = (lambda c: r[c]) if r is not None else (lambda c: 0)
    return pd.DataFrame(
        [
            {
                "total_cost_usd": float(get("cost_usd")) if r is not None else 0.0,
                "total_tokens": int(get("tokens")),
                "total_input_tokens": int(get("input_tokens") + get("cache_read_tokens")),
                "total_output_tokens": int(get("output_tokens")),
                "total_cache_read_tokens": int(get("cache_read_tokens")),
                "executions": int(get("executions")),
                "unpriced_executions": count,
                "estimated_unpriced_cost_usd": estimate,
            }
        ]
    )
