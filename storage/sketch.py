"""Latency sketches: log-spaced buckets whose merged counts give any percentile within 1 %.

The DDSketch idea with accuracy A = 0.99 %: a latency x > 0 ms falls in bucket
b = ceil(ln x / ln γ), γ = (1 + A) / (1 − A), i.e. γ^(b−1) < x ≤ γ^b, and the bucket
answers 2γ^b / (γ + 1), within A of every x in it: the nearest-rank percentile (the
latency at rank ⌈q·n⌉) read from merged bucket counts is the representative of the
bucket holding that very latency, so it is within 1 % of it. 0 ms has its own bucket
(−1, answers 0), negative latencies mirror the positive ones below it (−2 − b): the
bucket order is the latency order. Counts add, so sketches of days add to sketches of
weeks and years exactly; a bucket index fits in int16 for every 32-bit latency.

Storage: one row per (org, grain, block start, source, key) holding the occupied buckets
only, packed (`pack`): int16 bucket indexes then int64 counts, little-endian. Grains
are whole UTC days doubling up to 256 days (`GRAINS`), so a year reads at most ~17
blocks per key instead of 365 days × ~250 buckets; the sub-day edges of a window are
read from the raw rows. Migration 0004 creates the tables; ingest/sketch_write.py fills
them in the refresh's transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ACCURACY = 0.0099  # relative error bound of a bucket's representative (below 1 %)
GAMMA = (1 + ACCURACY) / (1 - ACCURACY)
LN_GAMMA = math.log(GAMMA)
ZERO_BUCKET = -1
DAY = 86400
GRAINS = tuple(DAY * (1 << k) for k in range(9))  # 1, 2, 4, … 256 days


@dataclass(frozen=True)
class SketchFamily:
    """One sketch table: its key columns (after org_id, grain, t, source) and their SQL."""

    name: str
    table: str
    dims: tuple[str, ...]
    key_columns: tuple[str, ...]
    key_values: tuple[str, ...]  # SQL for each key column from a raw row
    read_dims: tuple[str, ...]  # SQL for each of dims from a sketch row `x`


FAMILIES: tuple[SketchFamily, ...] = (
    SketchFamily(
        "model",
        "rollup_model_lat",
        ("provider", "model"),
        ("provider", "model"),
        ("provider", "model"),
        ("x.provider", "x.model"),
    ),
    SketchFamily(
        "agent",
        "rollup_agent_lat",
        ("agent_id",),
        ("agent_id", "agent_null"),
        ("COALESCE(agent_id, '')", "CASE WHEN agent_id IS NULL THEN 1 ELSE 0 END"),
        ("CASE WHEN x.agent_null = 1 THEN NULL ELSE x.agent_id END",),
    ),
)
FAMILIES += (
    # Every column but the user (migration 0008): a percentile per model or per agent under
    # a filter on another column. Its blocks of one requested key merge like any others.
    SketchFamily(
        "combo",
        "rollup_combo_lat",
        ("action_type", "provider", "model", "agent_id"),
        ("action_type", "provider", "model", "agent_id", "agent_null"),
        ("action_type", "provider", "model", "COALESCE(agent_id, '')", "CASE WHEN agent_id IS NULL THEN 1 ELSE 0 END"),
        ("x.action_type", "x.provider", "x.model", "CASE WHEN x.agent_null = 1 THEN NULL ELSE x.agent_id END"),
    ),
)
BY_NAME = {fam.name: fam for fam in FAMILIES}
TABLES = [fam.table for fam in FAMILIES]


def family_for(dims: tuple[str, ...], sliced: frozenset[str] | set[str] = frozenset()) -> SketchFamily | None:
    """The sketch family keyed by exactly dims when it holds the sliced columns too, else the
    first whose key holds dims ∪ sliced (None: the raw rows answer)."""
    for fam in FAMILIES:
        if fam.dims == dims and set(sliced) <= set(fam.dims):
            return fam
    for fam in FAMILIES:
        if set(dims) | set(sliced) <= set(fam.dims):
            return fam
    return None


def bucket_sql(column: str = "latency_ms") -> str:
    """SQL for the bucket of a latency (NULL for NULL), the same on SQLite (3.35+ math
    functions) and PostgreSQL; each engine's own ln() for rollups and raw reads alike."""
    x = f"CAST({column} AS DOUBLE PRECISION)"
    return (
        f"(CASE WHEN {column} > 0 THEN CAST(ceil(ln({x}) / {LN_GAMMA!r}) AS INTEGER)"
        f" WHEN {column} = 0 THEN {ZERO_BUCKET}"
        f" WHEN {column} < 0 THEN -2 - CAST(ceil(ln(-{x}) / {LN_GAMMA!r}) AS INTEGER) END)"
    )


def representative(buckets: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The value each bucket answers: 2γ^b/(γ+1), 0 for the zero bucket, mirrored below."""
    b = np.asarray(buckets, dtype="int64")
    pos = 2 * GAMMA ** np.maximum(b, 0).astype("float64") / (GAMMA + 1)
    neg = -2 * GAMMA ** np.maximum(-2 - b, 0).astype("float64") / (GAMMA + 1)
    out: np.ndarray[Any, np.dtype[np.float64]] = np.where(b >= 0, pos, np.where(b == ZERO_BUCKET, 0.0, neg))
    return out


def pack(buckets: Any, counts: Any) -> bytes:
    """Occupied buckets (ascending) and their counts as bytes: int16 indexes, then int64 counts."""
    b = np.asarray(buckets, dtype="<i2")
    n = np.asarray(counts, dtype="<i8")
    return b.tobytes() + n.tobytes()


def unpack(blob: bytes) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    k = len(blob) // 10
    return (
        np.frombuffer(blob, dtype="<i2", count=k).astype("int64"),
        np.frombuffer(blob, dtype="<i8", count=k, offset=2 * k),
    )
