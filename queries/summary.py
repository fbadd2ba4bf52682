"""Summary: totals over the whole window."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from .base import facts, with_derived
from .filters import Filters


def summary(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """One row: total_cost_usd, total_tokens, total_input/output/cache_read_tokens, executions."""
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
            }
        ]
    )
