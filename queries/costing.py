"""Money from tokens: facts by model cut where prices change, each piece priced in Decimal.

`priced_facts` reads facts by (provider, model) and, when a price changes inside the
window (price_book.cuts) or the caller needs time buckets, by quarter-hour keys that
never straddle a price change; `priced` then groups them by (bucket?, provider, model,
price piece) and prices each group once at its first quarter-hour (price_book's rule).

Per group, USD:
- savings  = cache_read × (input − cache read price)          (contract §2)
- premium  = cache_write × (cache write − input price); 0 without a cache-write price
- estimate = the NULL-cost rows' input × input + cache_write × (cache write − input) +
  cache_read × cache read + output × output price (cache writes are part of input_tokens;
  an unknown output or cache-write price adds nothing for those tokens)
A group whose model has no price adds nothing; `no_price` / `no_write_price` flag the
groups that skipped something.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.measures import QH

from . import price_book
from .base import facts
from .filters import Filters

MODEL = ("provider", "model")


def priced_facts(
    conn: sa.Connection,
    f: Filters,
    book: price_book.PriceBook,
    boundaries: np.ndarray | None = None,
    unpriced: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """(facts by [qh,] provider, model; the price cuts). qh is there when boundaries are
    given or a price changes inside the window: then no key mixes two prices."""
    a, b = int(f.start_utc.timestamp()), int(f.end_utc.timestamp())
    if boundaries is None:
        df = facts(conn, f, dims=MODEL, unpriced=unpriced)
        cuts = book.cuts(zip(df["provider"], df["model"]), a, b)
        if len(cuts):  # a price changes inside the window: read again, cut there
            df = facts(conn, f, dims=MODEL, by_qh=True, boundaries=cuts, unpriced=unpriced)
        return df, cuts
    bounds = np.asarray(boundaries, dtype="int64")
    df = facts(conn, f, dims=MODEL, by_qh=True, boundaries=bounds, unpriced=unpriced)
    cuts = book.cuts(zip(df["provider"], df["model"]), a, b)
    if len(np.setdiff1d(cuts, bounds)):  # a price changes inside a segment: read again, cut there too
        df = facts(conn, f, dims=MODEL, by_qh=True, boundaries=np.union1d(bounds, cuts), unpriced=unpriced)
    return df, cuts


def priced(
    df: pd.DataFrame,
    book: price_book.PriceBook,
    cuts: np.ndarray,
    start_epoch: int,
    bucket: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per (bucket?, provider, model, price piece) with the token sums and Decimal
    savings, premium, estimate, and the flags no_price, no_write_price."""
    cols = [c for c in df.columns if c not in ("qh", *MODEL)]
    d = df.copy()
    at = d["qh"].to_numpy(dtype="int64") * QH if "qh" in d else np.full(len(d), start_epoch - start_epoch % QH)
    d["at"] = at
    d["piece"] = np.searchsorted(np.asarray(cuts, dtype="int64"), at, side="right")
    keys = ["piece", *MODEL]
    if bucket is not None:
        d["b"] = bucket
        keys = ["b", *keys]
    g = d.groupby(keys, dropna=False, sort=True).agg({**{c: "sum" for c in cols}, "at": "min"}).reset_index()
    out: dict[str, list[Any]] = {k: [] for k in ("savings", "premium", "estimate", "no_price", "no_write_price")}
    unpriced = "unpriced_executions" in g
    r: Any  # an itertuples row: pandas-stubs types each field as the union of every scalar
    for r in g.itertuples(index=False):
        p = book.at(str(r.provider), str(r.model), int(r.at))
        cw = int(r.cache_write_tokens)
        if p is None:
            out["savings"].append(Decimal(0))
            out["premium"].append(Decimal(0))
            out["estimate"].append(Decimal(0))
            out["no_price"].append(True)
            out["no_write_price"].append(cw > 0)
            continue
        extra = (p.cache_write - p.input) if p.cache_write is not None else Decimal(0)
        out["savings"].append(int(r.cache_read_tokens) * (p.input - p.cache_read) / price_book.MTOK)
        out["premium"].append(cw * extra / price_book.MTOK)
        out["no_price"].append(False)
        out["no_write_price"].append(cw > 0 and p.cache_write is None)
        est = Decimal(0)
        if unpriced:
            est = (
                int(r.unpriced_input_tokens) * p.input
                + int(r.unpriced_cache_write_tokens) * extra
                + int(r.unpriced_cache_read_tokens) * p.cache_read
                + int(r.unpriced_output_tokens) * (p.output if p.output is not None else Decimal(0))
            ) / price_book.MTOK
        out["estimate"].append(est)
    for k, v in out.items():
        g[k] = pd.Series(v, dtype="object" if k in ("savings", "premium", "estimate") else "bool", index=g.index)
    return g


def dec_sum(values: Sequence[Any] | pd.Series) -> Decimal:
    """Exact sum of Decimals (0 for none)."""
    return sum(values, Decimal(0))


def skipped(g: pd.DataFrame) -> int:
    """Distinct models with a piece lacking a price, or lacking a cache-write price while writing to the cache."""
    bad = g[g["no_price"] | g["no_write_price"]]
    return len(set(zip(bad["provider"], bad["model"])))
