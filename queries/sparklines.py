"""Cost sparklines: one exact cost per bucket of the applied granularity, per group of rows."""

from __future__ import annotations

import numpy as np

from .buckets import bucket_flags, window_bucket_epochs, window_buckets
from .filters import Filters


def cost_sparklines(
    f: Filters, qh: np.ndarray, group: np.ndarray, cost_e8: np.ndarray, n: int
) -> tuple[np.ndarray, bool]:
    """(spark, partial_last): spark[g, i] = the cost (1e-8 US$, int64) of group g's rows in
    bucket i of the window up to now; partial_last: that last bucket is partial (running or
    cut by the window). qh: each facts row's quarter-hour key; group: its group index < n."""
    buckets = window_buckets(f)
    partial_last = bool(len(buckets)) and bool(bucket_flags(f, buckets)[0][-1])
    b = window_bucket_epochs(f, qh)
    pos = np.searchsorted(buckets, b)
    inside = (pos < len(buckets)) & (buckets[np.minimum(pos, len(buckets) - 1)] == b) if len(buckets) else b < 0
    spark = np.zeros((n, len(buckets)), dtype="int64")
    np.add.at(spark, (group[inside], pos[inside]), np.asarray(cost_e8)[inside])
    return spark, partial_last
