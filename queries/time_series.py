"""Time series: cost, tokens and executions per local bucket, optionally per action type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.schema import ACTION_TYPES

from .base import bucket_cuts, bucket_epochs, bucket_flags, epochs_to_local, facts, window_buckets, with_derived
from .filters import Filters

VALUES = ["cost_usd", "tokens", "executions"]


def time_series(conn: sa.Connection, f: Filters, by_action: bool = False) -> pd.DataFrame:
    """Columns bucket (tz-aware local start), [action_type], cost_usd, tokens, executions,
    partial; one row per bucket of the window up to now (x each action type), zero-filled,
    ascending. partial: the bucket's period is not wholly inside the window up to now;
    in_progress: its period holds now."""
    dims = ("action_type",) if by_action else ()
    df = with_derived(facts(conn, f, dims=dims, by_qh=True, boundaries=bucket_cuts(f)))
    df["b"] = bucket_epochs(df["qh"].to_numpy(), f.granularity, f.tz)
    keys = ["b", *dims]
    agg = df.groupby(keys, dropna=False)[["cost_e8", "tokens", "executions"]].sum()
    buckets = window_buckets(f)
    if by_action:
        actions = list(ACTION_TYPES) + sorted(set(df["action_type"].dropna()) - set(ACTION_TYPES))
        index = pd.MultiIndex.from_product([buckets, actions], names=keys)
    else:
        index = pd.Index(buckets, name="b")
    agg = agg.reindex(index, fill_value=0).reset_index()
    out = pd.DataFrame({"bucket": epochs_to_local(agg["b"], f.tz)})
    if by_action:
        out["action_type"] = agg["action_type"].to_numpy()
    out["cost_usd"] = agg["cost_e8"].to_numpy() / 1e8
    out["tokens"] = agg["tokens"].astype("int64").to_numpy()
    out["executions"] = agg["executions"].astype("int64").to_numpy()
    where = np.searchsorted(buckets, agg["b"].to_numpy(dtype="int64"))
    partial, running = bucket_flags(f, buckets)
    out["partial"] = partial[where]
    out["in_progress"] = running[where]  # for the page: «en curso» rather than «incompleto»
    return out
