"""Cache savings: hit rate, the money the prompt cache saved, the premium paid to write it, per bucket and model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import costing, price_book
from .buckets import bucket_cuts, bucket_flags, epochs_to_local, window_bucket_epochs, window_buckets
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
    b = window_bucket_epochs(f, df["qh"].to_numpy())
    g = costing.priced(df, book, cuts, int(f.start_utc.timestamp()), bucket=b)
    return CacheEconomics(_total(g), _points(f, g), _models(g))


def _total(g: costing.Priced) -> pd.DataFrame:
    savings, premium = g.savings.sum(), g.premium.sum()
    cache_read = int(g.tokens["cache_read_tokens"].sum())
    total_input = cache_read + int(g.tokens["input_tokens"].sum())
    return pd.DataFrame(
        [
            {
                "total_cache_read_tokens": cache_read,
                "total_input_tokens": total_input,
                "hit_rate": (cache_read / total_input) if total_input else None,
                "estimated_savings_usd": g.usd(savings),
                "skipped_models_count": g.skipped(),
                "cache_write_tokens": int(g.tokens["cache_write_tokens"].sum()),
                "write_premium_usd": g.usd(premium),
                "net_savings_usd": g.usd(savings - premium),
            }
        ]
    )


def _points(f: Filters, g: costing.Priced) -> pd.DataFrame:
    buckets = window_buckets(f)
    gb = g.b if g.b is not None else np.zeros(0, dtype="int64")
    pos = np.searchsorted(buckets, gb)
    inside = pos < len(buckets)
    inside[inside] = buckets[pos[inside]] == gb[inside]  # groups past now have no point
    at, n = pos[inside], len(buckets)
    cr = costing.sum_by(g.tokens["cache_read_tokens"][inside], at, n)
    ti = cr + costing.sum_by(g.tokens["input_tokens"][inside], at, n)
    sav = costing.sum_by(g.savings[inside], at, n)
    net = sav - costing.sum_by(g.premium[inside], at, n)
    partial, running = bucket_flags(f, buckets)
    return pd.DataFrame(
        {
            "bucket": epochs_to_local(buckets, f.tz),
            "partial": partial,
            "in_progress": running,
            "cache_read_tokens": cr,
            "total_input_tokens": ti,
            "hit_rate": _rate(cr, ti),
            "estimated_savings_usd": [g.usd(v) for v in sav],
            "net_savings_usd": [g.usd(v) for v in net],
        }
    )


def _models(g: costing.Priced) -> pd.DataFrame:
    n = len(g.models)
    per = {
        c: costing.sum_by(g.tokens[c], g.mid, n) for c in ("cache_read_tokens", "input_tokens", "cache_write_tokens")
    }
    sav, prem = costing.sum_by(g.savings, g.mid, n), costing.sum_by(g.premium, g.mid, n)
    no_price = costing.sum_by(g.no_price.astype("int64"), g.mid, n) > 0
    no_write = costing.sum_by(g.no_write_price.astype("int64"), g.mid, n) > 0
    rows = []
    for i, (provider, model) in enumerate(g.models):
        cr, inp = int(per["cache_read_tokens"][i]), int(per["input_tokens"][i])
        rows.append(
            {
                "provider": provider,
                "model": model,
                "cache_read_tokens": cr,
                "cache_write_tokens": int(per["cache_write_tokens"][i]),
                "total_input_tokens": cr + inp,
                "hit_rate": cr / (cr + inp) if cr + inp else None,
                "estimated_savings_usd": g.usd(sav[i]),
                "write_premium_usd": g.usd(prem[i]),
                "net_savings_usd": g.usd(sav[i] - prem[i]),
                "priced": not bool(no_price[i]),
                "write_priced": not bool(no_write[i]),
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
    cache-write price), cache_write_tokens, write_premium_usd, net_savings_usd.

    cache_economics' total without its buckets: the facts by model over the whole window (cut
    only where a price changes), which the rollups answer from a handful of 64-day blocks
    instead of a read per bucket. The same integers, hence the same figures: money is linear
    in tokens and a price holds between two cuts (tests/test_cost_truth.py compares both)."""
    book = price_book.load(conn)
    df, cuts = costing.priced_facts(conn, f, book)
    return _total(costing.priced(df, book, cuts, int(f.start_utc.timestamp())))
