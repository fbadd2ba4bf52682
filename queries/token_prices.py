"""Per-token-type prices for the Modelos cost bars: (input, cache read, output) USD per MTok.

The operator's override first (its output price may be absent: then the catalogue's
output price, if the catalogue knows the model), then the genai-prices catalogue. A model
with any of the three unknown has no split: the page shows its cost as one «sin desglose»
segment instead of guessing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from storage.schema import price_overrides

from .prices import base_price, catalogue_model_price

Prices = tuple[Decimal, Decimal, Decimal]  # input, cache read, output per MTok


def catalogue(provider: str, model: str) -> Prices | None:
    """(input, cache read, output) USD per MTok from genai-prices, or None when one is unknown."""
    mp = catalogue_model_price(provider, model)
    inp, out = base_price(getattr(mp, "input_mtok", None)), base_price(getattr(mp, "output_mtok", None))
    if inp is None or out is None:
        return None
    cache = base_price(getattr(mp, "cache_read_mtok", None))
    return inp, (cache if cache is not None else inp), out


def token_prices(conn: sa.Connection, models: Iterable[tuple[object, object]]) -> dict[tuple[str, str], Prices | None]:
    """{(provider, model): prices or None} for the given (provider, model) pairs."""
    pairs = list(dict.fromkeys((str(p), str(m)) for p, m in models))
    rows = (
        conn.execute(
            sa.select(
                price_overrides.c.provider,
                price_overrides.c.model,
                price_overrides.c.input_usd_per_mtok,
                price_overrides.c.cache_read_usd_per_mtok,
                price_overrides.c.output_usd_per_mtok,
            )
            # The override in force now (migration 0005 dates them): the always-row first,
            # then dated rows by start, so the latest started one wins in the dict below.
            .where(sa.or_(price_overrides.c.valid_from.is_(None), price_overrides.c.valid_from <= datetime.now(UTC)))
            .order_by(price_overrides.c.valid_from.is_(None).desc(), price_overrides.c.valid_from)
        ).all()
        if pairs
        else []
    )
    overrides = {(p, m): (i, c, o) for p, m, i, c, o in rows}
    out: dict[tuple[str, str], Prices | None] = {}
    for pair in pairs:
        cat = catalogue(*pair)
        if pair in overrides:
            i, c, o = overrides[pair]
            o = Decimal(str(o)) if o is not None else (cat[2] if cat else None)
            out[pair] = (Decimal(str(i)), Decimal(str(c)), o) if o is not None else None
        else:
            out[pair] = cat
    return out
