"""Time series: cost, tokens and executions per local bucket, optionally per action type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.schema import ACTION_TYPES

from .base import DERIVED_FROM, facts
from .buckets import bucket_cuts, bucket_flags, epochs_to_local, window_bucket_epochs, window_buckets
from .filters import Filters

VALUES = ["cost_usd", "tokens", "executions"]


def time_series(conn: sa.Connection, f: Filters, by_action: bool = False) -> pd.DataFrame:
    """Columns bucket (tz-aware local start), [action_type], cost_usd, tokens, executions,
    partial; one row per bucket of the window up to now (x each action type), zero-filled,
    ascending. partial: the bucket's period is not wholly inside the window up to now;
    in_progress: its period holds now."""
    dims = ("action_type",) if by_action else ()
    df = facts(conn, f, dims=dims, by_qh=True, boundaries=bucket_cuts(f), measures=DERIVED_FROM)
    buckets = window_buckets(f)
    # Exact int64 sums into a dense (bucket x action) grid, numpy only: a year is ~53 x 5 cells.
    b = window_bucket_epochs(f, df["qh"].to_numpy())
    pos = np.minimum(np.searchsorted(buckets, b), max(len(buckets) - 1, 0))
    keep = buckets[pos] == b if len(buckets) else np.zeros(len(b), dtype=bool)  # future buckets: no row
    if by_action:
        acts = df["action_type"].to_numpy(dtype=object)
        actions = list(ACTION_TYPES) + sorted({a for a in acts if a is not None} - set(ACTION_TYPES))
        index = {a: i for i, a in enumerate(actions)}
        col = np.fromiter((index.get(a, -1) for a in acts), dtype="int64", count=len(acts))
        keep &= col >= 0
    else:
        actions, col = [None], np.zeros(len(b), dtype="int64")
    cell = pos[keep] * len(actions) + col[keep]
    n = len(buckets) * len(actions)
    sums = {}
    for name, values in (
        ("cost_e8", df["cost_e8"].to_numpy()),
        ("tokens", df["tokens"].to_numpy()),
        ("executions", df["executions"].to_numpy()),
    ):
        sums[name] = np.zeros(n, dtype="int64")
        np.add.at(sums[name], cell, values[keep].astype("int64"))
    start = np.repeat(buckets, len(actions))
    out = pd.DataFrame({"bucket": epochs_to_local(start, f.tz)})
    if by_action:
        out["action_type"] = np.array(actions * len(buckets), dtype=object)
    out["cost_usd"] = sums["cost_e8"] / 1e8
    out["tokens"] = sums["tokens"]
    out["executions"] = sums["executions"]
    partial, running = bucket_flags(f, buckets)
    out["partial"] = np.repeat(partial, len(actions))
    out["in_progress"] = np.repeat(running, len(actions))  # for the page: «en curso» rather than «incompleto»
    return out
