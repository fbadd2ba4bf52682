"""«Acumulado»: the month's cumulative cost against the budget, with the projection to month end
(a burn-down). Built from queries.burndown.BurnDown; amounts in the display currency."""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import fmt, plot, theme
from ..i18n import N_, _
from .common import day_ticks, empty

NO_MONTH = N_("Sin datos del mes en este periodo")


def burn_down(bd, budget: float | None, height: int = 340, money: fmt.Money = fmt.USD) -> plot.Figure:
    """bd: a BurnDown (or None); budget in USD (None: no line). meta records what was drawn."""
    if bd is None or not len(bd.actual):
        return empty(NO_MONTH, height)
    fig = theme.figure(height=height, hovermode="x unified")
    a, fc = bd.actual, bd.forecast
    cost_name = _("Costo acumulado ({code})").format(code=money.code)
    fig.add_trace(
        plot.scatter(
            x=list(a["at"]),
            y=money.values(a["cum_usd"]),
            name=cost_name,
            mode="lines",
            line=dict(color=theme.BRAND, width=2.5),
            customdata=[[fmt.usd(v, money=money)] for v in a["cum_usd"]],
            hovertemplate=_("Acumulado: %{customdata[0]}") + "<extra></extra>",
        )
    )
    final = None
    if len(fc):
        start_at, start_cum = a["at"].iloc[-1], float(a["cum_usd"].iloc[-1])
        xs = [start_at, *fc["at"]]
        lower, upper, centre = (
            [start_cum, *fc["lower80"]],
            [start_cum, *fc["upper80"]],
            [start_cum, *fc["cum_usd"]],
        )
        for ys, fill in ((lower, None), (upper, "tonexty")):
            fig.add_trace(
                plot.scatter(
                    x=xs,
                    y=money.values(ys),
                    name=_("Intervalo del 80 %"),
                    mode="lines",
                    fill=fill,
                    fillcolor=theme.BRAND_SOFT if fill else None,
                    line=dict(width=0, color=theme.BRAND),
                    hoverinfo="skip",
                    showlegend=bool(fill),
                    legendgroup="band",
                )
            )
        fig.add_trace(
            plot.scatter(
                x=xs,
                y=money.values(centre),
                name=_("Proyección acumulada"),
                mode="lines",
                line=dict(color=theme.BRAND, width=2, dash="dash"),
                customdata=[
                    [fmt.usd(c, money=money), fmt.usd(lo, money=money), fmt.usd(hi, money=money)]
                    for c, lo, hi in zip(centre, lower, upper)
                ],
                hovertemplate=_("Proyección: %{customdata[0]} (80 %: %{customdata[1]} – %{customdata[2]})")
                + "<extra></extra>",
            )
        )
        final = {"projected": centre[-1], "lower80": lower[-1], "upper80": upper[-1]}
    month_from = datetime.combine(bd.month_start, datetime.min.time())
    month_to = datetime.combine(bd.month_end + timedelta(days=1), datetime.min.time())
    if budget is not None:
        fig.add_trace(
            plot.scatter(
                x=[month_from, month_to],
                y=money.values([budget, budget]),
                name=_("Presupuesto"),
                mode="lines",
                line=dict(color=theme.BUDGET, width=2, dash="dot"),
                customdata=[[fmt.usd(budget, money=money)]] * 2,
                hovertemplate=_("Presupuesto: %{customdata[0]}") + "<extra></extra>",
            )
        )
    days = (bd.month_end - bd.month_start).days + 1
    theme.relayout(
        fig,
        margin=dict(l=8, r=8, t=36, b=8),
        xaxis=dict(day_ticks("day", days), range=[month_from, month_to]),
        yaxis=dict(
            title=dict(text=_("Costo acumulado ({code})").format(code=money.code)),
            rangemode="tozero",
            **money.axis(),
            tickformat=",.2~f",
            gridcolor=theme.GRID,
            zeroline=False,
            automargin=True,
        ),
        meta={
            "view": "cumulative",
            "status": bd.status,
            "budget": budget,
            "monthToDate": float(a["cum_usd"].iloc[-1]),
            "final": final,
        },
    )
    return fig
