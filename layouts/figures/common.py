"""What every figure builder shares: the empty state, naive local x values, hover strings."""

from __future__ import annotations

import math
import textwrap
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pandas as pd

from .. import fmt, plot, theme
from ..i18n import N_, _

NO_DATA = N_("Sin datos en este periodo")
HINT_WIDTH = 44  # characters per line of an empty state's hint: fits a 300 px wide chart


def add_donut(
    fig: plot.Figure,
    labels: list,
    values: list,
    colours: list,
    name: str,
    caption: str,
    formatter,
    *,
    hole: float,
    caption_px: int,
    total_px: int,
    keys: list | None = None,
    **pie,
) -> None:
    """A donut of shares with the total in its centre (the actions' and the sources' donuts).

    Shares by fmt.share ('96,9 %', '< 0,1 %'), not plotly's %{percent} ('0,0326%'); each
    slice's text black or white, whichever reads better on it (theme.text_on). keys: each
    slice's raw value, last in its customdata (never printed): a click filters by it, and its
    hover says so; a slice whose key is None filters nothing and says nothing of it."""
    total = float(sum(values))
    fig.add_trace(
        plot.pie(
            labels=labels,
            values=values,
            hole=hole,
            sort=False,
            direction="clockwise",
            marker=dict(colors=colours, line=dict(color=theme.SURFACE, width=2)),
            insidetextfont=dict(color=[theme.text_on(c) for c in colours]),
            text=[fmt.share(v, total) for v in values],
            texttemplate="%{text}",
            textposition="inside",
            customdata=[
                [formatter(v)] + ([_click_hint(keys[i]), click_key(keys[i] or "")] if keys else [])
                for i, v in enumerate(values)
            ],
            hovertemplate="<b>%{label}</b><br>"
            + name
            + ": %{customdata[0]}<br>"
            + _("%{text} del total")
            + ("%{customdata[1]}" if keys else "")
            + "<extra></extra>",
            **pie,
        )
    )
    theme.relayout(
        fig,
        margin=dict(l=8, r=8, t=8, b=8),
        uniformtext=dict(minsize=10, mode="hide"),
        annotations=[
            dict(
                text=f"<span style='font-size:{caption_px}px;color:{theme.MUTED}'>{caption}</span><br>"
                f"<b>{formatter(total)}</b>",
                x=0.5,
                y=0.5,
                showarrow=False,
                font=dict(size=total_px, color=theme.INK),
            )
        ],
    )


CLICK_TO_FILTER = N_("Clic para filtrar")


def _click_hint(key) -> str:
    """The hover's last line of a clickable point (our own words, never data)."""
    return f"<br>{_(CLICK_TO_FILTER)}" if key is not None else ""


def click_key(value: Any) -> str:
    """A raw value carried in customdata for a click (never printed): percent-encoded, so no
    data string sits in the figure with markup in it; the click callback decodes it."""
    return quote(str(value), safe="")


def empty(message: str = NO_DATA, height: int | None = None, hint: str | None = None) -> plot.Figure:
    """A figure that says why it has nothing to show (no axes, no misleading zero); message and
    hint are msgids or text already in the page's language (translated here either way)."""
    message, hint = _(message), (_(hint) if hint else hint)
    # Plotly never wraps an annotation: a long hint ran past both edges of a donut-sized chart.
    hint = "<br>".join(textwrap.wrap(hint, HINT_WIDTH)) if hint else hint
    text = f"<b>{message}</b>" + (f"<br><span style='font-size:12px;color:{theme.MUTED}'>{hint}</span>" if hint else "")
    note = dict(
        text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=14, color=theme.INK)
    )
    # All in the constructor (the same figure as add_annotation and three updates: half the CPU).
    return theme.figure(
        height=height,
        annotations=[note],
        xaxis={"visible": False},
        yaxis={"visible": False},
        meta={"empty": True, "message": message},
    )


def is_empty(fig: plot.Figure) -> bool:
    meta = fig.layout.get("meta")
    return isinstance(meta, dict) and bool(meta.get("empty"))


def local_x(buckets: pd.Series) -> pd.Series:
    """Local wall-clock times without offset: what plotly.js draws on a date axis."""
    s = pd.Series(buckets)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s


