"""Prices over time: the price of a model in force at an instant, and where it changes.

Two sources, per (provider, model): the operator's override rows (price_overrides, one
per start instant `valid_from`; NULL: always), and the genai-prices catalogue, whose
conditional prices start on a UTC date (StartDateConstraint, from 00:00 UTC) or hold
for a daily UTC interval (TimeOfDateConstraint, e.g. off-peak hours). At instant t the
override row with the latest valid_from <= t wins; without one, the catalogue's price
at t. An override without an output price takes the catalogue's (at t) when it has one.

Resolution rule (what the rollups can answer exactly): a row is priced at the price in
force at the start of its UTC quarter-hour. Every catalogue change falls on a
quarter-hour (UTC midnights, :00/:30 clock times), so catalogue prices are those of the
row's own instant; an override starting at 10:07 applies from 10:15. `cuts` gives the
instants where a price may change, rounded up to the quarter-hour, so that facts()
never merges quarter-hours of two prices (raw and rollup paths price alike).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import sqlalchemy as sa

from storage.measures import QH
from storage.schema import price_overrides

from .prices import base_price

MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    """USD per million tokens. cache_read falls back to input; cache_write and output may be unknown."""

    input: Decimal
    cache_read: Decimal
    cache_write: Decimal | None
    output: Decimal | None


@lru_cache(maxsize=4096)
def catalogue_model(provider: str, model: str) -> Any:
    """genai-prices' ModelInfo (the provider's own model, else any provider's), or None."""
    from genai_prices import Usage, calc_price

    try:
        return calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model, provider_id=provider).model
    except Exception:  # unknown provider or model: LookupError and friends
        try:
            return calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model).model
        except Exception:
            return None


def _price_of(mp: Any) -> Price | None:
    inp = base_price(getattr(mp, "input_mtok", None))
    if inp is None:
        return None
    cache = base_price(getattr(mp, "cache_read_mtok", None))
    write = base_price(getattr(mp, "cache_write_mtok", None))
    return Price(inp, cache if cache is not None else inp, write, base_price(getattr(mp, "output_mtok", None)))


@lru_cache(maxsize=65536)
def catalogue_at(provider: str, model: str, epoch: int) -> Price | None:
    """The catalogue's price of the model at an instant (epoch seconds), or None when unknown."""
    info = catalogue_model(provider, model)
    if info is None:
        return None
    return _price_of(info.get_prices(datetime.fromtimestamp(epoch, UTC)))


def _epoch(day: date, at: time = time(0)) -> int:
    if at.tzinfo is not None:  # a zoned clock time: its UTC reading (genai-prices compares in UTC)
        at = datetime.combine(date(1970, 1, 1), at).astimezone(UTC).time()
    return int(datetime.combine(day, at, UTC).timestamp())


def catalogue_changes(provider: str, model: str, a: int, b: int) -> list[int]:
    """Instants (epoch seconds) in (a, b) where the catalogue's price of the model may change."""
    info = catalogue_model(provider, model)
    prices = getattr(info, "prices", None)
    if not isinstance(prices, list):
        return []
    out: list[int] = []
    first = datetime.fromtimestamp(a, UTC).date() - timedelta(days=1)
    days = (b - a) // 86400 + 3
    for cp in prices:
        c = cp.constraint
        if hasattr(c, "start_date"):
            out.append(_epoch(c.start_date))
        elif hasattr(c, "start_time"):  # a daily interval: both ends, every day of the window
            out += [_epoch(first + timedelta(days=k), t) for k in range(days) for t in (c.start_time, c.end_time)]
    return [t for t in out if a < t < b]


@dataclass(frozen=True)
class Override:
    valid_from: int | None  # epoch seconds; None: always
    price: Price


class PriceBook:
    """Overrides read once per request, the catalogue behind them."""

    def __init__(self, overrides: dict[tuple[str, str], list[Override]]):
        self.overrides = {
            k: sorted(v, key=lambda o: -(1 << 62) if o.valid_from is None else o.valid_from)
            for k, v in overrides.items()
        }

    def at(self, provider: str, model: str, epoch: int) -> Price | None:
        """The price in force at epoch (seconds) for the model, or None when unknown."""
        live = [o for o in self.overrides.get((provider, model), []) if o.valid_from is None or o.valid_from <= epoch]
        if not live:
            return catalogue_at(provider, model, epoch)
        p = live[-1].price
        if p.output is None:
            cat = catalogue_at(provider, model, epoch)
            if cat is not None and cat.output is not None:
                p = replace(p, output=cat.output)
        return p

    def cuts(self, models: Iterable[tuple[str, str]], a: int, b: int) -> np.ndarray:
        """Quarter-hour starts (epoch seconds) in (a, b) from which some model's price may differ."""
        out: list[int] = []
        for provider, model in dict.fromkeys(models):  # each model once (a caller's facts hold one per segment)
            out += catalogue_changes(provider, model, a, b)
            out += [o.valid_from for o in self.overrides.get((provider, model), []) if o.valid_from is not None]
        q = -(-np.asarray(out, dtype="int64") // QH) * QH
        return np.unique(q[(q > a) & (q < b)])


def _dec(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def load(conn: sa.Connection) -> PriceBook:
    """The override table as a PriceBook."""
    t = price_overrides
    rows = conn.execute(
        sa.select(
            t.c.provider,
            t.c.model,
            t.c.valid_from,
            t.c.input_usd_per_mtok,
            t.c.cache_read_usd_per_mtok,
            t.c.cache_write_usd_per_mtok,
            t.c.output_usd_per_mtok,
        )
    ).all()
    book: dict[tuple[str, str], list[Override]] = {}
    for p, m, vf, i, c, w, o in rows:
        price = Price(Decimal(str(i)), Decimal(str(c)), _dec(w), _dec(o))
        book.setdefault((p, m), []).append(Override(None if vf is None else math.ceil(vf.timestamp()), price))
    return PriceBook(book)
