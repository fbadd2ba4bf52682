"""Avanzado: the 7×24 heatmap (log colour scale, real values on the colour bar and in hovers)
and the Sistema vs BYOK split."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .. import fmt, plot, theme
from ..i18n import _
from .common import add_donut, empty

# Columns Monday first (weeks start on Monday on this page); Spanish names lowercase like every
# date name. DAY_LABELS: Spanish; day_labels(): the page's language.
DAY_LABELS = list(fmt.DAYS[1:] + fmt.DAYS[:1])  # lunes … domingo


def day_labels(names: tuple[str, ...] | None = None) -> list[str]:
    names = fmt.days() if names is None else names
    return list(names[1:] + names[:1])


def day_label_forms() -> list[list[str]]:
    """The columns' names, longest first («lunes», «lun», «L»): a narrow page's heatmap shows the
    first form that stands level in its columns (assets/dateticks.js, meta["names"])."""
    return [day_labels(), day_labels(fmt.short_days()), day_labels(fmt.narrow_days())]


HOUR_LABELS = [f"{h:02d}:00" for h in range(24)]


def column(dow: int) -> int:
    """The query's day of week (0 = Sunday) -> its column (0 = Monday)."""
    return (int(dow) + 6) % 7


def log_ticks(zmin: float, zmax: float) -> tuple[list[float], list[str]]:
    """Colour-bar ticks at 1-2-5 steps of the real values between 10**zmin and 10**zmax."""
    vals, text = [], []
    for k in range(math.floor(zmin), math.ceil(zmax) + 1):
        for m in (1, 2, 5):
            v = math.log10(m) + k
            if zmin - 1e-9 <= v <= zmax + 1e-9:
                vals.append(v)
                text.append(fmt.compact(m * 10**k))
    if len(vals) > 7:  # keep decades only when the range is wide
        keep = [i for i, v in enumerate(vals) if abs(v - round(v)) < 1e-9]
        vals, text = [vals[i] for i in keep], [text[i] for i in keep]
    if len(vals) < 2:
        vals = [zmin, zmax] if zmax > zmin else [zmin]
        text = [fmt.compact(round(10**v)) for v in vals]
    return vals, text


def heatmap_grid(df: pd.DataFrame, money: fmt.Money = fmt.USD) -> tuple[list[list], list[list]]:
    """24 rows (hours) × 7 columns (Monday … Sunday): z = log10(tokens) or None, and hover rows."""
    z: list[list[float | None]] = [[None] * 7 for _ in range(24)]
    labels = day_labels()
    hover = [[[labels[d], f"{h:02d}:00–{(h + 1) % 24:02d}:00", "", "", ""] for d in range(7)] for h in range(24)]
    r: Any  # an itertuples row: pandas-stubs types each field as the union of every scalar
    for r in df.itertuples(index=False):
        d, h = column(r.dow), int(r.hour)
        if int(r.tokens) > 0:
            z[h][d] = math.log10(int(r.tokens))
        hover[h][d][2:] = [
            f"{fmt.compact(r.tokens)} ({fmt.integer(r.tokens)})",
            fmt.usd(float(r.cost_usd), money=money),
            fmt.integer(r.executions),
        ]
    return z, hover


def heatmap(df: pd.DataFrame, timezone: str, height: int = 520, money: fmt.Money = fmt.USD) -> plot.Figure:
    """Tokens by local day of week (columns) and hour (rows); empty cells stay blank."""
    if not len(df) or int(df["executions"].sum()) == 0 or int(df["tokens"].sum()) == 0:
        return empty(height=height)
    z, hover = heatmap_grid(df, money)
    flat = [v for row in z for v in row if v is not None]
    zmin, zmax = min(flat), max(flat)
    if zmax == zmin:
        zmax = zmin + 1e-6
    tickvals, ticktext = log_ticks(zmin, zmax)
    fig = theme.figure(height=height)
    fig.add_trace(
        plot.heatmap(
            z=z,
            x=day_labels(),
            y=HOUR_LABELS,
            zmin=zmin,
            zmax=zmax,
            colorscale=theme.HEATMAP_SCALE,
            xgap=2,
            ygap=2,
            hoverongaps=False,
            customdata=hover,
            colorbar=dict(
                title=dict(text="Tokens", side="top"),
                tickvals=tickvals,
                ticktext=ticktext,
                thickness=10,
                len=0.9,
                outlinewidth=0,
            ),
            hovertemplate=(
                "<b>%{customdata[0]} · %{customdata[1]}</b><br>"
                + _("Tokens: %{customdata[2]}<br>Costo: %{customdata[3]}<br>Ejecuciones: %{customdata[4]}")
                + "<extra></extra>"
            ),
        )
    )
    theme.relayout(
        fig,
        margin=dict(l=8, r=8, t=8, b=8),
        xaxis=dict(
            side="top",
            showgrid=False,
            tickfont=dict(color=theme.INK),
            tickmode="array",
            tickvals=day_labels(),
            ticktext=day_labels(),
        ),
        yaxis=dict(
            autorange="reversed",
            showgrid=False,
            dtick=1,
            title=dict(text=_("Hora local ({timezone})").format(timezone=timezone)),
        ),
        meta={"log10": True, "names": {"xaxis": day_label_forms()}},
    )
    return fig


CLICKABLE_SOURCES = ("system", "byok")  # the Origen filter's values (callbacks/slice_clicks.py click_source)


def source_split(df: pd.DataFrame, height: int = 260, money: fmt.Money = fmt.USD) -> plot.Figure:
    """Sistema, BYOK and (when there are such rows) Otro as a donut of cost (of tokens when none
    reports a cost); the slices add up to Todos."""
    if not len(df) or int(df["executions"].sum()) == 0:
        return empty(height=height)
    by_cost = float(df["cost_usd"].sum()) > 0
    col, name, formatter = (
        ("cost_usd", _("Costo"), lambda v: fmt.usd(v, money=money)) if by_cost else ("tokens", _("Tokens"), fmt.compact)
    )
    rows: list[Any] = [r for r in df.itertuples(index=False) if getattr(r, col) > 0]  # Any: see heatmap_grid
    fig = theme.figure(height=height, showlegend=True)
    theme.relayout(fig, legend=dict(orientation="h", y=-0.05, yanchor="top", x=0.5, xanchor="center"))
    add_donut(
        fig,
        [fmt.text(theme.source_label(r.source)) for r in rows],
        [float(getattr(r, col)) for r in rows],
        [theme.SOURCES[r.source][1] for r in rows],
        name,
        name,
        formatter,
        hole=0.62,
        caption_px=11,
        total_px=15,
        keys=[str(r.source) if r.source in CLICKABLE_SOURCES else None for r in rows],  # Otro: no filter
    )
    return fig
