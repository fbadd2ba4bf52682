"""Numbers and dates as a Spanish reader expects them: decimal comma, dot for thousands.

One convention for the whole page (figures use the same through plotly's
`separators=",."` and the grid through `assets/dashAgGridFunctions.js`):

- money: "US$ 1.234,56"; a positive amount under a cent is "< US$ 0,01", never a zero;
- token counts in compact form: "950", "820K", "1,4M", "2,3 mil M" (K = miles,
  M = millones, mil M = miles de millones) and in full: "1.412.345";
- percentages: "34,5 %";
- dates: "1 dic 2026", "mar 1 dic 2026", "diciembre de 2026": month and weekday names lowercase
  everywhere (ticks, hovers, heatmap, tables), capitalised only as the first word of a sentence;
- a ratio without a denominator (a hit rate with no prompt tokens, a share of a zero total) is
  "N/A" (not applicable, as the product's cache card has always said); any other value that
  does not exist (no data, a figure that could not be read) is "—";
- data text inside a chart goes through `text()` (escaped for plotly's pseudo-HTML).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

NOT_APPLICABLE = "N/A"  # a ratio without a denominator (see the module docstring)

MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
SHORT_MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic")
DAYS = ("domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado")  # Sunday = 0
SHORT_DAYS = ("dom", "lun", "mar", "mié", "jue", "vie", "sáb")


def _group(digits: str) -> str:
    """'1234567' -> '1.234.567' (always grouped, also four-digit numbers)."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ".".join(parts)


def number(x: float | Decimal, decimals: int = 0) -> str:
    """x with `decimals` decimals, decimal comma and grouped thousands: 1.234,5."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    text = f"{abs(x):.{decimals}f}"
    whole, _, frac = text.partition(".")
    sign = "-" if x < 0 and float(text) != 0 else ""
    return sign + _group(whole) + ("," + frac if frac else "")


def integer(n) -> str:
    return number(int(round(n)), 0) if n is not None else "—"


def usd(x, decimals: int = 2, money: Money | None = None) -> str:
    """US$ 1.234,56; a positive amount that would round to zero reads '< US$ 0,01'.

    money: the display currency (see Money); the USD amount x is converted exactly and
    rounded once, here: '1.135,80 €'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if money is not None and not money.is_usd:
        return money.format(x, decimals)
    if 0 < abs(x) < 0.5 * 10**-decimals:
        return ("-" if x < 0 else "") + "< US$ " + number(10**-decimals, decimals)
    text = number(x, decimals)
    return ("-US$ " + text[1:]) if text.startswith("-") else "US$ " + text


def compact(n) -> str:
    """950, 820K, 1,4M, 2,3 mil M: one decimal when it carries information."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    n = float(n)
    for size, suffix in ((1e9, " mil M"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= size * 0.9995:
            v = n / size
            text = number(v, 0 if abs(v) >= 100 else 1)
            text = text[:-2] if text.endswith(",0") else text
            return text + suffix
    return number(n, 0)


def percent(fraction, decimals: int = 1) -> str:
    """0.345 -> '34,5 %'; None -> 'N/A' (a ratio without a denominator)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return NOT_APPLICABLE
    return number(fraction * 100, decimals) + " %"


def share(part, total, decimals: int = 1) -> str:
    """part / total as a Spanish percentage: '96,9 %'; a positive share that would round to
    zero reads '< 0,1 %' (never '0,0 %', never plotly's '0,0326%'); no total -> 'N/A'."""
    if not total:
        return NOT_APPLICABLE
    fraction = float(part) / float(total)
    if 0 < fraction < 0.5 * 10 ** -(decimals + 2):
        return "< " + percent(10 ** -(decimals + 2), decimals)
    return percent(fraction, decimals)


def day(d: date | datetime) -> str:
    """3 jun 2025."""
    return f"{d.day} {SHORT_MONTHS[d.month - 1]} {d.year}"


def month(d: date | datetime) -> str:
    """junio de 2025."""
    return f"{MONTHS[d.month - 1]} de {d.year}"


def bucket(ts: datetime, granularity: str) -> str:
    """What one point of a series is, in words: 'lun 3 jun 2025, 14:00', 'Semana del 2 jun 2025',
    'junio de 2025'. Month and weekday names are lowercase, as Spanish writes them (also first
    in a label: ticks, hovers, table cells); only a sentence's first word takes a capital."""
    dow = SHORT_DAYS[(ts.weekday() + 1) % 7]
    if granularity == "hour":
        return f"{dow} {day(ts)}, {ts.hour:02d}:00"
    if granularity == "week":
        return f"Semana del {day(ts)}"
    if granularity == "month":
        return month(ts)
    return f"{dow} {day(ts)}"


def window(start: date, end: date) -> str:
    """Del 1 jun 2025 al 30 jun 2025 (or a single day)."""
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

    def convert(self, x) -> Decimal:
        """The USD amount x in this currency, exact (x as the decimal it prints as)."""
        return Decimal(str(x)) * self.rate

    def value(self, x) -> float:
        return float(x) if self.is_usd else float(self.convert(x))

    def values(self, xs) -> list[float]:
        return [self.value(x) for x in xs]

    def format(self, x, decimals: int = 2) -> str:
        """'1.234,56 €' (Spanish writes the symbol after the amount); '< 0,01 €' for a positive
        amount that would round to zero."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "—"
        if self.is_usd:
            return usd(x, decimals)
        d = self.convert(x)
        if 0 < abs(d) < Decimal(5) * Decimal(10) ** -(decimals + 1):
            return ("-" if d < 0 else "") + "< " + number(10**-decimals, decimals) + " " + self.symbol
        return number(d, decimals) + " " + self.symbol

    def axis(self) -> dict:
        """Plotly tick prefix/suffix for a cost axis."""
        return {"tickprefix": "US$ "} if self.is_usd else {"ticksuffix": " " + self.symbol}

    def note(self) -> str:
        """«Importes en EUR a 0,92 por USD (tasa del 1 dic 2026)»."""
        if self.is_usd:
            return "Importes en dólares estadounidenses (US$)."
        rate = self.rate.normalize()
        places = max(0, -int(rate.as_tuple().exponent))
        when = f" (tasa del {day(self.as_of)})" if self.as_of else ""
        return f"Importes en {self.code} a {number(rate, places)} por USD{when}."


USD = Money()
