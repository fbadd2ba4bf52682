"""Settings: one declared registry, read from the environment, with defaults and help.

Each setting is declared once, as a field of `Settings`: its variable, its default as
written in the environment, its help and its conversion. Everything else is derived from
that: the dataclass defaults, `from_env`, `REGISTRY` and the README's settings table
(`ai-usage settings` prints it; tests/test_settings.py checks the README against it).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "data" / "ai_usage.sqlite3"

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


# ---------------------------------------------------------------- conversions (text -> value)


def flag(raw: str) -> bool:
    """'0', 'false', 'no' are off; anything else is on."""
    return raw not in ("0", "false", "no")


def optional_ttl(raw: str) -> timedelta | None:
    """Empty: no limit; else a positive duration (90s, 15m, 12h, 7d)."""
    if not raw.strip():
        return None
    ttl = parse_duration(raw)
    if ttl <= timedelta(0):
        raise ValueError("must be above 0 (leave it empty for no limit)")
    return ttl


CSP_SOURCE = re.compile(r"[\x21-\x7e]+")  # one CSP source expression: printable ASCII, no spaces
MAX_TIMEOUT_MS = 2_147_483_647  # PostgreSQL's statement_timeout is an int of milliseconds
MAX_REFRESH_S = 86_400.0


def csp_sources(raw: str) -> list[str]:
    """The `frame-ancestors` sources of the setting (space or comma separated). A `;` or a
    control character would let it inject other CSP directives or break the header: ValueError."""
    sources = [s for s in re.split(r"[\s,]+", raw or "") if s]
    for s in sources:
        if ";" in s or not CSP_SOURCE.fullmatch(s):
            raise ValueError(f"{s!r} is not a valid CSP source expression")
    return sources


def frame_ancestors(raw: str) -> str:
    csp_sources(raw)
    return raw


def cache_url(raw: str) -> str:
    """Empty (a cache in each process), `none` (no cache) or a Redis URL."""
    if raw and raw.strip().lower() != "none" and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must be a redis://, rediss:// or unix:// URL, or none (no cache)")
    return raw


def timeout_ms(raw: str) -> int:
    """Whole milliseconds, 0 for no limit (a negative one made every PostgreSQL connection fail,
    which /readyz called "the database cannot be reached")."""
    try:
        ms = int(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a whole number of milliseconds") from None
    if not 0 <= ms <= MAX_TIMEOUT_MS:
        raise ValueError(f"must be from 0 (no limit) to {MAX_TIMEOUT_MS} milliseconds")
    return ms


def seconds_between(raw: str) -> float:
    """Seconds between catch-ups, 0 for none; NaN, inf and negatives are refused (they used to be
    taken as is: a negative or NaN turned the catch-up off without a word)."""
    try:
        s = float(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a number of seconds") from None
    if not 0 <= s <= MAX_REFRESH_S:  # NaN fails both comparisons
        raise ValueError(f"must be from 0 (no background catch-up) to {MAX_REFRESH_S:.0f} seconds")
    return s


BACKENDS = ("postgresql", "sqlite")  # the two engines the queries are written and tested for


def driver_url(url: Any) -> Any:
    """url (a sqlalchemy URL) with the driver the project ships: SQLAlchemy 2.1 reads a bare
    postgresql:// (or postgres://) as psycopg 3; the project ships psycopg2."""
    return url.set(drivername="postgresql+psycopg2") if url.drivername in ("postgresql", "postgres") else url


