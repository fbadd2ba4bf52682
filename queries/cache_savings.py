"""Cache savings: hit rate, the money the prompt cache saved, the premium paid to write it, per bucket and model."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import costing, price_book
from .base import bucket_cuts, bucket_epochs, bucket_flags, epochs_to_local, window_buckets
from .filters import Filters


@dataclass(frozen=True)
class CacheEconomics:
    total: pd.DataFrame  # one row, see cache_savings
    points: pd.DataFrame  # bucket, partial, in_progress, cache_read_tokens, total_input_tokens, hit_rate, savings
    models: pd.DataFrame  # provider, model, cache reads and writes, hit_rate, savings, premium, net (by net desc)


def _rate(cache_read: np.ndarray, total_input: np.ndarray) -> list[float | None]:
    return [float(c) / float(t) if t else None for c, t in zip(cache_read, total_input)]


def cache_economics(conn: sa.Connection, f: Filters) -> CacheEconomics:
    """Totals, one point per bucket of the window up to now (zero-filled), and one row per model."""
    book = price_book.load(conn)
    df, cuts = costing.priced_facts(conn, f, book, boundaries=bucket_cuts(f))
    b = bucket_epochs(df["qh"].to_numpy(), f.granularity, f.tz)
    g = costing.priced(df, book, cuts, int(f.start_utc.timestamp()), bucket=b)
    savings, premium = costing.dec_sum(g["savings"]), costing.dec_sum(g["premium"])
    cache_read = int(g["cache_read_tokens"].sum())
    total_input = cache_read + int(g["input_tokens"].sum())
    total = pd.DataFrame(
        [
            {
                "total_cache_read_tokens": cache_read,
                "total_input_tokens": total_input,
                "hit_rate": (cache_read / total_input) if total_input else None,
                "estimated_savings_usd": float(savings),
                "skipped_models_count": costing.skipped(g),
                "cache_write_tokens": int(g["cache_write_tokens"].sum()),
                "write_premium_usd": float(premium),
                "net_savings_usd": float(savings - premium),
            }
        ]
    )
    return CacheEconomics(total, _points(f, g), _models(g))


def _points(f: Filters, g: pd.DataFrame) -> pd.DataFrame:
    buckets = window_buckets(f)
    per = g.groupby("b")
    tokens = per[["cache_read_tokens", "input_tokens"]].sum().reindex(buckets, fill_value=0)
    sav = per["savings"].apply(costing.dec_sum).reindex(buckets)
    prem = per["premium"].apply(costing.dec_sum).reindex(buckets)
    cr = tokens["cache_read_tokens"].to_numpy(dtype="int64")
    ti = cr + tokens["input_tokens"].to_numpy(dtype="int64")
    partial, running = bucket_flags(f, buckets)
    s = [float(v) if isinstance(v, Decimal) else 0.0 for v in sav]
    n = [float(a - p) if isinstance(a, Decimal) else 0.0 for a, p in zip(sav, prem)]
    return pd.DataFrame(
        {
            "bucket": epochs_to_local(buckets, f.tz),
            "partial": partial,
            "in_progress": running,
            "cache_read_tokens": cr,
            "total_input_tokens": ti,
            "hit_rate": _rate(cr, ti),
            "estimated_savings_usd": s,
            "net_savings_usd": n,
        }
    )


def _models(g: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (provider, model), m in g.groupby(list(costing.MODEL), sort=True):
        cr, inp = int(m["cache_read_tokens"].sum()), int(m["input_tokens"].sum())
        sav, prem = costing.dec_sum(m["savings"]), costing.dec_sum(m["premium"])
        rows.append(
            {
                "provider": provider,
                "model": model,
                "cache_read_tokens": cr,
                "cache_write_tokens": int(m["cache_write_tokens"].sum()),
                "total_input_tokens": cr + inp,
                "hit_rate": cr / (cr + inp) if cr + inp else None,
                "estimated_savings_usd": float(sav),
                "write_premium_usd": float(prem),
                "net_savings_usd": float(sav - prem),
                "priced": not bool(m["no_price"].any()),
                "write_priced": not bool(m["no_write_price"].any()),
            }
        )
    cols = [
        "provider",
        "model",
        "cache_read_tokens",
        "cache_write_tokens",
        "total_input_tokens",
        "hit_rate",
        "estimated_savings_usd",
        "write_premium_usd",
        "net_savings_usd",
        "priced",
        "write_priced",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["net_savings_usd", "provider", "model"], ascending=[False, True, True], ignore_index=True)


def cache_savings(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """One row: total_cache_read_tokens, total_input_tokens, hit_rate, estimated_savings_usd,
    skipped_models_count (models without a known price, or writing to the cache without a
    cache-write price), cache_write_tokens, write_premium_usd, net_savings_usd."""
    return cache_economics(conn, f).total
