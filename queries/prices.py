"""Model prices: the operator's override table first, then the genai-prices catalogue."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from storage.schema import price_overrides


def base_price(price: object) -> Decimal | None:
    """A flat price, or the first tier of a tiered one (USD per million tokens)."""
    if price is None:
        return None
    if isinstance(price, (int, float, Decimal)):
        return Decimal(str(price))
    base = getattr(price, "base", None)
    return Decimal(str(base)) if base is not None else None


@lru_cache(maxsize=4096)
def catalogue_model_price(provider: str, model: str) -> Any:
    """genai-prices' price entry for the model (the provider's own, else any provider's), or None."""
    from genai_prices import Usage, calc_price

    try:
        calc = calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model, provider_id=provider)
    except Exception:  # unknown provider or model: LookupError and friends
        try:
            calc = calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model)
        except Exception:
            return None
    return calc.model_price


def catalogue_price(provider: str, model: str) -> tuple[Decimal, Decimal] | None:
    """(input, cache read) USD per MTok from genai-prices, or None when unknown."""
    mp = catalogue_model_price(provider, model)
    inp = base_price(getattr(mp, "input_mtok", None))
    if inp is None:
        return None
    cache = base_price(getattr(mp, "cache_read_mtok", None))
    return inp, (cache if cache is not None else inp)


def price_table(conn: sa.Connection) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """Overrides from the database: {(provider, model): (input, cache read)} per MTok."""
    rows = conn.execute(
        sa.select(
            price_overrides.c.provider,
            price_overrides.c.model,
            price_overrides.c.input_usd_per_mtok,
            price_overrides.c.cache_read_usd_per_mtok,
        )
    ).all()
    return {(p, m): (Decimal(str(i)), Decimal(str(c))) for p, m, i, c in rows}


def lookup(
    overrides: dict[tuple[str, str], tuple[Decimal, Decimal]], provider: str, model: str
) -> tuple[Decimal, Decimal] | None:
    return overrides.get((provider, model)) or catalogue_price(provider, model)
