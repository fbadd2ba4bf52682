"""Avanzado: the cache savings timeline — net savings per bucket (bars) and the hit rate (line)."""

from __future__ import annotations

import pandas as pd

from .. import fmt, plot, theme
from ..i18n import N_, _
from .common import empty, hex_to_rgba, local_x, time_axis

SAVINGS_NAME = N_("Ahorro neto ({code})")
RATE_NAME = N_("Tasa de aciertos")


def cache_timeline(
    points: pd.DataFrame, granularity: str, height: int = 300, money: fmt.Money = fmt.USD
) -> plot.Figure:
    """Bars: net savings per bucket (a negative bar: the write premium cost more than the
    reads saved); line on the right axis: the hit rate, with a gap where a bucket has no
    prompt tokens. Partial buckets (in progress, cut by the window) are drawn paler. Amounts in the
    display currency `money` (positions converted, hovers formatted from USD)."""
    if not len(points) or not int(points["total_input_tokens"].sum()):
        return empty(_("Sin tokens de entrada en este periodo"), height)
    x = local_x(points["bucket"])
    partial = [bool(v) for v in points["partial"]]
    running = [bool(v) for v in points.get("in_progress", pd.Series([False] * len(points)))]
    note = [(_(" · en curso") if r else _(" · periodo incompleto")) if p else "" for p, r in zip(partial, running)]
    gross, net = points["estimated_savings_usd"].astype(float), points["net_savings_usd"].astype(float)
    custom = [
        [fmt.usd(n, money=money), fmt.usd(g, money=money), fmt.usd(g - n, money=money), t]
        for n, g, t in zip(net, gross, note)
    ]
    rate = [None if r is None or r != r else float(r) * 100 for r in points["hit_rate"]]
    rate_text = [fmt.percent(r / 100) if r is not None else fmt.NOT_APPLICABLE for r in rate]
    fig = theme.figure()  # the page language's number format (the template alone is Spanish's)
    fig.add_traces(
        [
            plot.bar(
                x=x,
                y=money.values(list(net)),
                name=_(SAVINGS_NAME).format(code=money.code),
                marker=dict(
                    color=[hex_to_rgba(theme.SAVINGS, 0.45) if p else theme.SAVINGS for p in partial],
                    line=dict(width=0),
                ),
                customdata=custom,
                hovertemplate=(
                    _(
                        "Ahorro neto: %{customdata[0]}%{customdata[3]}<br>"
                        "Ahorro bruto %{customdata[1]} − prima de escritura %{customdata[2]}"
                    )
                    + "<extra></extra>"
                ),
            ),
            plot.scatter(
                x=x,
                y=rate,
                name=_(RATE_NAME),
                yaxis="y2",
                mode="lines+markers",
                connectgaps=False,
                line=dict(color=theme.HIT_RATE, width=2),
                marker=dict(size=5, color=theme.HIT_RATE),
                customdata=rate_text,
                hovertemplate=_(RATE_NAME) + ": %{customdata}<extra></extra>",
            ),
        ]
    )
    theme.relayout(
        fig,
        height=height,
        hovermode="x unified",
        bargap=0.25,
        margin=dict(l=8, r=8, t=36, b=8),
        xaxis=time_axis(granularity, len(points)),
        yaxis=dict(title=dict(text=money.code), **money.axis(), separatethousands=True, rangemode="tozero"),
        yaxis2=dict(
            overlaying="y",
            side="right",
            range=[0, 100],
            tickmode="array",
            tickvals=[0, 25, 50, 75, 100],
            ticktext=[fmt.percent(v / 100, 0) for v in (0, 25, 50, 75, 100)],
            showgrid=False,
            title=dict(text=_(RATE_NAME)),
        ),
        meta={"partial": [i for i, p in enumerate(partial) if p]},
    )
    return fig
