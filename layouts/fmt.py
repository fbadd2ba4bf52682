"""Numbers and dates as the reader of the page's language expects them.

Spanish (the default) and English; the language is the request's (layouts/i18n.py:
`i18n.current()`), so a caller never passes it. Symbols and names come from Babel's CLDR
data (`babel.numbers`, `babel.dates`); the patterns below are the page's own, one per
language, and tests/test_i18n.py (CASES) pins both:

| what            | es                                   | en                                  |
|-----------------|--------------------------------------|-------------------------------------|
| money           | "US$ 1.234,56", "< US$ 0,01"         | "$1,234.56", "< $0.01"              |
| a change        | "+US$ 41,20", "−< US$ 0,01"          | "+$41.20", "−< $0.01"               |
| other currency  | "1.135,80 €", "8,00 GBP"             | "€1,135.80", "GBP 8.00"             |
| compact tokens  | "950", "820K", "1,4M", "2,3 mil M"   | "950", "820K", "1.4M", "2.3B"       |
| full count      | "1.412.345" (also "1.234": grouped)  | "1,412,345"                         |
| percentage      | "34,5 %"                             | "34.5%"                             |
| day             | "1 dic 2026", "mar 1 dic 2026"       | "Dec 1, 2026", "Tue, Dec 1, 2026"   |
| month           | "diciembre de 2026"                  | "December 2026"                     |

Why these: Spanish as the product always wrote it (US$ with a space, a space before %, always
grouped, K = miles, M = millones, mil M = miles de millones); English as a US finance admin
reads a US-dollar amount ("$1,234.56", CLDR en's own symbol for USD; "1.4M", "2.3B", "12.4%").
Spanish month and weekday names are lowercase everywhere (ticks, hovers, heatmap, tables),
capitalised only as the first word of a sentence; English ones are capitalised.

The same conventions reach the charts (plotly `separators` and locale: theme.separators(),
plotly_config.graph_config()) and the grid (assets/dashAgGridFunctions.js, by <html lang>).

A ratio without a denominator (a hit rate with no prompt tokens, a share of a zero total) is
"N/A" in both languages; any other value that does not exist is "—". Data text inside a chart
goes through `text()` (escaped for plotly's pseudo-HTML).

The display currency (`?currency=`, `Money` below) converts a USD amount only when it is
formatted, in the same language's pattern ("other currency" above).

Over 300 lines: every way the page writes a number, a date or an amount (language × currency)
shares one Convention; split, the pieces would import each other.
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.numbers import get_currency_precision

from . import i18n
from .i18n import _

NOT_APPLICABLE = "N/A"  # a ratio without a denominator (see the module docstring)


@dataclass(frozen=True)
class Convention:
    """How one language writes numbers and dates on this page."""

    decimal: str
    group: str
    money: str  # "{sign}US$ {n}" / "{sign}${n}"
    foreign: str  # another currency, by symbol: "{sign}{n} €" / "{sign}€{n}"
    foreign_code: str  # one without a symbol, by ISO code: "{sign}{n} GBP" / "{sign}GBP {n}"
    percent: str  # "{n} %" / "{n}%"
    compact: tuple[tuple[float, str], ...]  # (size, suffix), largest first
    months: tuple[str, ...]
    short_months: tuple[str, ...]
    days: tuple[str, ...]  # Sunday = 0
    short_days: tuple[str, ...]
    narrow_days: tuple[str, ...]  # one letter: «L M X J V S D» / «M T W T F S S» (CLDR narrow)
    day: str  # str.format pattern over d (day), b (short month), y (year)
    weekday_day: str  # the same with a (short weekday)
    month: str  # B (month name), y
    week: str  # "Semana del {day}" / "Week of {day}"


def _names(locale: Locale, kind: str, width: str) -> tuple[str, ...]:
    """CLDR month (1..12) or weekday names (Sunday first) in their stand-alone/format form."""
    if kind == "months":
        names = locale.months["format"][width]
        return tuple(names[i] for i in range(1, 13))
    names = locale.days["format"][width]  # Babel: 0 = Monday … 6 = Sunday
    return tuple(names[(i + 6) % 7] for i in range(7))


@functools.cache
def convention(lang: str) -> Convention:
    loc = Locale.parse("es" if lang == "es" else "en_US")
    symbols = loc.number_symbols["latn"]
    if lang == "es":
        return Convention(
            decimal=symbols["decimal"],
            group=symbols["group"],
            money="{sign}US$ {n}",
            foreign="{sign}{n} {symbol}",
            foreign_code="{sign}{n} {symbol}",
            percent="{n} %",
            compact=((1e9, " mil M"), (1e6, "M"), (1e3, "K")),
            months=tuple(m.lower() for m in _names(loc, "months", "wide")),
            short_months=tuple(m.lower().rstrip(".") for m in _names(loc, "months", "abbreviated")),
            days=tuple(d.lower() for d in _names(loc, "days", "wide")),
            short_days=tuple(d.lower().rstrip(".") for d in _names(loc, "days", "abbreviated")),
            narrow_days=_names(loc, "days", "narrow"),
            day="{d} {b} {y}",
            weekday_day="{a} {d} {b} {y}",
            month="{B} de {y}",
            week="Semana del {day}",
        )
    return Convention(
        decimal=symbols["decimal"],
        group=symbols["group"],
        money="{sign}${n}",
        foreign="{sign}{symbol}{n}",
        foreign_code="{sign}{symbol} {n}",
        percent="{n}%",
        compact=((1e9, "B"), (1e6, "M"), (1e3, "K")),
        months=_names(loc, "months", "wide"),
        short_months=_names(loc, "months", "abbreviated"),
        days=_names(loc, "days", "wide"),
        short_days=_names(loc, "days", "abbreviated"),
        narrow_days=_names(loc, "days", "narrow"),
        day="{b} {d}, {y}",
        weekday_day="{a}, {b} {d}, {y}",
        month="{B} {y}",
        week="Week of {day}",
    )


def _c() -> Convention:
    return convention(i18n.current())


# The Spanish names (the default language), as module constants for the code and tests that
# name Spanish on purpose; `months()`, `days()`… give the current language's.
MONTHS = convention("es").months
SHORT_MONTHS = convention("es").short_months
DAYS = convention("es").days  # Sunday = 0
SHORT_DAYS = convention("es").short_days


def months() -> tuple[str, ...]:
    return _c().months


def short_months() -> tuple[str, ...]:
    return _c().short_months


def days() -> tuple[str, ...]:
    """Weekday names, Sunday = 0, in the current language."""
    return _c().days


def short_days() -> tuple[str, ...]:
    return _c().short_days


def narrow_days() -> tuple[str, ...]:
    return _c().narrow_days


def _group(digits: str, sep: str) -> str:
    """'1234567' -> '1.234.567' (always grouped, also four-digit numbers)."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def number(x: float | Decimal, decimals: int = 0) -> str:
    """x with `decimals` decimals and grouped thousands: es 1.234,5; en 1,234.5."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    c = _c()
    text = f"{abs(x):.{decimals}f}"
    whole, _, frac = text.partition(".")
    sign = "-" if x < 0 and float(text) != 0 else ""
    return sign + _group(whole, c.group) + (c.decimal + frac if frac else "")


def integer(n) -> str:
    return number(int(round(n)), 0) if n is not None else "—"


def usd(x, decimals: int = 2, money: Money | None = None) -> str:
    """es US$ 1.234,56 / en $1,234.56; a positive amount that would round to zero reads
    '< US$ 0,01' / '< $0.01'.

    money: the display currency (see Money); the USD amount x is converted exactly and
    rounded once, here: es '1.135,80 €', en '€1,135.80'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if money is not None and not money.is_usd:
        return money.format(x, decimals)
    c = _c()
    if 0 < abs(x) < 0.5 * 10**-decimals:
        return ("-" if x < 0 else "") + "< " + c.money.format(sign="", n=number(10**-decimals, decimals))
    text = number(x, decimals)
    negative = text.startswith("-")
    return c.money.format(sign="-" if negative else "", n=text[1:] if negative else text)


