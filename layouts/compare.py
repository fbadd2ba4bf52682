"""The comparison on the page (contract §3.2): how a KPI changed against the earlier window.

A delta reads «▲ 12,4 % vs periodo anterior» (or «vs mismo periodo de 2025»); the earlier
value and its dates are in its title. The colour says whether the change is good news and
the words say it too (a hidden sentence for screen readers, the title for the mouse), so
that no meaning rests on colour alone:

- cost: up is `delta-bad` (warning red), down is `delta-good` (green): more cost is never green;
- cache hit rate: up is good, down is bad; its change is in percentage points (pp);
- tokens: volume is neither good nor bad: `delta-neutral`.

A change from zero reads «nuevo» (never ∞ %); no change reads «sin cambios».
"""

from __future__ import annotations

from dash import html

from . import fmt
from .i18n import N_, _

COST, TOKENS, RATE = "cost", "tokens", "rate"
VS_PREVIOUS = N_("vs periodo anterior")
VS_YEAR = N_("vs mismo periodo de {year}")
# The ghost line's legend and the «Mayores cambios» column: the earlier window, named.
PREVIOUS_NAME = N_("Periodo anterior")
YEAR_NAME = N_("Mismo periodo de {year}")
MEANING = {  # (kind, direction) -> the sentence the colour stands for
    (COST, 1): N_("Más costo que en el periodo comparado: desfavorable."),
    (COST, -1): N_("Menos costo que en el periodo comparado: favorable."),
    (TOKENS, 1): N_("Más tokens que en el periodo comparado."),
    (TOKENS, -1): N_("Menos tokens que en el periodo comparado."),
    (RATE, 1): N_("Más aciertos de caché que en el periodo comparado: favorable."),
    (RATE, -1): N_("Menos aciertos de caché que en el periodo comparado: desfavorable."),
}


def years(before) -> str:
    """The earlier window's year, or «2024–2025» when it spans two."""
    a, b = before.start_date.year, before.end_date.year
    return str(a) if a == b else f"{a}–{b}"


def vs(compare: str, before) -> str:
    """«vs periodo anterior» / «vs mismo periodo de 2025»."""
    return _(VS_YEAR).format(year=years(before)) if compare == "year" else _(VS_PREVIOUS)


def period_name(compare: str, before) -> str:
    """«Periodo anterior» / «Mismo periodo de 2025»."""
    return _(YEAR_NAME).format(year=years(before)) if compare == "year" else _(PREVIOUS_NAME)


def tone(kind: str, direction: int) -> str:
    """The CSS class of a change: cost up is bad, the hit rate up is good, tokens are neutral."""
    if direction == 0 or kind == TOKENS:
        return "delta-neutral"
    good = direction < 0 if kind == COST else direction > 0
    return "delta-good" if good else "delta-bad"


def change(kind: str, current, previous) -> tuple[str, int]:
    """(the change as it reads, its direction -1 | 0 | 1). Amounts: cost in 1e-8 US$ units
    (ints, exact), tokens as ints, the hit rate as a fraction (None: no prompt tokens)."""
    if kind == RATE:
        if current is None:
            return fmt.NOT_APPLICABLE, 0
        if previous is None:
            return _("nuevo"), 1
        pp = round((float(current) - float(previous)) * 100, 1)
        if pp == 0:
            return _("sin cambios"), 0
        arrow = "▲" if pp > 0 else "▼"
        return _("{arrow} {n} pp").format(arrow=arrow, n=fmt.number(abs(pp), 1)), 1 if pp > 0 else -1
    cur, prev = int(current), int(previous)
    if cur == prev:
        return _("sin cambios"), 0
    if prev == 0:
        return _("nuevo"), 1
    direction = 1 if cur > prev else -1
    arrow = "▲" if direction > 0 else "▼"
    return f"{arrow} {fmt.change_percent(abs(cur - prev) / prev)}", direction


def delta(kind: str, current, previous, compare: str, before, previous_text: str) -> html.Div:
    """The line under a KPI's value: the change, against what, and (title) the earlier value
    `previous_text` with the earlier window's dates."""
    text, direction = change(kind, current, previous)
    meaning = _(MEANING[(kind, direction)]) if direction else _("Igual que en el periodo comparado.")
    when = _("{period} ({dates}): {value}").format(
        period=period_name(compare, before), dates=fmt.window(before.start_date, before.end_date), value=previous_text
    )
    return html.Div(
        [
            html.Span(text, className="kpi-delta-value"),
            html.Span(vs(compare, before), className="kpi-delta-vs"),
            html.Span(" " + meaning, className="visually-hidden"),
        ],
        className=f"kpi-delta {tone(kind, direction)}",
        title=f"{when}. {meaning}",
    )


def with_delta(card: list, line) -> list:
    """A KPI card's children (layouts.kpis.card) with the delta line under its value."""
    return [*card[:2], line, *card[2:]] if line is not None else card
