"""Model efficiency: cost, tokens, executions, mean latency and p50/p95/p99 latency per (provider, model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .base import facts
from .filters import Filters
from .latency import PERCENTILES, latency_sketch, percentiles

# What the answer shows (no cache-write tokens): one sum fewer per model.
SHOWN = ("cost_e8", "input_tokens", "output_tokens", "cache_read_tokens", "executions", "latency_sum", "latency_count")


def model_efficiency(conn: sa.Connection, f: Filters, detail: bool = True) -> pd.DataFrame:
    """One row per (provider, model), by cost descending: provider, model, cost_usd,
    input_tokens, output_tokens, cache_read_tokens, executions, avg_latency_ms, p50_latency_ms,
    p95_latency_ms, p99_latency_ms (NaN if no row has a latency; percentiles within 1 %, queries/latency.py).
    detail=False: the percentiles are not read (NaN) — what an earlier window beside the current one needs."""
    df = facts(conn, f, dims=("provider", "model"), measures=SHOWN)
    out = pd.DataFrame(
        {
            "provider": df["provider"],
            "model": df["model"],
            "cost_usd": df["cost_e8"] / 1e8,
            "cost_e8": df["cost_e8"],
            "input_tokens": df["input_tokens"],
            "output_tokens": df["output_tokens"],
            "cache_read_tokens": df["cache_read_tokens"],
            "executions": df["executions"],
            "avg_latency_ms": np.where(
                df["latency_count"] > 0,
                df["latency_sum"] / df["latency_count"].where(df["latency_count"] > 0, 1),
                np.nan,
            ),
        }
    )
    if detail:
        pct = percentiles(latency_sketch(conn, f, ("provider", "model")), ("provider", "model"))
        out = out.merge(pct, on=["provider", "model"], how="left")
    else:
        out = out.assign(**{f"p{q}_latency_ms": np.nan for q in PERCENTILES})
    for q in PERCENTILES:
        out[f"p{q}_latency_ms"] = out[f"p{q}_latency_ms"].astype("float64")
    out = out.sort_values(
        ["cost_e8", "executions", "provider", "model"], ascending=[False, False, True, True], kind="stable"
    )
    return out.drop(columns="cost_e8").reset_index(drop=True)
