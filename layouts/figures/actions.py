"""Desglose por acción: a stacked area over time and a donut, one colour per action type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from .. import fmt, plot, theme
from ..i18n import N_, _
from .common import add_donut, count_axis, empty, hex_to_rgba, local_x, time_axis
from .timeline import partial_labels

METRICS: dict[str, tuple[str, Callable[[Any], str]]] = {  # time_series column -> (name msgid, formatter)
    "cost_usd": (N_("Costo"), fmt.usd),
    "tokens": (N_("Tokens"), fmt.compact),
    "executions": (N_("Ejecuciones"), fmt.integer),
}
NO_COST = N_("Sin costo registrado en este periodo")
NO_COST_HINT = N_("Hay uso, pero el proveedor no informó precio (habitual en BYOK). Prueba con Tokens.")


def action_order(actions) -> list[str]:
    """The five contract action types first, in legend order, then any other, sorted."""
    known = [a for a in theme.ACTIONS if a in set(actions)]
    return known + sorted(set(actions) - set(theme.ACTIONS))


def _empty_for(df: pd.DataFrame, metric: str, height: int) -> plot.Figure | None:
    if not len(df) or int(df["executions"].sum()) == 0:
        return empty(height=height)
    if float(df[metric].sum()) == 0:
        return empty(NO_COST, height=height, hint=NO_COST_HINT)
    return None


def metric_formatter(metric: str, money: fmt.Money) -> Callable[[Any], str]:
    """The metric's formatter; a cost converted to the display currency as it is formatted."""
    return (lambda v: fmt.usd(v, money=money)) if metric == "cost_usd" else METRICS[metric][1]


def _positions(values, metric: str, money: fmt.Money) -> list[float]:
    return money.values(values) if metric == "cost_usd" else [float(v) for v in values]


def actions_area(
    df: pd.DataFrame, metric: str, granularity: str, height: int = 320, money: fmt.Money = fmt.USD
) -> plot.Figure:
    """Stacked areas of `metric` per action type over the window's buckets."""
    blank = _empty_for(df, metric, height)
    if blank is not None:
        return blank
    name, formatter = _(METRICS[metric][0]), metric_formatter(metric, money)
    fig = theme.figure(height=height, hovermode="x unified", showlegend=False)
    for action in action_order(df["action_type"].unique()):
        part = df[df["action_type"] == action]
        colour = theme.action_colour(action)
        fig.add_trace(
            plot.scatter(
                x=local_x(part["bucket"]),
                y=_positions(part[metric], metric, money),
                name=fmt.text(theme.action_label(action)),
                stackgroup="one",
                # Fill only: a stacked trace's line runs along the running total, so the last
                # type's colour would outline the whole stack even where it adds nothing.
                mode="lines",
                line=dict(color=colour, width=0),
                fillcolor=hex_to_rgba(colour, 0.7),
                customdata=[[formatter(v)] for v in part[metric]],
                hovertemplate=f"{fmt.text(theme.action_label(action))}: %{{customdata[0]}}<extra></extra>",
            )
        )
    _mark_partial(fig, df, metric, money)
    if metric == "cost_usd":
        yfmt = dict(**money.axis(), tickformat=",.2~f")
    else:
        yfmt = count_axis(float(df.groupby("bucket")[metric].sum().max()))
    theme.relayout(
        fig,
        margin=dict(l=8, r=8, t=8, b=8),
        xaxis=time_axis(granularity, df["bucket"].nunique()),
        yaxis=dict(
            title=dict(text=name + (f" ({money.code})" if metric == "cost_usd" else "")),
            rangemode="tozero",
            ticklabelstandoff=6,
            **yfmt,
        ),
    )
    return fig


def _mark_partial(fig: plot.Figure, df: pd.DataFrame, metric: str, money: fmt.Money) -> None:
    """Hatch the slice leading into a partial bucket (the first when the window cuts it, the
    last when it is in progress or cut) and name it in the unified hover."""
    per = (
        df.groupby("bucket", sort=True).agg(
            total=(metric, "sum"), partial=("partial", "max"), in_progress=("in_progress", "max")
        )
        if "partial" in df
        else None
    )
    if per is None or not per["partial"].any() or len(per) < 2:
        return
    x = local_x(pd.Series(per.index))
    top = _positions(per["total"], metric, money)
    labels = partial_labels(per.reset_index())
    n = len(per)
    for i in (j for j in (0, n - 1) if labels[j]):
        k = 1 if i == 0 else n - 2
        a, b = sorted((i, k))
        fig.add_trace(
            plot.scatter(
                x=[x.iloc[a], x.iloc[b], x.iloc[b], x.iloc[a], x.iloc[a]],
                y=[0, 0, top[b], top[a], 0],
                mode="lines",
                fill="toself",
                fillcolor=hex_to_rgba(theme.SURFACE, 0),
                line=dict(width=0),
                fillpattern=dict(
                    shape="/",
                    fgcolor=hex_to_rgba(theme.SURFACE, 0.9),
                    bgcolor=hex_to_rgba(theme.SURFACE, 0.35),
                    size=7,
                    solidity=0.35,
                ),
                hoverinfo="skip",
                showlegend=False,
                name=_("Periodo parcial"),
            )
        )
    idx = [i for i in range(n) if labels[i]]
    fig.add_trace(
        plot.scatter(  # an invisible point per partial bucket: one hover line saying so
            x=[x.iloc[i] for i in idx],
            y=[top[i] for i in idx],
            mode="markers",
            marker=dict(size=1, opacity=0),
            showlegend=False,
            name=_("Periodo parcial"),
            customdata=[[labels[i].capitalize()] for i in idx],
            hovertemplate="<i>%{customdata[0]}</i><extra></extra>",
        )
    )


def action_totals(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """action_type, value over the whole window, in legend order, zero rows dropped."""
    sums = df.groupby("action_type")[metric].sum() if len(df) else pd.Series(dtype=float)
    order = action_order(sums.index)
    out = pd.DataFrame({"action_type": order, "value": [float(sums[a]) for a in order]})
    return out[out["value"] > 0].reset_index(drop=True)


def actions_donut(df: pd.DataFrame, metric: str, height: int = 320, money: fmt.Money = fmt.USD) -> plot.Figure:
    """Share of each action type in `metric` over the window, total in the centre."""
    blank = _empty_for(df, metric, height)
    if blank is not None:
        return blank
    name, formatter = _(METRICS[metric][0]), metric_formatter(metric, money)
    totals = action_totals(df, metric)
    labels = [fmt.text(theme.action_label(a)) for a in totals["action_type"]]
    fig = theme.figure(height=height, showlegend=False)
    add_donut(
        fig,
        labels,
        [float(v) for v in totals["value"]],
        [theme.action_colour(a) for a in totals["action_type"]],
        name,
        _("{metric} total").format(metric=name),
        formatter,
        hole=0.64,
        caption_px=12,
        total_px=17,
        keys=[str(a) for a in totals["action_type"]],
        insidetextorientation="horizontal",
    )
    return fig
