"""The comparison's ghost line on Tendencia (contract §3.2): the earlier window's cost, faint,
bucket i beside bucket i (queries.compare.align_points), drawn behind the cost line.

Its hover names the earlier bucket's real date («Periodo anterior · lun 2 oct 2026:
US$ 12,34»), so a ghost point never reads as the current bucket's. Partial buckets, the
projection and the anomaly markers are the current series' business: the ghost is one
plain line, its own colour (theme.PREVIOUS, «cost, earlier»).
"""

from __future__ import annotations

import pandas as pd

from .. import fmt, plot, theme
from ..i18n import _
from .common import is_empty, local_x


def add_previous(
    fig: plot.Figure, aligned: pd.DataFrame, before: pd.DataFrame, granularity: str, name: str, money: fmt.Money
) -> plot.Figure:
    """fig with the earlier series as a ghost line just above the token area (trace 1).

    aligned: the current series with previous_cost_usd (align_points); before: the earlier
    series itself, whose i-th bucket gives the i-th ghost point its date; name: the legend's
    «Periodo anterior» / «Mismo periodo de 2025»."""
    if is_empty(fig) or not len(aligned):
        return fig
    usd = [float(v) for v in aligned["previous_cost_usd"]]
    buckets = list(before["bucket"]) if len(before) else []
    when = [fmt.bucket(buckets[i], granularity) if i < len(buckets) else "—" for i in range(len(usd))]
    fig.add_trace(
        plot.scatter(
            x=local_x(aligned["bucket"]),
            y=money.values(usd),
            name=name,
            yaxis="y2",
            mode="lines",
            legendgroup="previous",
            line=dict(color=theme.PREVIOUS, width=1.75, shape="linear"),
            customdata=[[fmt.text(name), w, fmt.usd(v, money=money)] for w, v in zip(when, usd)],
            hovertemplate=_("%{customdata[0]} · %{customdata[1]}: %{customdata[2]}") + "<extra></extra>",
        )
    )
    fig.data = [fig.data[0], fig.data[-1], *fig.data[1:-1]]  # behind the cost line, over the tokens
    theme.relayout(fig, meta={**(fig.layout.get("meta") or {}), "previous": name})
    return fig