def signed_usd(delta, money: Money | None = None) -> str:
    """A change with its sign always written: '+US$ 41,20' / '−US$ 20,00'. Under half a cent
    the sign comes first, then the bound: '−< US$ 0,01', a fall of less than a cent («< −US$
    0,01», as «Mayores cambios» wrote it, reads as a fall of more than a cent)."""
    return ("+" if delta >= 0 else "−") + usd(abs(delta), money=money)


def money_prefix() -> str:
    """What goes before an amount on a chart axis: 'US$ ' / '$'."""
    return _c().money.format(sign="", n="")


def _compact_unit(n: float) -> tuple[float, int, str] | None:
    """(n in its unit, the decimals compact keeps, the unit's suffix), or None below a thousand."""
    for size, suffix in _c().compact:
        if abs(n) >= size * 0.9995:
            v = n / size
            return v, 0 if abs(v) >= 100 else 1, suffix
    return None


def compact(n) -> str:
    """950, 820K, 1,4M, 2,3 mil M (en: 1.4M, 2.3B): one decimal when it carries information."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    unit = _compact_unit(float(n))
    if unit is None:
        return number(float(n), 0)
    v, places, suffix = unit
    text = number(v, places)
    text = text[:-2] if text.endswith(_c().decimal + "0") else text
    return text + suffix


def compact_is_exact(n: float) -> bool:
    """compact(n) says n exactly: the decimals it keeps in its unit, or the whole number below
    a thousand, drop nothing (1,5K is 1,500; 1,2M is not 1,250,000)."""
    unit = _compact_unit(float(n))
    if unit is None:
        return float(n).is_integer()
    v, places, _suffix = unit
    return abs(v - round(v, places)) < 1e-9 * max(1.0, abs(v))


def percent(fraction, decimals: int = 1) -> str:
    """0.345 -> '34,5 %' / '34.5%'; None -> 'N/A' (a ratio without a denominator)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return NOT_APPLICABLE
    return _c().percent.format(n=number(fraction * 100, decimals))


