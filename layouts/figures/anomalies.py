"""Anomaly markers on the trend: ▲ (cost above its expected) and ▼ (below), at the bucket that
holds each anomalous local day (the day itself at Día; its costliest hour at Hora; its week or
month otherwise), with a hover that explains the contributors (data escaped: fmt.text)."""

from __future__ import annotations

import pandas as pd

from queries.anomalies import Anomaly

from .. import fmt, plot, theme
from ..anomalies import direction_word, explain
from ..i18n import N_, _
from .common import is_empty, local_x

SYMBOLS = {"up": "triangle-up", "down": "triangle-down"}
NAMES = {"up": N_("Anomalía al alza"), "down": N_("Anomalía a la baja")}


def _bucket_of(ts: pd.DataFrame, day) -> int | None:
    """The position of the bucket that shows `day`: among buckets starting that day the costliest,
    else the last bucket starting before it (its week or month)."""
    starts = [b.date() for b in ts["bucket"]]
    same = [i for i, s in enumerate(starts) if s == day]
    if same:
        return max(same, key=lambda i: float(ts["cost_usd"].iloc[i]))
    before = [i for i, s in enumerate(starts) if s <= day]
    return before[-1] if before else None


def add_markers(
    fig: plot.Figure, ts: pd.DataFrame, found: list[Anomaly], names: dict[str, str], money: fmt.Money = fmt.USD
) -> plot.Figure:
    """fig (figures.trend's) with one marker trace per direction; nothing on an empty figure."""
    if is_empty(fig) or not found or not len(ts):
        return fig
    x = local_x(ts["bucket"])
    for direction in ("up", "down"):
        xs, ys, custom = [], [], []
        for a in found:
            if a.direction != direction:
                continue
            i = _bucket_of(ts, a.date)
            if i is None:
                continue
            xs.append(x.iloc[i])
            ys.append(money.value(float(ts["cost_usd"].iloc[i])))
            why = explain(a, names, money, escape=fmt.text)
            custom.append([f"{direction_word(a)} · {fmt.weekday_day(a.date)}", why])
        if not xs:
            continue
        fig.add_trace(
            plot.scatter(
                x=xs,
                y=ys,
                name=_(NAMES[direction]),
                yaxis="y2",
                mode="markers",
                marker=dict(
                    symbol=SYMBOLS[direction],
                    size=13,
                    color=theme.ANOMALY,
                    line=dict(width=1.5, color=theme.SURFACE),
                ),
                customdata=custom,
                hovertemplate=_("Anomalía: %{customdata[0]}<br>%{customdata[1]}") + "<extra></extra>",
            )
        )
    return fig
