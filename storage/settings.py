"""Settings: one declared registry, read from the environment, with defaults and help."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_SQLITE = Path(__file__).resolve().parent.parent / "data" / "ai_usage.sqlite3"

# name -> (default, help). README's settings table is written from this registry.
REGISTRY: dict[str, tuple[str, str]] = {
    "DATABASE_URL": (f"sqlite:///{DEFAULT_SQLITE}", "SQLAlchemy URL of the database (PostgreSQL in production)."),
    "AI_USAGE_SECRET": ("", "HS256 secret that signs the tokens (at least 32 bytes)."),
    "AI_USAGE_FRAME_ANCESTORS": ("'self'", "Origins allowed to frame the page (CSP frame-ancestors), space separated."),
    "AI_USAGE_STATEMENT_TIMEOUT_MS": ("10000", "Per-query time limit in milliseconds; past it the API answers 503."),
    "AI_USAGE_ROLLUPS": ("1", "Serve answers from the rollup tables (1) or from the raw table only (0)."),
    "AI_USAGE_REFRESH_SECONDS": ("5", "Seconds between the server's background rollup catch-ups (0: none; use `ai-usage refresh`)."),
    "AI_USAGE_MAX_TOKEN_TTL": ("", "Refuse tokens whose exp is further than this from now, as a number and a unit "
                                   "(90s, 15m, 12h, 7d; empty: no limit)."),
}

DURATION = re.compile(r"([0-9]+)\s*([smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta:
    """'90s', '15m', '12h', '7d' (the CLI's --ttl form) as a timedelta; ValueError otherwise."""
    m = DURATION.fullmatch(value.strip())
    if not m:
        raise ValueError(f"{value!r} is not a number and a unit: 90s, 15m, 1h, 7d")
    try:
        return timedelta(seconds=int(m.group(1)) * UNIT_SECONDS[m.group(2)])
    except OverflowError:
        raise ValueError(f"{value!r} is longer than any calendar holds") from None


def _max_token_ttl(raw: str) -> timedelta | None:
    if not raw.strip():
        return None
    try:
        ttl = parse_duration(raw)
    except ValueError as e:
        raise ValueError(f"AI_USAGE_MAX_TOKEN_TTL: {e}") from None
    if ttl <= timedelta(0):
        raise ValueError("AI_USAGE_MAX_TOKEN_TTL must be above 0 (leave it empty for no limit)")
    return ttl


@dataclass(frozen=True)
class Settings:
    database_url: str = REGISTRY["DATABASE_URL"][0]
    secret: str = ""
    frame_ancestors: str = "'self'"
    statement_timeout_ms: int = 10_000
    use_rollups: bool = True
    refresh_seconds: float = 5.0
    max_token_ttl: timedelta | None = None  # refuse tokens whose exp is further than this from now
    demo: bool = False  # serve without a real secret (prints a token link)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name) or REGISTRY[name][0]

        s = cls(
            database_url=get("DATABASE_URL"),
            secret=get("AI_USAGE_SECRET"),
            frame_ancestors=get("AI_USAGE_FRAME_ANCESTORS"),
            statement_timeout_ms=int(get("AI_USAGE_STATEMENT_TIMEOUT_MS")),
            use_rollups=get("AI_USAGE_ROLLUPS") not in ("0", "false", "no"),
            refresh_seconds=float(get("AI_USAGE_REFRESH_SECONDS")),
            max_token_ttl=_max_token_ttl(get("AI_USAGE_MAX_TOKEN_TTL")),
        )
        return replace(s, **overrides) if overrides else s
