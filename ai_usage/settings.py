"""Settings: one declared registry, read from the environment, with defaults and help."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_SQLITE = Path(__file__).resolve().parent.parent / "data" / "ai_usage.sqlite3"

# name -> (default, help). README's settings table is written from this registry.
REGISTRY: dict[str, tuple[str, str]] = {
    "DATABASE_URL": (f"sqlite:///{DEFAULT_SQLITE}", "SQLAlchemy URL of the database (PostgreSQL in production)."),
    "AI_USAGE_SECRET": ("", "HS256 secret that signs the tokens (at least 32 bytes)."),
    "AI_USAGE_FRAME_ANCESTORS": ("'self'", "Origins allowed to frame the page (CSP frame-ancestors), space separated."),
    "AI_USAGE_STATEMENT_TIMEOUT_MS": ("10000", "Per-query time limit in milliseconds; past it the API answers 503."),
    "AI_USAGE_ROLLUPS": ("1", "Serve answers from the rollup tables (1) or from the raw table only (0)."),
    "AI_USAGE_REFRESH_SECONDS": ("5", "Seconds between the server's background rollup catch-ups (0: none; use `ai-usage refresh`)."),
}


@dataclass(frozen=True)
class Settings:
    database_url: str = REGISTRY["DATABASE_URL"][0]
    secret: str = ""
    frame_ancestors: str = "'self'"
    statement_timeout_ms: int = 10_000
    use_rollups: bool = True
    refresh_seconds: float = 5.0
    demo: bool = False  # serve without a real secret (prints a token link)

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
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
        )
        return replace(s, **overrides) if overrides else s
