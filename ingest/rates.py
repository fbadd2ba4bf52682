"""Display currency rates, the write side of `ai-usage rates set|import` (table currency_rates).

A rate is how many units of a currency one USD buys, from a date on (`as_of`). Setting a
rate for a (currency, date) that has one replaces it. `import` reads a CSV with the header
`currency,units_per_usd,as_of` (any order), checks every line first and writes all of them in
one transaction, or nothing: every bad line is printed as `FILE: line N: reason`, exit 2.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import sqlalchemy as sa

from storage.currencies import BASE, Rate, is_currency
from storage.schema import RATE_DECIMALS, currency_rates

from .importer.read import first_non_utf8_line

MAX_RATE = Decimal(10) ** 9
MIN_DAY, MAX_DAY = date(1970, 1, 1), date(2199, 12, 31)
COLUMNS = ("currency", "units_per_usd", "as_of")
# What an operator types: ASCII digits only. Decimal() also reads other scripts' digits
# ('١٢' = 12) and underscores ('1_000'), date.fromisoformat week dates ('2026-W49-1') and
# dates without dashes ('20261201'): a typo read as some other number or day is refused instead.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)", re.I)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadRate(ValueError):
    """A value the rates table cannot take; the message says why, in the operator's words."""


def parse_currency(text: str) -> str:
    code = (text or "").strip()
    if code == BASE:
        raise BadRate("USD is the currency every amount is stored in: it needs no rate")
    if not is_currency(code):
        raise BadRate(f"currency {code!r} is not an ISO 4217 code (three capital letters, e.g. EUR, MXN)")
    return code


def parse_rate(text: str) -> Decimal:
    """A positive decimal (0.92, 17.1234, 1.5e3) up to 10^9 with at most 10 decimals, kept exactly."""
    t = (text or "").strip()
    try:
        if not _NUMBER.fullmatch(t):
            raise InvalidOperation
        value = Decimal(t)
    except InvalidOperation:
        raise BadRate(f"units_per_usd {text!r} is not a number (write it with a dot: 0.92)") from None
    if not value.is_finite() or value <= 0 or value > MAX_RATE:
        raise BadRate(f"units_per_usd {text!r} must be above 0 and at most 1000000000")
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent > RATE_DECIMALS:
        raise BadRate(f"units_per_usd {text!r} has more than {RATE_DECIMALS} decimals")
    return value.normalize() if exponent < 0 else value.quantize(Decimal(1))


def parse_day(text: str) -> date:
    t = (text or "").strip()
    try:
        if not _DAY.fullmatch(t):
            raise ValueError
        day = date.fromisoformat(t)
    except ValueError:
        raise BadRate(f"as_of {text!r} is not a date (YYYY-MM-DD)") from None
    if not MIN_DAY <= day <= MAX_DAY:
        raise BadRate(f"as_of {text!r} must be between 1970-01-01 and 2199-12-31")
    return day


def write_rates(conn: sa.Connection, rates: list[Rate], now: datetime | None = None) -> None:
    """Store the rates in the caller's transaction; a (currency, as_of) already there is replaced."""
    now = now or datetime.now(UTC)
    t = currency_rates.c
    for r in rates:
        conn.execute(sa.delete(currency_rates).where(t.currency == r.currency, t.as_of == r.as_of))
    conn.execute(
        sa.insert(currency_rates),
        [
            {"currency": r.currency, "as_of": r.as_of, "units_per_usd": r.units_per_usd, "created_at": now}
            for r in rates
        ],
    )


def read_file(path: str, err) -> list[Rate] | None:
    """Every rate of the CSV, or None after printing each bad line (`FILE: line N: reason`)."""
    name = Path(path).name
    bad = 0
    rates: list[Rate] = []
    seen: dict[tuple[str, date], int] = {}

    def error(line: int, reason: str) -> None:
        nonlocal bad
        bad += 1
        print(f"{name}: line {line}: {reason}", file=err)

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                error(1, f"the header must name {', '.join(COLUMNS)} (missing: {', '.join(missing)})")
                return None
            where = {c: header.index(c) for c in COLUMNS}
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    error(line, f"{len(row)} fields where the header has {len(header)}")
                    continue
                try:
                    rate = Rate(
                        parse_currency(row[where["currency"]]),
                        parse_rate(row[where["units_per_usd"]]),
                        parse_day(row[where["as_of"]]),
                    )
                except BadRate as exc:
                    error(line, str(exc))
                    continue
                key = (rate.currency, rate.as_of)
                if key in seen:
                    error(line, f"{rate.currency} on {rate.as_of} is already given on line {seen[key]}")
                    continue
                seen[key] = line
                rates.append(rate)
    except FileNotFoundError:
        print(f"{path}: no such file", file=err)
        return None
    except OSError as exc:  # a folder, no permission: as the logs' import says it
        print(f"{path}: cannot open: {exc.strerror or exc}", file=err)
        return None
    except UnicodeDecodeError:  # the line it is on, in the logs' import's words (not "line 0")
        error(first_non_utf8_line(path), "not UTF-8 text; nothing was read past it")
    except csv.Error as exc:
        error(reader.line_num, f"unreadable CSV ({exc}); nothing after this line can be read")
    if bad:
        print(f"Rates refused: {bad} bad line{'s' if bad != 1 else ''} in {name}; nothing was written.", file=err)
        return None
    if not rates:
        print(f"{name}: no rates to import.", file=err)
        return None
    return rates