def database_url(raw: str) -> str:
    """A URL SQLAlchemy can read, of PostgreSQL or SQLite, whose driver is installed; ValueError
    in words otherwise (each command used to end in SQLAlchemy's traceback: ArgumentError,
    NoSuchModuleError, ModuleNotFoundError for MySQLdb)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = driver_url(make_url(raw))
    except (ArgumentError, ValueError):
        raise ValueError("not a database URL (e.g. postgresql://user@host/db or sqlite:////path/to/file.db)") from None
    if url.get_backend_name() not in BACKENDS:
        raise ValueError(f"the dashboard runs on PostgreSQL or SQLite, not {url.get_backend_name()!r}") from None
    try:
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise ValueError(
            f"no driver {url.drivername!r} here (postgresql:// uses psycopg2, sqlite:// Python's sqlite3)"
        ) from None
    return raw


def setting(env: str, default: str, help: str, convert: Callable[[str], Any] = str) -> Any:
    """Declare a field of Settings read from the variable `env` (default: as the environment writes it)."""
    return dataclasses.field(
        default=convert(default), metadata={"env": env, "default": default, "help": help, "convert": convert}
    )


@dataclass(frozen=True)
class Settings:
    database_url: str = setting(
        "DATABASE_URL",
        f"sqlite:///{DEFAULT_SQLITE}",
        "SQLAlchemy URL (PostgreSQL in production: `postgresql://user@host/db`, driven by psycopg2).",
        database_url,
    )
    secret: str = setting(
        "AI_USAGE_SECRET",
        "",
        "HS256 secret that signs the tokens; at least 32 bytes. `serve` refuses to start without it unless `--demo`.",
    )
    frame_ancestors: str = setting(
        "AI_USAGE_FRAME_ANCESTORS",
        "'self'",
        "Origins allowed to frame the page (CSP `frame-ancestors`), space or comma separated, "
        "e.g. `https://panel.example.com`.",
        frame_ancestors,
    )
    statement_timeout_ms: int = setting(
        "AI_USAGE_STATEMENT_TIMEOUT_MS",
        "10000",
        "Per-query time limit; past it the API answers 503 `query_timeout` and the page shows a banner.",
        timeout_ms,
    )
    use_rollups: bool = setting(
        "AI_USAGE_ROLLUPS",
        "1",
        "Answer from the rollup tables plus the live tail (1) or from the raw table only (0).",
        flag,
    )
    refresh_seconds: float = setting(
        "AI_USAGE_REFRESH_SECONDS",
        "5",
        "Seconds between the server's background rollup catch-ups (0: none; then run `ai-usage refresh`).",
        seconds_between,
    )
    max_token_ttl: timedelta | None = setting(
        "AI_USAGE_MAX_TOKEN_TTL",
        "",
        "Refuse tokens whose exp is further than this from now, as a number and a unit "
        "(90s, 15m, 12h, 7d; empty: no limit).",
        optional_ttl,
    )
    cache_url: str = setting(
        "AI_USAGE_CACHE_URL",
        "",
        "Redis URL (`redis://127.0.0.1:6379/0`) of the answer cache shared by every worker and instance; "
        "empty: a cache in each process; `none`: no cache. Redis unreachable: answers are computed uncached (logged).",
        cache_url,
    )
    metrics_token: str = setting(
        "AI_USAGE_METRICS_TOKEN",
        "",
        "Bearer token that `GET /metrics` requires (`Authorization: Bearer <token>`); empty: /metrics is "
        "open (keep it on a private network then).",
    )
    webhook_secret: str = setting(
        "AI_USAGE_WEBHOOK_SECRET",
        "",
        "HMAC-SHA256 key that signs every alert webhook (`X-AI-Usage-Signature`); empty: alerts are recorded "
        "but not delivered.",
    )
    webhook_allow_hosts: str = setting(
        "AI_USAGE_WEBHOOK_ALLOW_HOSTS",
        "",
        "Hosts a webhook may reach over plain `http://`, or at a private address (comma or space separated, "
        "e.g. `127.0.0.1`); any other webhook is `https://` to a public address.",
    )
    demo: bool = False  # not a variable: `serve --demo` (a throw-away secret, a token link)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment (an empty variable takes the default); ValueError names the variable."""
        source: Mapping[str, str] = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in declared():
            name = f.metadata["env"]
            try:
                values[f.name] = f.metadata["convert"](source.get(name) or f.metadata["default"])
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None
        s = cls(**values)
        return replace(s, **overrides) if overrides else s


def declared() -> list[dataclasses.Field[Any]]:
    """The fields of Settings read from the environment, in declaration order."""
    return [f for f in dataclasses.fields(Settings) if "env" in f.metadata]


# name -> (default, help): the registry as the README and the CLI show it.
REGISTRY: dict[str, tuple[str, str]] = {
    f.metadata["env"]: (f.metadata["default"], f.metadata["help"]) for f in declared()
}


def shown_default(raw: str) -> str:
    """A default as the README writes it: the checkout's path as <repo>, nothing as —."""
    if not raw:
        return "—"
    return "`" + raw.replace(str(ROOT), "<repo>") + "`"


def markdown_table() -> str:
    """The README's settings table, written from the registry."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {shown_default(default)} | {help} |" for name, (default, help) in REGISTRY.items()]
    return "\n".join(lines) + "\n"
