"""Tendencia: cost as a line (left axis, USD), tokens as a shaded area (right axis), and the
month-end projection as a band at the active resolution.

Over 300 lines: one figure whose parts depend on each other — partial buckets, the
projection overlay capped to a share of the axis, and the record of what was drawn that
the note under the chart is written from.

Partial buckets (the one in progress, one cut by the window) are drawn as such: a hollow
marker, a dotted segment to it, and a hover that says «periodo en curso» / «periodo
incompleto», so a low last or first point does not read as a collapse.

The projection never dominates the axis: at most MAX_SHARE of the buckets drawn are
forecast ones; beyond that the band is cut and `Overlay` says how much was left out, so
that the note under the chart (layouts/trend.py) describes exactly what is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .. import fmt, plot, theme
from ..i18n import N_, _
from .common import count_axis, empty, local_x, time_axis

PROJECTION_NAME = N_("Proyección (tendencia lineal)")
PARTIAL_NAME = N_("Periodo parcial")
MAX_SHARE = 0.25  # the forecast may take at most a quarter of the x axis
RUNNING, CUT = N_("periodo en curso"), N_("periodo incompleto")
COLUMNS = ["x", "cost_usd", "lower", "upper", "kind"]


def _period_start(d: date, granularity: str) -> date:
    if granularity == "week":
        return d - timedelta(days=d.weekday())
    if granularity == "month":
        return d.replace(day=1)
    return d


def _period_end(start: date, granularity: str) -> date:
    if granularity == "week":
        return start + timedelta(days=6)
    if granularity == "month":
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return nxt - timedelta(days=1)
    return start


@dataclass(frozen=True)
class Overlay:
    """What the projection adds to the chart.

    frame: x (bucket start), cost_usd (centre), lower, upper (80 %), kind: 'current' (the
    last drawn bucket completed by the forecast: same x as an actual point) or 'forecast'
    (a bucket after the last actual one). mode: none | month | band. reason (mode none):
    hour | status | empty | cap. shown / hidden: future buckets drawn / left out by the cap
    (weeks cut by the month's end are never drawn). until: the last day the band covers."""

    frame: pd.DataFrame
    mode: str
    reason: str = ""
    shown: int = 0
    hidden: int = 0
    until: date | None = None

    def describe(self) -> dict:
        """A JSON-able summary (kept in the figure's meta for the note and the tests)."""
        kinds = list(self.frame["kind"]) if len(self.frame) else []
        return {
            "mode": self.mode,
            "reason": self.reason,
            "shown": self.shown,
            "hidden": self.hidden,
            "until": self.until.isoformat() if self.until else None,
            "current": "current" in kinds,
        }


def _none(reason: str) -> Overlay:
    return Overlay(pd.DataFrame(columns=COLUMNS), "none", reason)


def overlay(ts: pd.DataFrame, granularity: str, projection) -> Overlay:
    """The projection's part of the trend chart at this granularity (see Overlay).

    Day and week: the forecast days (weight r for the rest of today) summed per bucket; the
    bucket of the last actual point adds its actual cost ('current'); weeks crossing the
    month's end are left out (they would read as a drop). Month: the projected total of the
    month with its interval, on the current month's point. Hourly: none."""
    if projection is None or projection.status != "ok":
        return _none("status")
    if granularity == "hour":
        return _none("hour")
    if not len(ts):
        return _none("empty")
    x = local_x(ts["bucket"]).dt.date.tolist()
    cost = [float(c) for c in ts["cost_usd"]]
    if granularity == "month":
        i = x.index(projection.month_start) if projection.month_start in x else len(x) - 1
        row = (
            x[i],
            float(projection.projected_total_usd),
            float(projection.lower80),
            float(projection.upper80),
            "current",
        )
        return Overlay(pd.DataFrame([row], columns=COLUMNS), "month", until=projection.month_end)
    fc = projection.forecast
    groups: dict[date, tuple[list, list]] = {}
    for d, w in zip(fc["date"], fc["weight"]):
        start = _period_start(d, granularity)
        if _period_end(start, granularity) > projection.month_end:
            continue  # a week cut by the month's end would read as a drop
        groups.setdefault(start, ([], []))
        groups[start][0].append(d)
        groups[start][1].append(float(w))
    last = x[-1]
    rows = []
    if last in groups:
        centre, lo, hi = projection.band(*groups[last])
        rows.append((last, cost[-1] + centre, cost[-1] + lo, cost[-1] + hi, "current"))
    future = sorted(s for s in groups if s > last)
    room = math.floor(len(x) * MAX_SHARE / (1 - MAX_SHARE) + 1e-9)
    shown = future[:room]
    for start in shown:
        centre, lo, hi = projection.band(*groups[start])
        rows.append((start, centre, lo, hi, "forecast"))
    if not rows:
        return _none("cap")
    until = _period_end(rows[-1][0], granularity)
    return Overlay(
        pd.DataFrame(rows, columns=COLUMNS), "band", shown=len(shown), hidden=len(future) - len(shown), until=until
    )


def _flags(ts: pd.DataFrame, column: str) -> list[bool]:
    return [bool(v) for v in ts[column]] if column in ts else [False] * len(ts)


def partial_labels(ts: pd.DataFrame) -> list[str]:
    """Per bucket: '' (whole), «periodo en curso» (holds now) or «periodo incompleto» (cut by the window)."""
    running = _flags(ts, "in_progress")
    return [_(RUNNING if r else CUT) if p else "" for p, r in zip(_flags(ts, "partial"), running)]


def trend(
    ts: pd.DataFrame, granularity: str, projection=None, height: int = 340, money: fmt.Money = fmt.USD
) -> plot.Figure:
    """Cost line over a token area, one point per bucket of the active granularity up to now
    (amounts in the display currency `money`: positions converted, hovers formatted from USD)."""
    if not len(ts) or int(ts["executions"].sum()) == 0:
        return empty(height=height)
    x = local_x(ts["bucket"])
    n = len(ts)
    labels = partial_labels(ts)
    fig = theme.figure(height=height, hovermode="x unified")
    fig.add_trace(
        plot.scatter(
            x=x,
            y=ts["tokens"],
            name=_("Tokens"),
            yaxis="y",
            mode="lines",
            fill="tozeroy",
            line=dict(color=theme.TOKENS, width=1, shape="linear"),
            fillcolor=theme.TOKENS_FILL,
            customdata=[[f"{fmt.compact(t)} ({fmt.integer(t)})"] for t in ts["tokens"]],
            hovertemplate=_("Tokens: %{customdata[0]}") + "<extra></extra>",
        )
    )
    _add_cost(fig, x, ts, labels, money)
    ov = overlay(ts, granularity, projection)
    _add_projection(fig, ov, x, ts, granularity, money)
    theme.relayout(
        fig,
        margin=dict(l=8, r=8, t=36, b=8),
        xaxis=time_axis(granularity, n + ov.shown),
        yaxis=dict(
            title=dict(text=_("Tokens")),
            side="right",
            showgrid=False,
            rangemode="tozero",
            **count_axis(float(ts["tokens"].max())),
        ),
        yaxis2=dict(
            title=dict(text=_("Costo ({code})").format(code=money.code)),
            side="left",
            overlaying="y",
            rangemode="tozero",
            tickmode="auto",
            nticks=7,
            **money.axis(),
            tickformat=",.2~f",
            gridcolor=theme.GRID,
            zeroline=False,
            tickfont=dict(color=theme.MUTED),
            automargin=True,
        ),
        legend=dict(traceorder="normal"),
        meta={"projection": ov.describe(), "partial": [i for i, lab in enumerate(labels) if lab]},
    )
    return fig


def _add_cost(fig: plot.Figure, x: pd.Series, ts: pd.DataFrame, labels: list[str], money: fmt.Money) -> None:
    """The cost line: solid between whole buckets, dotted into a partial one, whose marker is hollow.

    Trace 1 ("Costo (USD)") holds every bucket's hover; the partial points' values sit on a
    separate hollow-marker trace (their hover names the partial period) so that no x shows
    two cost entries in the unified hover."""
    n = len(ts)
    usd = [float(c) for c in ts["cost_usd"]]
    cost = money.values(usd)
    part = [bool(lab) for lab in labels]
    markers = n <= 45
    custom = [
        [fmt.usd(c, money=money), fmt.integer(e), f" ({lab})" if lab else ""]
        for c, e, lab in zip(usd, ts["executions"], labels)
    ]
    hover = _("Costo: %{customdata[0]} · %{customdata[1]} ejecuciones%{customdata[2]}") + "<extra></extra>"
    fig.add_trace(
        plot.scatter(
            x=x,
            y=[None if p else c for c, p in zip(cost, part)],
            name=_("Costo ({code})").format(code=money.code),
            yaxis="y2",
            mode="lines+markers" if markers else "lines",
            legendgroup="cost",
            line=dict(color=theme.BRAND, width=2.5),
            marker=dict(size=5, color=theme.BRAND),
            customdata=custom,
            hovertemplate=hover,
        )
    )
    if not any(part):
        return
    # Dotted segments from each partial point to its whole neighbour (None breaks the line).
    seg_x, seg_y = [], []
    for i in (j for j in range(n) if part[j]):
        for k in (i - 1, i + 1):
            if 0 <= k < n:
                seg_x += [x.iloc[i], x.iloc[k], None]
                seg_y += [cost[i], cost[k], None]
    fig.add_trace(
        plot.scatter(
            x=seg_x,
            y=seg_y,
            name=_("Costo (periodo parcial)"),
            yaxis="y2",
            mode="lines",
            legendgroup="cost",
            showlegend=False,
            line=dict(color=theme.BRAND, width=2, dash="dot"),
            hoverinfo="skip",
        )
    )
    idx = [i for i in range(n) if part[i]]
    fig.add_trace(
        plot.scatter(
            x=[x.iloc[i] for i in idx],
            y=[cost[i] for i in idx],
            name=_(PARTIAL_NAME),
            yaxis="y2",
            mode="markers",
            legendgroup="cost",
            showlegend=True,
            marker=dict(size=8, color=theme.SURFACE, symbol="circle", line=dict(width=2, color=theme.BRAND)),
            customdata=[custom[i] for i in idx],
            hovertemplate=hover,
        )
    )


def _add_projection(
    fig: plot.Figure, ov: Overlay, x: pd.Series, ts: pd.DataFrame, granularity: str, money: fmt.Money
) -> None:
    if ov.mode == "none":
        return
    fr = ov.frame
    if ov.mode == "month":
        r = fr.iloc[0]
        total, lo, hi = float(r["cost_usd"]), float(r["lower"]), float(r["upper"])
        anchor = [(x.iloc[-2], money.value(ts["cost_usd"].iloc[-2]))] if len(x) > 1 else []
        fig.add_trace(
            plot.scatter(
                x=[a for a, _ in anchor] + [r["x"]],
                y=[b for _, b in anchor] + [money.value(total)],
                name=_(PROJECTION_NAME),
                yaxis="y2",
                mode="lines",
                line=dict(color=theme.BRAND, width=2, dash="dash"),
                hoverinfo="skip",
            )
        )
        hover = _("Total proyectado del mes: {total}<br>Intervalo del 80 %: {low} – {high}").format(
            total=fmt.usd(total, money=money), low=fmt.usd(lo, money=money), high=fmt.usd(hi, money=money)
        )
        total, lo, hi = money.value(total), money.value(lo), money.value(hi)
        fig.add_trace(_diamond(r["x"], total, lo, hi, hover, size=10, bar_width=6, showlegend=False))
        return
    # The band and the dashed centre take no part in the unified hover: a forecast x
    # would otherwise become the hover's title next to the last actual point.
    xs = list(fr["x"])
    centre = money.values(fr["cost_usd"])
    if fr["kind"].iloc[0] != "current":  # start the dashed line at the last actual point
        line_x, line_y = [x.iloc[-1].date()] + xs, [money.value(ts["cost_usd"].iloc[-1])] + centre
    else:
        line_x, line_y = xs, centre
    if ov.shown:
        _add_band(fig, xs, fr, line_x, line_y, money)
    cur = fr[fr["kind"] == "current"]
    if len(cur):  # the running bucket's projection shares its x with an actual point: hover it
        r = cur.iloc[0]
        if granularity == "day":
            hover = _("Proyección del día: {total} (80 %: {low} – {high})")
        else:
            hover = _("Proyección de la semana: {total} (80 %: {low} – {high})")
        total, lo, hi = float(r["cost_usd"]), float(r["lower"]), float(r["upper"])
        hover = hover.format(
            total=fmt.usd(total, money=money), low=fmt.usd(lo, money=money), high=fmt.usd(hi, money=money)
        )
        total, lo, hi = money.value(total), money.value(lo), money.value(hi)
        fig.add_trace(
            _diamond(
                r["x"], total, lo, hi, hover, size=9, bar_width=5, showlegend=not ov.shown, legendgroup="projection"
            )
        )


def _diamond(x, total: float, lo: float, hi: float, hover: str, size: int, bar_width: int, **trace) -> dict:
    """A projected total as a hollow diamond with its 80 % interval as an error bar."""
    return plot.scatter(
        x=[x],
        y=[total],
        name=_(PROJECTION_NAME),
        yaxis="y2",
        mode="markers",
        marker=dict(size=size, symbol="diamond-open", color=theme.BRAND, line=dict(width=2)),
        error_y=dict(
            type="data",
            symmetric=False,
            array=[max(hi - total, 0)],
            arrayminus=[max(total - lo, 0)],
            color=theme.BRAND,
            thickness=1.5,
            width=bar_width,
        ),
        hovertemplate=hover + "<extra></extra>",
        **trace,
    )


def _add_band(fig: plot.Figure, xs: list, fr: pd.DataFrame, line_x: list, line_y: list, money: fmt.Money) -> None:
    """The 80 % band (lower, then upper filled to it) and the dashed centre, out of the hover."""
    fig.add_trace(
        plot.scatter(
            x=xs,
            y=money.values(fr["lower"]),
            name=_("Intervalo del 80 %"),
            yaxis="y2",
            mode="lines",
            line=dict(width=0, color=theme.BRAND),
            hoverinfo="skip",
            showlegend=False,
            legendgroup="projection",
        )
    )
    fig.add_trace(
        plot.scatter(
            x=xs,
            y=money.values(fr["upper"]),
            name=_("Intervalo del 80 %"),
            yaxis="y2",
            mode="lines",
            fill="tonexty",
            fillcolor=theme.BRAND_SOFT,
            line=dict(width=0, color=theme.BRAND),
            hoverinfo="skip",
            showlegend=False,
            legendgroup="projection",
        )
    )
    fig.add_trace(
        plot.scatter(
            x=line_x,
            y=line_y,
            name=_(PROJECTION_NAME),
            yaxis="y2",
            mode="lines",
            line=dict(color=theme.BRAND, width=2, dash="dash"),
            hoverinfo="skip",
            legendgroup="projection",
        )
    )