def change_percent(fraction) -> str:
    """A change's size: one decimal ('45,0 %'), none from 1.000 % on ('79.555 %'), as the grids'
    Δ % column writes it (assets/dashAgGridFunctions.js, formatDelta): a decimal there only widens it."""
    return percent(fraction, 0 if abs(fraction) >= 10 else 1)


def share(part, total, decimals: int = 1) -> str:
    """part / total as a percentage: '96,9 %'; a positive share that would round to
    zero reads '< 0,1 %' (never '0,0 %', never plotly's '0,0326%'); no total -> 'N/A'."""
    if not total:
        return NOT_APPLICABLE
    fraction = float(part) / float(total)
    if 0 < fraction < 0.5 * 10 ** -(decimals + 2):
        return "< " + percent(10 ** -(decimals + 2), decimals)
    return percent(fraction, decimals)


def day(d: date | datetime) -> str:
    """3 jun 2025 / Jun 3, 2025."""
    c = _c()
    return c.day.format(d=d.day, b=c.short_months[d.month - 1], y=d.year)


def weekday_day(d: date | datetime) -> str:
    """lun 3 jun 2025 / Mon, Jun 3, 2025."""
    c = _c()
    a = c.short_days[(d.weekday() + 1) % 7]
    return c.weekday_day.format(a=a, d=d.day, b=c.short_months[d.month - 1], y=d.year)


def month(d: date | datetime) -> str:
    """junio de 2025 / June 2025."""
    c = _c()
    return c.month.format(B=c.months[d.month - 1], y=d.year)


def long_day(d: date | datetime) -> str:
    """1 de enero de 1970 / January 1, 1970."""
    c = _c()
    if i18n.current() == "es":
        return f"{d.day} de {c.months[d.month - 1]} de {d.year}"
    return f"{c.months[d.month - 1]} {d.day}, {d.year}"


def bucket(ts: datetime, granularity: str) -> str:
    """What one point of a series is, in words: 'lun 3 jun 2025, 14:00', 'Semana del 2 jun 2025',
    'junio de 2025' (en: 'Mon, Jun 3, 2025, 14:00', 'Week of Jun 2, 2025', 'June 2025'). Spanish
    month and weekday names are lowercase, also first in a label (ticks, hovers, table cells)."""
    if granularity == "hour":
        return f"{weekday_day(ts)}, {ts.hour:02d}:00"
    if granularity == "week":
        return _c().week.format(day=day(ts))
    if granularity == "month":
        return month(ts)
    return weekday_day(ts)


def window(start: date, end: date) -> str:
    """1 jun 2025 – 30 jun 2025 (or a single day)."""
    return day(start) if start == end else f"{day(start)} – {day(end)}"


def text(value) -> str:
    """Data (a model, provider, agent or user name, an action type) as Plotly text.

    Plotly draws labels, ticks, hovers, legend names and annotations as pseudo-HTML: it
    interprets <a href>, <span style>, <b>, <br>… and decodes entities (&lt; &gt; &amp;
    &#60;). Escaping &, < and > makes every such string print literally: no tag can open
    and an entity in a name stays the characters it was. Quotes need no escaping (they
    only matter inside a tag). Every figure builder passes data text through here, and
    only data text: our own markup (<b>, <br>) stays markup."""
    return html.escape("" if value is None else str(value), quote=False)


NAME_CHARS = 64  # a name shown in a chart's tick, a hover or a sentence: longer ones are clipped


