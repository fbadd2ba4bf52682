"""Cache savings: hit rate and the money the prompt cache saved."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

import pandas as pd
import sqlalchemy as sa

from . import prices
from .base import facts
from .filters import Filters


def cache_savings(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """One row: total_cache_read_tokens, total_input_tokens, hit_rate, estimated_savings_usd,
    skipped_models_count (models in the window without a known price)."""
    df = facts(conn, f, dims=("provider", "model"))
    overrides = prices.price_table(conn)
    savings = Decimal(0)
    skipped = 0
    for row in df.itertuples(index=False):
        price = prices.lookup(overrides, cast(str, row.provider), cast(str, row.model))
        if price is None:
            skipped += 1
            continue
        savings += Decimal(int(cast(int, row.cache_read_tokens))) * (price[0] - price[1]) / Decimal(1_000_000)
    cache_read = int(df["cache_read_tokens"].sum()) if len(df) else 0
    total_input = cache_read + (int(df["input_tokens"].sum()) if len(df) else 0)
    return pd.DataFrame(
        [
            {
                "total_cache_read_tokens": cache_read,
                "total_input_tokens": total_input,
                "hit_rate": (cache_read / total_input) if total_input else None,
                "estimated_savings_usd": float(savings),
                "skipped_models_count": skipped,
            }
        ]
    )
