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
    # numpy and one dict instead of merge/sort_values: a few dozen models (pandas' merge, astype
    # and sort took ~2 ms of this answer's ~9 ms of CPU on the benchmark).
    provider, model = df["provider"].to_numpy(dtype=object), df["model"].to_numpy(dtype=object)
    cost, execs = df["cost_e8"].to_numpy(dtype="int64"), df["executions"].to_numpy(dtype="int64")
    lat_sum, lat_n = df["latency_sum"].to_numpy(dtype="int64"), df["latency_count"].to_numpy(dtype="int64")
    avg = np.full(len(df), np.nan)
    np.divide(lat_sum, lat_n, out=avg, where=lat_n > 0)
    pct: dict[int, np.ndarray] = {q: np.full(len(df), np.nan) for q in PERCENTILES}
    if detail:
        got = percentiles(latency_sketch(conn, f, ("provider", "model")), ("provider", "model"))
        at = {k: i for i, k in enumerate(zip(got["provider"], got["model"]))}
        row = np.fromiter((at.get(k, -1) for k in zip(provider, model)), "int64", len(df))
        has = row >= 0
        for q in PERCENTILES:
            pct[q][has] = got[f"p{q}_latency_ms"].to_numpy(dtype="float64")[row[has]]
    # By cost, then executions (both descending), then provider and model (a missing one last).
    order = sorted(
        range(len(df)),
        key=lambda i: (-cost[i], -execs[i], provider[i] is None, provider[i] or "", model[i] is None, model[i] or ""),
    )
    out = pd.DataFrame(
        {
            "provider": provider[order],
            "model": model[order],
            "cost_usd": cost[order] / 1e8,
            "input_tokens": df["input_tokens"].to_numpy(dtype="int64")[order],
            "output_tokens": df["output_tokens"].to_numpy(dtype="int64")[order],
            "cache_read_tokens": df["cache_read_tokens"].to_numpy(dtype="int64")[order],
            "executions": execs[order],
            "avg_latency_ms": avg[order],
            **{f"p{q}_latency_ms": pct[q][order] for q in PERCENTILES},
        }
    )
    return out