def clip(value, limit: int = NAME_CHARS) -> str:
    """Data text shortened for display: at most `limit` characters, the last one «…» when cut.
    A 300-character model name as a bar's tick squeezed the bars to nothing and filled three
    lines of an anomaly's sentence; the full name stays in the tables («Ver datos», the grids,
    whose cells cut it with an ellipsis and show it whole on hover) and in every CSV."""
    s = "" if value is None else str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def short_text(value, limit: int = NAME_CHARS) -> str:
    """clip() then text(): a clipped name as Plotly text. Never a category value (two names
    alike in their first characters would fall into one bar or slice): those stay text()."""
    return text(clip(value, limit))


@dataclass(frozen=True)
class Money:
    """The display currency of the page (`?currency=`): every amount is summed in USD and
    converted only when it is shown, with `rate` units of `code` per USD dated `as_of`.

    `format` converts exactly (Decimal) and rounds once; `value` gives a chart position
    (a float) and `axis` the tick prefix or suffix. USD (the default) changes nothing."""

    code: str = "USD"
    rate: Decimal = Decimal(1)
    as_of: date | None = None

    @property
    def is_usd(self) -> bool:
        return self.code == "USD"

    @property
    def symbol(self) -> str:
        return {"USD": "US$", "EUR": "€"}.get(self.code, self.code)

    @property
    def minor_units(self) -> int:
        """The currency's decimals (ISO 4217, CLDR): 2 for USD and EUR, 0 for JPY, 3 for BHD."""
        return int(get_currency_precision(self.code))

    def places(self, decimals: int = 2) -> int:
        """The decimals of an amount asked with `decimals` for US$ (2: an amount; 4: a unit cost):
        as many more or fewer as the currency has minor units more or fewer than the dollar's
        2. «7.222 JPY» (never «7.221,67 JPY»), a cost per call «0,62 JPY», «12,345 BHD»."""
        return max(0, decimals + self.minor_units - 2)

    def convert(self, x) -> Decimal:
        """The USD amount x in this currency, exact (x as the decimal it prints as)."""
        return Decimal(str(x)) * self.rate

    def value(self, x) -> float:
        return float(x) if self.is_usd else float(self.convert(x))

    def values(self, xs) -> list[float]:
        return [self.value(x) for x in xs]

    def _pattern(self) -> str:
        c = _c()
        return c.foreign_code if self.symbol.isalpha() else c.foreign

    def format(self, x, decimals: int = 2) -> str:
        """In the page's language: es '1.234,56 €' (Spanish writes the symbol after the
        amount), en '€1,234.56'; '< 0,01 €' / '< €0.01' for a positive amount that would
        round to zero. USD is `usd()`'s: 'US$ 1.234,56' / '$1,234.56'. `decimals` is the
        dollar's; the currency's own minor units adjust it (places())."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "—"
        if self.is_usd:
            return usd(x, decimals)
        d = self.convert(x)
        decimals = self.places(decimals)
        pattern = self._pattern()
        if 0 < abs(d) < Decimal(5) * Decimal(10) ** -(decimals + 1):
            tiny = pattern.format(sign="", n=number(10**-decimals, decimals), symbol=self.symbol)
            return ("-" if d < 0 else "") + "< " + tiny
        text = number(d, decimals)
        negative = text.startswith("-")
        return pattern.format(sign="-" if negative else "", n=text[1:] if negative else text, symbol=self.symbol)

    def axis(self) -> dict:
        """Plotly tick prefix/suffix for a cost axis, in the page's language: es 'US$ ' /
        ' €' after; en '$' / '€' before."""
        if self.is_usd:
            return {"tickprefix": money_prefix()}
        head, _n, tail = self._pattern().partition("{n}")
        head = head.format(sign="", symbol=self.symbol)
        tail = tail.format(symbol=self.symbol)
        return {"tickprefix": head} if head else {"ticksuffix": tail}

    def note(self) -> str:
        """«Importes en EUR a 0,92 por USD (tasa del 1 dic 2026).» in the page's language."""
        if self.is_usd:
            return _("Importes en dólares estadounidenses (US$).")
        rate = self.rate.normalize()
        places = max(0, -int(rate.as_tuple().exponent))
        if self.as_of:
            return _("Importes en {code} a {rate} por USD (tasa del {day}).").format(
                code=self.code, rate=number(rate, places), day=day(self.as_of)
            )
        return _("Importes en {code} a {rate} por USD.").format(code=self.code, rate=number(rate, places))


USD = Money()