HOVER_FORMAT = {  # the header of an x-unified hover, per granularity (names via the graph's locale)
    # d3 date formats are msgids too: English writes «Tue, Dec 1, 2026», «Week of Dec 1, 2026».
    "hour": N_("%a %-d %b %Y, %H:%M"),
    "day": N_("%a %-d %b %Y"),
    "week": N_("Semana del %-d %b %Y"),
    "month": N_("%B de %Y"),  # 'diciembre de 2026', like fmt.month
}
DAY_MONTH = N_("%-d %b")  # a day tick: «3 jun» / «Jun 3»


def hover_format(granularity: str) -> str | None:
    return _(HOVER_FORMAT[granularity]) if granularity in HOVER_FORMAT else None


DAY_MS = 86_400_000
# Tick labels by tick spacing (plotly picks the spacing as the window and the width allow).
TICK_STOPS: list[dict[str, Any]] = [
    dict(dtickrange=[None, DAY_MS - 1], value="%H:%M\n" + DAY_MONTH),
    dict(dtickrange=[DAY_MS, "M1"], value=DAY_MONTH),
    dict(dtickrange=["M1", None], value="%b %Y"),
]


MONTH_TICKS = 8  # at most this many month labels: readable at 768 px too
DAY_TICKS = 10  # at most this many day/week labels
MONDAY = "2000-01-03"  # tick0 of weekly ticks: weeks start on Monday (plotly's own weekly ticks fall on Sundays)


def time_axis(granularity: str, periods: int | None = None) -> dict:
    """A date x axis: Spanish tick labels (through the graph's locale) and a hover header
    that names the period, e.g. 'Semana del 2 jun 2025'.

    Monthly series get one tick per month (every few months past MONTH_TICKS), labelled
    'oct 2026': left to itself plotly ticks a two-point series weekly ('4 oct', '11 oct'),
    which reads as if the points were days."""
    if granularity == "month":
        step = max(1, math.ceil((periods or 1) / MONTH_TICKS))
        return dict(
            type="date", hoverformat=hover_format("month"), dtick=f"M{step}", tickformat="%b %Y", ticklabelstandoff=4
        )
    if granularity in ("day", "week") and periods:
        return day_ticks(granularity, periods)
    stops = [dict(s, value=s["value"].replace(DAY_MONTH, _(DAY_MONTH))) for s in TICK_STOPS]
    return dict(type="date", hoverformat=hover_format(granularity), tickformatstops=stops, ticklabelstandoff=4)


def day_ticks(granularity: str, periods: int) -> dict:
    """Daily or weekly series: ticks every 1, 2, 7, 14 or 28 days (the smallest that keeps
    DAY_TICKS labels or fewer), anchored on a Monday from 7 days up, so a weekly tick is
    the start of a week as the page counts weeks (Monday to Sunday). Longer spans tick months."""
    days = periods * (7 if granularity == "week" else 1)
    steps = [s for s in (1, 2, 7, 14, 28) if s >= (7 if granularity == "week" else 1)]
    step = next((s for s in steps if days / s <= DAY_TICKS), None)
    base = dict(type="date", hoverformat=hover_format(granularity), ticklabelstandoff=4)
    if step is None:
        months = math.ceil(days / 30.4)
        return dict(base, dtick=f"M{max(1, math.ceil(months / MONTH_TICKS))}", tickformat="%b %Y")
    return dict(base, tick0=MONDAY, dtick=step * DAY_MS, tickformat=_(DAY_MONTH))


def hex_to_rgba(colour: str, alpha: float) -> str:
    c = colour.lstrip("#")
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    return f"rgba({r}, {g}, {b}, {alpha})"


def count_axis(top: float, n: int = 5, whole: bool = True) -> dict:
    """Ticks for a token axis labelled like the KPIs (200K, 1,4M), not d3's 200k / 1.4G: a
    count steps by whole units at least. With whole=False (a cost axis of cents) a step under
    1 keeps the decimals it needs (0,01 · 0,02). Where the KPIs' one decimal would round a
    tick (1,25M read as 1,2M) every tick is written whole."""
    top = float(top) if top and top > 0 else 1.0
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    steps = [m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw]
    if whole:  # 1, 2, 5, 10, 20, 25, 50…: never 0,5 or 2,5 of a count
        steps = [s for s in steps if float(s).is_integer()] or [1.0]
    step = min(steps)
    vals = [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]
    if step >= 1 and all(fmt.compact_is_exact(v) for v in vals):
        return dict(tickmode="array", tickvals=vals, ticktext=[fmt.compact(v) for v in vals])
    places = max(0, -int(Decimal(repr(step)).normalize().as_tuple().exponent))
    return dict(tickmode="array", tickvals=vals, ticktext=[fmt.number(round(v, places), places) for v in vals])
