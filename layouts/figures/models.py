"""Modelos: top models by cost (tokens stacked by type, cost annotated) and cost vs latency."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .. import fmt, theme
from .common import count_axis, empty, hex_to_rgba

TOP = 10
BARS_AXIS = "Tokens por tipo (el costo por tipo no consta en los datos; a la derecha, costo total)"
NO_LATENCY = "Ningún modelo registra latencia en este periodo"


def labels(df: pd.DataFrame) -> list[str]:
    """Model names, with the provider added where one name serves two providers."""
    dup = df["model"].duplicated(keep=False)
    return [f"{m} ({p})" if d else m for m, p, d in zip(df["model"], df["provider"], dup)]


def top_models(df: pd.DataFrame, n: int = TOP) -> pd.DataFrame:
    out = df.sort_values(["cost_usd", "executions"], ascending=[False, False], kind="stable").head(n).copy()
    out["label"] = labels(out)
    return out.reset_index(drop=True)


def models_bars(df: pd.DataFrame, height: int = 360) -> go.Figure:
    """Top 10 by cost, horizontal: TOKENS stacked by type, the model's cost written at the bar's end."""
    if not len(df) or int(df["executions"].sum()) == 0:
        return empty(height=height)
    top = top_models(df)
    fig = theme.figure(height=height, barmode="stack", hovermode="closest")
    for col, (name, colour) in theme.TOKEN_TYPES.items():
        fig.add_trace(go.Bar(
            y=top["label"], x=top[col], orientation="h", name=name, marker=dict(color=colour),
            customdata=[[fmt.compact(v), fmt.integer(v), fmt.usd(c), p]
                        for v, c, p in zip(top[col], top["cost_usd"], top["provider"])],
            hovertemplate=("<b>%{y}</b> · %{customdata[3]}<br>" + name + ": %{customdata[0]} tokens "
                           "(%{customdata[1]})<br>Costo total del modelo: %{customdata[2]}<extra></extra>"),
        ))
    totals = top["input_tokens"] + top["output_tokens"] + top["cache_read_tokens"]
    for label, total, cost in zip(top["label"], totals, top["cost_usd"]):
        fig.add_annotation(x=total, y=label, text=fmt.usd(cost), showarrow=False, xanchor="left", xshift=6,
                           font=dict(size=11, color=theme.INK))
    fig.update_layout(
        margin=dict(l=8, r=8, t=36, b=8),
        xaxis=dict(title=dict(text=BARS_AXIS), range=[0, max(float(totals.max()), 1) * 1.28],
                   **count_axis(float(totals.max()) * 1.2, 4),
                   showgrid=True, gridcolor=theme.GRID),
        yaxis=dict(autorange="reversed", showgrid=False, ticksuffix="  "),
        bargap=0.35, legend=dict(traceorder="normal"),
    )
    return fig


def without_latency(df: pd.DataFrame) -> list[str]:
    """Models that no row gave a latency for: listed beside the bubble chart, never drawn at 0."""
    if not len(df):
        return []
    return [lab for lab, missing in zip(labels(df), df["avg_latency_ms"].isna()) if missing]


def models_bubble(df: pd.DataFrame, height: int = 360) -> go.Figure:
    """One bubble per model with a known latency: x = mean latency (ms), y = cost, area = executions."""
    if not len(df) or int(df["executions"].sum()) == 0:
        return empty(height=height)
    df = df.assign(label=labels(df))
    part = df[df["avg_latency_ms"].notna()]
    if not len(part):
        return empty(NO_LATENCY, height=height)
    biggest = max(int(part["executions"].max()), 1)
    sizeref = 2.0 * biggest / (44 ** 2)
    named = set(part.nlargest(5, "cost_usd")["label"])
    right = float(part["avg_latency_ms"].max())
    # Labels near the right edge grow leftwards, so no name is cut off by the chart's border.
    positions = ["top left" if right and lat > 0.75 * right else "top center" for lat in part["avg_latency_ms"]]
    fig = theme.figure(height=height, hovermode="closest", showlegend=False)
    fig.add_trace(go.Scatter(
        x=part["avg_latency_ms"], y=part["cost_usd"], mode="markers+text", cliponaxis=False,
        text=[lab if lab in named else "" for lab in part["label"]], textposition=positions,
        textfont=dict(size=11, color=theme.MUTED),
        marker=dict(size=part["executions"], sizemode="area", sizeref=sizeref, sizemin=5,
                    color=hex_to_rgba(theme.BRAND, 0.4), line=dict(color=theme.BRAND, width=1.2)),
        customdata=[[lab, p, fmt.integer(lat), fmt.usd(c), fmt.integer(e)]
                    for lab, p, lat, c, e in zip(part["label"], part["provider"], part["avg_latency_ms"],
                                                 part["cost_usd"], part["executions"])],
        hovertemplate=("<b>%{customdata[0]}</b> · %{customdata[1]}<br>Latencia media: %{customdata[2]} ms"
                       "<br>Costo: %{customdata[3]}<br>Ejecuciones: %{customdata[4]}<extra></extra>"),
    ))
    top = float(part["cost_usd"].max())
    fig.update_layout(
        margin=dict(l=8, r=8, t=16, b=8),
        xaxis=dict(title=dict(text="Latencia media (ms)"), showgrid=True, gridcolor=theme.GRID,
                   tickformat=",~f", range=[-0.06 * right if right > 0 else -1, right * 1.1 if right > 0 else 1]),
        yaxis=dict(title=dict(text="Costo (USD)"), tickprefix="US$ ", tickformat=",.2~f",
                   range=[-0.1 * top if top > 0 else -1, (top * 1.2) if top > 0 else 1]),
    )
    return fig

