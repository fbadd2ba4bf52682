"""Demo data's catalogue: the models, the org profiles, the activity shapes and the models' prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

TIMEZONES = [
    "Europe/Madrid",
    "America/Mexico_City",
    "America/Bogota",
    "America/Argentina/Buenos_Aires",
    "America/Santiago",
    "America/Lima",
]

# provider, model, kind, time to first token (ms), output tokens per second
MODELS = [
    ("anthropic", "claude-sonnet-4-5", "chat", 1400, 70),
    ("anthropic", "claude-haiku-4-5", "chat", 600, 140),
    ("anthropic", "claude-opus-4-1", "chat", 2500, 40),
    ("openai", "gpt-4o", "chat", 900, 90),
    ("openai", "gpt-4o-mini", "chat", 550, 120),
    ("openai", "gpt-4.1-mini", "chat", 600, 110),
    ("openai", "text-embedding-3-small", "embed", 140, 0),
    ("google", "gemini-2.5-flash", "chat", 700, 180),
    ("google", "gemini-2.5-pro", "chat", 3500, 90),
    ("google", "gemini-embedding-001", "embed", 190, 0),
    ("mistral", "mistral-large-latest", "chat", 800, 60),
    ("mistral", "mistral-small-latest", "chat", 400, 130),
    ("mistral", "mistral-embed", "embed", 170, 0),
    # Self-hosted: no public price (the savings card counts it as skipped); the
    # platform charges an internal GPU rate for it.
    ("selfhosted", "salamandra-7b-instruct", "chat", 300, 45),
]
M = {m[1]: i for i, m in enumerate(MODELS)}
CUSTOM_PRICE = (0.20, 0.20, 0.20, 0.20)  # USD per MTok: in, out, cache read, cache write
CACHING = {"anthropic", "openai", "google"}  # providers with prompt caching
CACHE_WRITES = {"anthropic"}  # explicit cache writes, billed apart

# Three org profiles (later orgs cycle through them): chat models with weights, and the
# models behind guardrails, titles and embeddings.
PROFILES: list[dict[str, Any]] = [
    dict(
        chat={
            "claude-sonnet-4-5": 5,
            "gpt-4o-mini": 3,
            "gemini-2.5-flash": 3,
            "gpt-4o": 2,
            "claude-haiku-4-5": 2,
            "mistral-large-latest": 2,
            "gemini-2.5-pro": 1,
            "claude-opus-4-1": 1,
            "salamandra-7b-instruct": 1,
        },
        must=["mistral-large-latest", "salamandra-7b-instruct", "gemini-2.5-flash", "claude-opus-4-1"],
        migrate=("gpt-4o", "claude-sonnet-4-5"),
        guard="claude-haiku-4-5",
        title="gpt-4o-mini",
        embed="text-embedding-3-small",
    ),
    dict(
        chat={"gpt-4o": 4, "gpt-4o-mini": 4, "gpt-4.1-mini": 3, "gemini-2.5-flash": 3, "claude-sonnet-4-5": 2},
        must=["claude-sonnet-4-5"],
        migrate=("gpt-4o-mini", "gpt-4.1-mini"),
        guard="gpt-4o-mini",
        title="gpt-4o-mini",
        embed="gemini-embedding-001",
    ),
    dict(
        chat={
            "mistral-large-latest": 4,
            "mistral-small-latest": 4,
            "claude-haiku-4-5": 2,
            "gemini-2.5-flash": 2,
            "salamandra-7b-instruct": 2,
        },
        must=["salamandra-7b-instruct"],
        migrate=None,
        guard="mistral-small-latest",
        title="mistral-small-latest",
        embed="mistral-embed",
    ),
]

# Local-hour activity: office hours with the Spanish lunch dip; weekends flat and low.
WEEKDAY_HOURS = np.array(
    [0.6, 0.35, 0.25, 0.2, 0.2, 0.3, 0.8, 2.0, 5.0, 8.5, 10, 10.5, 10, 9, 6, 5.5, 8, 8.5, 7.5, 5, 3.5, 2.6, 1.8, 1.1]
)
WEEKEND_HOURS = np.array(
    [
        1.0,
        0.7,
        0.5,
        0.4,
        0.3,
        0.3,
        0.4,
        0.6,
        1.0,
        1.6,
        2.2,
        2.6,
        2.8,
        2.6,
        2.2,
        2.0,
        2.1,
        2.2,
        2.1,
        1.9,
        1.7,
        1.5,
        1.3,
        1.1,
    ]
)
NIGHT_HOURS = np.array([0, 1, 1, 1, 0.5] + [0] * 19, dtype=float)  # scheduled re-indexing
BULK_HOURS = np.array([0] * 8 + [1] * 12 + [0] * 4, dtype=float)
DOW_FACTOR = np.array([1.0, 1.05, 1.05, 1.0, 0.85, 0.22, 0.16])  # Monday = 0
GROWTH_PER_YEAR = 4.5
ROWS_PER_EVENT = 2.6  # a user_interaction with its companions, on average
INDEXING_SHARE = 0.15
BULK_SHARES = ((0.62, 0.25), (0.86, 0.10))  # (position in the period, share of indexing rows)


# ---------------------------------------------------------------- prices


def _base(price) -> float | None:
    if price is None:
        return None
    if isinstance(price, (int, float, Decimal)):
        return float(price)
    base = getattr(price, "base", None)
    return float(base) if base is not None else None


def model_prices() -> np.ndarray:
    """USD per MTok (input, output, cache read, cache write) of every demo model."""
    from genai_prices import Usage, calc_price

    out = np.zeros((len(MODELS), 4))
    for i, (provider, model, *_rest) in enumerate(MODELS):
        try:
            mp = calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model, provider_id=provider).model_price
        except Exception:  # not in the catalogue: the self-hosted model
            out[i] = CUSTOM_PRICE
            continue
        inp = _base(mp.input_mtok) or 0.0
        outp = _base(getattr(mp, "output_mtok", None))
        cr = _base(getattr(mp, "cache_read_mtok", None))
        cw = _base(getattr(mp, "cache_write_mtok", None))
        out[i] = (inp, inp if outp is None else outp, inp if cr is None else cr, inp if cw is None else cw)
    return out


def cdf_at(profile: np.ndarray, seconds: float) -> float:
    p = profile / profile.sum()
    h = min(int(seconds // 3600), 23)
    return float(p[:h].sum() + p[h] * (seconds - h * 3600) / 3600)
