"""Heatmap: usage by local day of week (Sunday = 0) and hour, zero cells left out."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from .base import DERIVED_FROM, facts, with_derived
from .buckets import bucket_cuts, to_local
from .filters import Filters


def heatmap(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """Columns dow (0 = Sunday … 6), hour (0–23), tokens, cost_usd, executions."""
    hours = facts(conn, f, by_qh=True, boundaries=bucket_cuts(f, "clock_hour"), period=7 * 86400, measures=DERIVED_FROM)
    df = with_derived(hours)
    local = to_local(df["qh"].to_numpy(), f.tz)
    df["dow"] = (local.day_of_week.to_numpy() + 1) % 7
    df["hour"] = local.hour.to_numpy()
    agg = df.groupby(["dow", "hour"])[["tokens", "cost_e8", "executions"]].sum().reset_index()
    agg = agg[agg["executions"] > 0]
    agg["cost_usd"] = agg["cost_e8"] / 1e8
    cols = ["dow", "hour", "tokens", "cost_usd", "executions"]
    return (
        agg[cols]
        .astype({"dow": "int64", "hour": "int64", "tokens": "int64", "executions": "int64"})
        .sort_values(["dow", "hour"])
        .reset_index(drop=True)
    )
