"""Import rules: the columns, limits and value formats a CSV row must meet, and the value parsers."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from storage import measures

BATCH_ROWS = 50_000
MAX_BIGINT = 2**63 - 1
# Explicit ids stay at or below 2^62: the id sequence (BIGINT) is moved past the largest
# id, and an id near 2^63 - 1 would leave the platform's own inserts no id to take
# (nextval: reached maximum value). 2^62 leaves room for 4.6e18 more rows.
ID_CEILING = 2**62
MAX_INT = 2**31 - 1
# Tokens per row: far above any context window, low enough that sums over billions of
# rows stay inside BIGINT. The dashboard saturates rows the platform writes outside this
# bound (storage.measures, docs/figures.md); the importer refuses them.
MAX_TOKENS = measures.MAX_TOKENS
LOG_REQUIRED = ("org_id", "created_at", "action_type", "source", "provider", "model")
TOKEN_COLUMNS = measures.TOKEN_COLUMNS
AGENT_REQUIRED = ("id", "org_id", "name")
AGENT_COLUMNS = ("id", "org_id", "name", "avatar_url")
AVATAR_SCHEMES = ("https://", "http://", "data:image/")

# ASCII digits only ([0-9], not \d, which also matches other scripts' digits).
ISO_AWARE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)"
)
ISO_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")
TOO_FINE = re.compile(r".*\.[0-9]{7,}.*")  # the database keeps microseconds
DIGITS = re.compile(r"[0-9]+")
COST = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,8})?")  # below MAX_COST_USD, as written by hand
# What pandas and psql also write: E-notation (5.819e-05) and integral floats (2336.0).
NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
COST_STEP = Decimal("0.00000001")
COST_LIMIT = Decimal(measures.MAX_COST_USD)  # at most (NUMERIC(18,8) would hold up to 1e10)


def show(value: Any, limit: int = 40) -> str:
    value = str(value)  # a cell of a numpy array: its text, quoted the way Python writes a str
    return repr(value if len(value) <= limit else value[:limit] + "…")


def array(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def matches(rx: re.Pattern, col: np.ndarray) -> np.ndarray:
    return np.fromiter((rx.fullmatch(v) is not None for v in col), dtype=bool, count=len(col))


def per_value(col: np.ndarray, bad) -> np.ndarray:
    """bad(value) for each distinct value once (ids, names, types repeat a lot)."""
    if not len(col):
        return np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(col)
    return np.array([bool(bad(u)) for u in uniques], dtype=bool)[codes]


def stripped(col: np.ndarray) -> np.ndarray:
    return array([v.strip() for v in col])


class Errors:
    """Collects reasons per line for one batch from vectorised masks."""

    def __init__(self, lines: list[int], errors: dict):
        self.lines = np.asarray(lines, dtype=np.int64)
        self.errors = errors

    def add(self, mask, reason) -> None:
        """reason: a string, or a function of the cell value giving one."""
        mask = np.asarray(mask, dtype=bool)
        for i in np.flatnonzero(mask):
            self.errors.setdefault(int(self.lines[i]), []).append(reason(i) if callable(reason) else reason)


def to_decimal(v: str) -> Decimal | None:
    """The exact value of an unsigned decimal or E-notation number (ASCII digits), else None."""
    if not NUMBER.fullmatch(v):
        return None
    try:
        return Decimal(v)
    except InvalidOperation:
        return None


def integral(v: str, maximum: int) -> int | None:
    """An integral number written as a float ('2336.0', '1.2e3'): its int if 0..maximum."""
    d = to_decimal(v)
    if d is None or d > maximum or d != d.to_integral_value():
        return None
    return int(d)


def whole(col: np.ndarray, maximum: int) -> tuple[np.ndarray, np.ndarray]:
    """(ok mask, int64 values) of whole numbers 0..maximum: plain digits, or an integral
    float as pandas writes an integer column with missing values ('12.0')."""
    digits = matches(DIGITS, col)
    lens = np.fromiter(map(len, col), dtype=np.int64, count=len(col))
    short = digits & (lens <= 18)
    vals = np.zeros(len(col), dtype=np.int64)
    if short.any():
        vals[short] = col[short].astype("U18").astype(np.int64)
    ok = short.copy()
    for i in np.flatnonzero(digits & (lens > 18)):  # leading zeros, or past int64
        v = int(col[i])
        if v <= MAX_BIGINT:
            ok[i], vals[i] = True, v
    for i in np.flatnonzero(~digits & (lens > 0)):  # rare: only files with float columns
        w = integral(col[i], maximum)
        if w is not None:
            ok[i], vals[i] = True, w
    return ok & (vals <= maximum), vals


def parse_cost(v: str, round_cost: bool) -> tuple[str | None, bool]:
    """(plain decimal text or None when refused, rounded?) of a cost not written like 0.00125."""
    d = to_decimal(v)
    if d is None or d > COST_LIMIT:
        return None, False
    exact = d.quantize(COST_STEP, rounding=ROUND_HALF_EVEN)
    if exact != d and not round_cost:
        return None, False
    return format(exact if exact != d else d, "f"), exact != d


def cost_reason(v: Any) -> str:
    v = str(v)
    if v.startswith("-") and to_decimal(v[1:]) is not None:
        return f"cost_usd {show(v)} is negative"
    d = to_decimal(v)
    if d is None:
        return f"cost_usd {show(v)} is not a decimal number like 0.00125 or 5.819e-05"
    if d > COST_LIMIT:
        return f"cost_usd {show(v)} is too large (at most {COST_LIMIT} USD per call)"
    return f"cost_usd {show(v)} has more than 8 decimals (--round-cost rounds half-even to 8)"


def tokens(col: np.ndarray) -> np.ndarray:
    """A checked token column as int64 (empty: 0); plain digits take the vectorised path."""
    values = [v.strip() or "0" for v in col]
    try:
        return np.array(values).astype(np.int64)
    except ValueError:  # integral floats ('12.0') somewhere in the batch
        return whole(array(values), MAX_TOKENS)[1]


def int_or_none(v: str, maximum: int) -> int | None:
    if not v:
        return None
    try:
        return int(v)
    except ValueError:  # an integral float, checked in pass 1
        return integral(v, maximum)


def convert_logs(c: dict[str, np.ndarray], n: int, round_cost: bool = False) -> dict:
    """Normalised columns of a batch that passed _check_logs (pass 2: no checks again)."""
    out = {}
    stamps = pd.to_datetime(array([v.strip().upper() for v in c["created_at"]]), format="ISO8601", utc=True)
    out["created_at"] = np.asarray(stamps.tz_convert(None).as_unit("us").to_numpy())
    for name in TOKEN_COLUMNS:
        col = c.get(name)
        out[name] = np.zeros(n, dtype=np.int64) if col is None else tokens(col)
    for name, maximum in (("latency_ms", MAX_INT), ("id", MAX_BIGINT)):
        if name in c:
            out[name] = array([int_or_none(v, maximum) for v in stripped(c[name])])
    if "cost_usd" in c:
        out["cost_usd"] = array(
            [(v if COST.fullmatch(v) else parse_cost(v, round_cost)[0]) if v else None for v in stripped(c["cost_usd"])]
        )
    for name in ("agent_id", "user_id"):
        if name in c:
            out[name] = array([v or None for v in c[name]])
    for name in ("org_id", "action_type", "source", "provider", "model"):
        out[name] = c[name]
    return out
