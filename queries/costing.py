"""Money from tokens: facts by model cut where prices change, priced exactly in integers.

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

Exact, and fast: every price (a Decimal, USD per million tokens) is scaled to an integer
by the one power of ten that makes all of this request's prices whole, so each group's
money is tokens × integer price, an exact integer of 1/`Priced.scale` USD. Sums are
integer sums (numpy int64 when no sum can overflow, else Python integers), and `usd`
turns one into the float nearest the exact value (Python's int / int is correctly
rounded), the same float as the exact Decimal gives. The groups are numpy arrays, not
a pandas group-by: a year of weekly buckets is ~1k groups, priced in about a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.measures import QH, UNPRICED

from . import price_book
from .base import facts
from .filters import Filters

MODEL = ("provider", "model")
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
# What pricing reads: the cost, the token types and the executions, not the latencies.
PRICED = ("cost_e8", *TOKENS, "executions")
_SAFE = 1 << 63  # below this, int64 products and sums cannot overflow


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
        df = facts(conn, f, dims=MODEL, unpriced=unpriced, measures=PRICED)
        cuts = book.cuts(zip(df["provider"], df["model"]), a, b)
        if len(cuts):  # a price changes inside the window: read again, cut there
            df = facts(conn, f, dims=MODEL, by_qh=True, boundaries=cuts, unpriced=unpriced, measures=PRICED)
        return df, cuts
    bounds = np.asarray(boundaries, dtype="int64")
    df = facts(conn, f, dims=MODEL, by_qh=True, boundaries=bounds, unpriced=unpriced, measures=PRICED)
    cuts = book.cuts(zip(df["provider"], df["model"]), a, b)
    if len(np.setdiff1d(cuts, bounds)):  # a price changes inside a segment: read again, cut there too
        df = facts(
            conn, f, dims=MODEL, by_qh=True, boundaries=np.union1d(bounds, cuts), unpriced=unpriced, measures=PRICED
        )
    return df, cuts


@dataclass(frozen=True)
class Priced:
    """One entry per (bucket?, price piece, provider, model) group, as parallel arrays.

    Money (savings, premium, estimate) is in integers of 1/scale USD (`usd`)."""

    models: list[tuple[str, str]]  # distinct (provider, model), indexed by `mid`
    mid: np.ndarray  # model index of each group
    b: np.ndarray | None  # bucket of each group (the caller's), or None
    tokens: dict[str, np.ndarray]  # int64 sums per group: TOKENS, and UNPRICED when read
    savings: np.ndarray
    premium: np.ndarray
    estimate: np.ndarray
    no_price: np.ndarray  # bool: the model has no price here
    no_write_price: np.ndarray  # bool: cache writes without a cache-write price
    scale: int

    def usd(self, value: Any) -> float:
        """The float nearest the exact USD of an integer amount of 1/scale USD."""
        return int(value) / self.scale

    def skipped(self) -> int:
        """Distinct models with a piece lacking a price, or lacking a cache-write price while writing to the cache."""
        return len(np.unique(self.mid[self.no_price | self.no_write_price]))


def _digits(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def sum_by(values: np.ndarray, inverse: np.ndarray, n: int) -> np.ndarray:
    """Exact sums of values per group id (int64, or Python integers for object arrays)."""
    out = np.zeros(n, dtype=values.dtype)
    if values.dtype == object:
        out[:] = 0
    np.add.at(out, inverse, values)
    return out


def priced(
    df: pd.DataFrame,
    book: price_book.PriceBook,
    cuts: np.ndarray,
    start_epoch: int,
    bucket: np.ndarray | None = None,
) -> Priced:
    """The facts grouped by (bucket?, price piece, provider, model), each group priced at
    its first quarter-hour, in exact integers."""
    n = len(df)
    at = df["qh"].to_numpy(dtype="int64") * QH if "qh" in df else np.full(n, start_epoch - start_epoch % QH)
    piece = np.searchsorted(np.asarray(cuts, dtype="int64"), at, side="right").astype("int64")
    ids: dict[tuple[str, str], int] = {}
    mid = np.fromiter(
        (ids.setdefault((str(p), str(m)), len(ids)) for p, m in zip(df["provider"], df["model"])), "int64", n
    )
    models = list(ids)
    code = piece * max(len(models), 1) + mid
    b_all = None
    if bucket is not None:
        b_all = np.asarray(bucket, dtype="int64")
        b_idx = np.unique(b_all, return_inverse=True)[1].reshape(-1)
        code = b_idx.astype("int64") * (int(piece.max(initial=0)) + 1) * max(len(models), 1) + code
    groups, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    g = len(groups)
    inverse = inverse.reshape(-1)
    cols = [c for c in (*TOKENS, *UNPRICED) if c in df]
    tokens = {c: sum_by(df[c].to_numpy(dtype="int64"), inverse, g) for c in cols}
    at_min = np.full(g, np.iinfo("int64").max, dtype="int64")
    np.minimum.at(at_min, inverse, at)
    g_mid = mid[first]
    # One price per group: the price at its first quarter-hour. Inside the window a price
    # is constant between two cuts (price_book.cuts), so each (model, piece) is looked up
    # once; a quarter-hour starting before the window (raw rows) is looked up on its own.
    memo: dict[tuple[int, int, int], int] = {}
    distinct: list[price_book.Price | None] = []
    seen: dict[price_book.Price | None, int] = {}
    pidx = np.empty(g, dtype="int64")
    g_piece = piece[first]
    for i, (m, pc, t) in enumerate(zip(g_mid.tolist(), g_piece.tolist(), at_min.tolist())):
        key = (m, pc, -1 if t >= start_epoch else t)
        k = memo.get(key)
        if k is None:
            p = book.at(models[m][0], models[m][1], t)
            k = memo[key] = seen.setdefault(p, len(distinct))
            if k == len(distinct):
                distinct.append(p)
        pidx[i] = k
    zero = Decimal(0)
    parts = []  # (input, cache read, cache-write extra, output) per distinct price, Decimal
    for p in distinct:
        if p is None:
            parts.append((zero, zero, zero, zero))
        else:
            extra = (p.cache_write - p.input) if p.cache_write is not None else zero
            parts.append((p.input, p.cache_read, extra, p.output if p.output is not None else zero))
    digits = max((_digits(v) for row in parts for v in row), default=0)
    ints = [[int(v.scaleb(digits)) for v in row] for row in parts]
    biggest = max((abs(v) for row in ints for v in row), default=0)
    volume = sum(int(np.abs(v).sum()) for v in tokens.values())
    # |a price difference| <= 2 * biggest, and net = savings - premium: 4 * biggest * volume bounds every sum.
    dtype: Any = "int64" if 4 * biggest * volume < _SAFE else object
    p_in, p_cr, p_extra, p_out = (np.array([row[k] for row in ints], dtype=dtype).reshape(-1)[pidx] for k in range(4))
    known = np.array([p is not None for p in distinct], dtype=bool).reshape(-1)
    writes = np.array([p is not None and p.cache_write is not None for p in distinct], dtype=bool).reshape(-1)
    has, has_write = known[pidx], writes[pidx]

    def tok(c: str) -> np.ndarray:
        return tokens[c].astype(dtype)

    cw = tokens["cache_write_tokens"]
    savings = tok("cache_read_tokens") * (p_in - p_cr)
    premium = tok("cache_write_tokens") * p_extra
    if "unpriced_input_tokens" in tokens:
        estimate = (
            tok("unpriced_input_tokens") * p_in
            + tok("unpriced_cache_write_tokens") * p_extra
            + tok("unpriced_cache_read_tokens") * p_cr
            + tok("unpriced_output_tokens") * p_out
        )
    else:
        estimate = np.zeros(g, dtype=dtype)
    return Priced(
        models=models,
        mid=g_mid,
        b=b_all[first] if b_all is not None else None,
        tokens=tokens,
        savings=savings,
        premium=premium,
        estimate=estimate,
        no_price=~has,
        no_write_price=(cw > 0) & ~has_write,
        scale=10**digits * int(price_book.MTOK),
    )
