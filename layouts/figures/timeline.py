"""Tendencia: cost as a line (left axis, USD), tokens as a shaded area (right axis), and the
month-end projection as a dashed overlay at the active resolution."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go

from .. import fmt, theme
from .common import count_axis, empty, local_x, time_axis

PROJECTION_NAME = "Proyección (tendencia lineal)"


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


def overlay(ts: pd.DataFrame, granularity: str, projection) -> pd.DataFrame:
    """The dashed projection line: columns x (date), cost_usd, kind ('actual' anchor or 'forecast').

    Forecast days (OLS ŷ, negative values counted as 0 like the projected total) are summed
    into the buckets of the active granularity; the bucket holding the window's last day
    adds its actual cost; a bucket that the month's end cuts short is left out rather than
    drawn as a dip. Month resolution shows the projected total of the month. Hourly: none.
    """
    cols = ["x", "cost_usd", "kind"]
    if (projection is None or projection.status != "ok" or granularity not in ("day", "week", "month")
            or not len(ts)):
        return pd.DataFrame(columns=cols)
    x = local_x(ts["bucket"]).dt.date.tolist()
    cost = ts["cost_usd"].tolist()
    last = x[-1]
    if granularity == "month":
        anchor = [(x[-2], cost[-2], "actual")] if len(x) > 1 else []
        return pd.DataFrame(anchor + [(last, float(projection.projected_total_usd), "forecast")], columns=cols)
    fc = projection.forecast
    if not len(fc):
        return pd.DataFrame(columns=cols)
    sums: dict[date, float] = {}
    for d, y in zip(fc["date"], fc["yhat"]):
        start = _period_start(d, granularity)
        sums[start] = sums.get(start, 0.0) + max(float(y), 0.0)
    month_end = projection.month_end
    points = []
    for start in sorted(sums):
        if _period_end(start, granularity) > month_end:
            continue  # a week cut by the month's end would read as a drop
        value = sums[start] + (cost[-1] if start == last else 0.0)
        points.append((start, value, "forecast"))
    if not points:
        return pd.DataFrame(columns=cols)
    if points[0][0] == last:  # the current bucket is completed: start from the one before
        anchor = [(x[-2], cost[-2], "actual")] if len(x) > 1 else []
    else:
        anchor = [(last, cost[-1], "actual")]
    return pd.DataFrame(anchor + points, columns=cols)


def trend(ts: pd.DataFrame, granularity: str, projection=None, height: int = 340,
          partial_last: bool = False) -> go.Figure:
    """Cost line over a token area, one point per bucket of the active granularity.

    partial_last: the last bucket is still running (the window ends today): its marker is
    hollow and its hover says so, so the drop at the end does not read as a collapse."""
    if not len(ts) or int(ts["executions"].sum()) == 0:
        return empty(height=height)
    x = local_x(ts["bucket"])
    markers = len(ts) <= 45
    n = len(ts)
    running = [partial_last and i == n - 1 for i in range(n)]
    fig = theme.figure(height=height, hovermode="x unified")
    fig.add_trace(go.Scatter(
        x=x, y=ts["tokens"], name="Tokens", yaxis="y", mode="lines", fill="tozeroy",
        line=dict(color=theme.TOKENS, width=1, shape="linear"), fillcolor=theme.TOKENS_FILL,
        customdata=[[f"{fmt.compact(t)} ({fmt.integer(t)})"] for t in ts["tokens"]],
        hovertemplate="Tokens: %{customdata[0]}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=x, y=ts["cost_usd"], name="Costo (USD)", yaxis="y2",
        mode="lines+markers" if markers or partial_last else "lines",
        line=dict(color=theme.BRAND, width=2.5),
        marker=dict(size=[7 if r else (5 if markers else 0) for r in running], color=theme.BRAND,
                    symbol=["circle-open" if r else "circle" for r in running],
                    line=dict(width=2, color=theme.BRAND)),
        customdata=[[fmt.usd(c), fmt.integer(e), " (periodo en curso)" if r else ""]
                    for c, e, r in zip(ts["cost_usd"], ts["executions"], running)],
        hovertemplate="Costo: %{customdata[0]} · %{customdata[1]} ejecuciones%{customdata[2]}<extra></extra>",
    ))
    ov = overlay(ts, granularity, projection)
    if len(ov):
        _add_projection(fig, ov, granularity, projection)
    fig.update_layout(
        margin=dict(l=8, r=8, t=36, b=8),
        xaxis=time_axis(granularity, n),
        yaxis=dict(title=dict(text="Tokens"), side="right", showgrid=False, rangemode="tozero",
                   **count_axis(float(ts["tokens"].max()))),
        yaxis2=dict(title=dict(text="Costo (USD)"), side="left", overlaying="y", rangemode="tozero", tickmode="auto",
                    nticks=7,
                    tickprefix="US$ ", tickformat=",.2~f", gridcolor=theme.GRID, zeroline=False,
                    tickfont=dict(color=theme.MUTED), automargin=True),
        legend=dict(traceorder="normal"),
    )
    return fig


def _add_projection(fig: go.Figure, ov: pd.DataFrame, granularity: str, projection) -> None:
    fc = ov[ov["kind"] == "forecast"]
    if granularity == "month":
        lo, hi = float(projection.lower80), float(projection.upper80)
        total = float(projection.projected_total_usd)
        hover = f"Total proyectado del mes: {fmt.usd(total)}<br>Intervalo del 80 %: {fmt.usd(lo)} – {fmt.usd(hi)}"
        error = dict(type="data", symmetric=False, array=[max(hi - total, 0)], arrayminus=[max(total - lo, 0)],
                     color=theme.BRAND, thickness=1.5, width=6)
    else:
        hover = "Proyección: %{customdata[0]}"
        error = None
    fig.add_trace(go.Scatter(
        x=ov["x"], y=ov["cost_usd"], name=PROJECTION_NAME, yaxis="y2", mode="lines",
        line=dict(color=theme.BRAND, width=2, dash="dash"), hoverinfo="skip", showlegend=True,
    ))
    fig.add_trace(go.Scatter(
        x=fc["x"], y=fc["cost_usd"], name=PROJECTION_NAME, yaxis="y2", mode="markers", showlegend=False,
        marker=dict(size=7 if granularity == "month" else 4, color="white", line=dict(color=theme.BRAND, width=1.5)),
        error_y=error,
        customdata=[[fmt.usd(v)] for v in fc["cost_usd"]],
        hovertemplate=hover + "<extra></extra>",
    ))
