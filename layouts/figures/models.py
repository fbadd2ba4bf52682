"""Modelos: the ten models with the highest cost (or tokens) as bars split by token type,
and cost against latency as numbered bubbles.

Over 300 lines: the two charts share the section's model selection and the exact cost split
(the bubbles' label placement is bubble_labels.py).

Names are data: every model and provider name reaches the figure through fmt.text
(escaped), also as the bars' category values; the ticks and hovers print them clipped
(fmt.short_text: a 300-character name squeezed the bars to nothing)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pandas as pd

from .. import fmt, plot, theme
from ..i18n import N_, _
from .bubble_labels import PLOT_WIDTHS, fit_range, place_labels
from .common import CLICK_TO_FILTER, click_key, count_axis, empty, hex_to_rgba

TOP = 10
# A bar's tick: real model names fit (text-embedding-3-small: 22); beyond, the bars kept too
# little of the chart's width (hovers and «Ver datos» show up to fmt.NAME_CHARS and all).
TICK_CHARS = 32
END_CHAR_PX = 6.6  # a bar total's character at 11 px, digits and «US$ » (a little over, not under)
END_PAD = 14  # its 6 px gap past the bar, and room to spare
# The bars' value axis at its narrowest: 109 px long on a 390 px page (measured in Chromium on
# the demo, 7 Dec 2026), where «US$ 0 · US$ 5 · US$ 10 · US$ 15» were tilted to fit. Its ticks
# are plain figures (the title names the unit; each bar ends with its total), as many as fit
# level there: a tick's widest label, at TICK_CHAR_PX per character, plus TICK_GAP_PX.
BAR_AXIS_MIN_PX = 109
TICK_CHAR_PX = 7.5  # a tick label's character at 12 px (digits, «,», «K»), a little over
TICK_GAP_PX = 8
VIEWS = {"cost": N_("Costo"), "tokens": N_("Tokens")}
SCALES = {"linear": N_("Lineal"), "log": N_("Logarítmica")}
# The bubble chart's x: mean latency, or the median / 95th percentile (queries/latency.py, within 1 %).
LATENCIES = {"avg": N_("Media"), "p50": "p50", "p95": "p95"}
LATENCY_COLUMNS = {"avg": "avg_latency_ms", "p50": "p50_latency_ms", "p95": "p95_latency_ms"}
LATENCY_NAMES = {"avg": N_("Latencia media"), "p50": N_("Latencia p50 (mediana)"), "p95": N_("Latencia p95")}
# Short: at 390 px the plot is ~115 px wide (the longer title, with «con precios de catálogo»,
# was cut there); the section's description says how the cost is split.
COST_AXIS = N_("Costo ({code})")
TOKENS_AXIS = N_("Tokens por tipo")
NO_LATENCY = N_("Ningún modelo registra latencia en este periodo")
NO_COST = N_("Sin costo registrado en este periodo")
NO_COST_HINT = N_("Hay uso, pero el proveedor no informó precio (habitual en BYOK). Prueba con Barras: Tokens.")
NO_LOG_COST = N_("Ningún modelo con latencia tiene costo: la escala logarítmica no puede dibujarlo")
COLUMNS = list(theme.TOKEN_TYPES)  # input_tokens, cache_read_tokens, output_tokens


def labels(df: pd.DataFrame) -> list[str]:
    """Model names (raw), with the provider added where one name serves two providers."""
    dup = df["model"].duplicated(keep=False)
    return [f"{m} ({p})" if d else str(m) for m, p, d in zip(df["model"], df["provider"], dup)]


def top_models(df: pd.DataFrame, view: str = "cost", n: int = TOP) -> pd.DataFrame:
    """The n models with the highest cost (view cost) or the most tokens (view tokens)."""
    out = df.assign(label=labels(df), tokens=df[COLUMNS].sum(axis=1))
    key = "cost_usd" if view == "cost" else "tokens"
    out = out.sort_values([key, "executions"], ascending=[False, False], kind="stable").head(n)
    return out.reset_index(drop=True)


def _split_e8(cost_e8: int, weights: list[Fraction]) -> list[int]:
    """cost_e8 shared in proportion to weights, in whole 1e-8 USD, summing to cost_e8 exactly
    (largest remainder: the parts a rounding would lose go to the largest fractions)."""
    total = sum(weights)
    exact = [cost_e8 * w / total for w in weights]
    parts = [math.floor(x) for x in exact]
    left = cost_e8 - sum(parts)
    for i in sorted(range(len(exact)), key=lambda i: exact[i] - parts[i], reverse=True)[:left]:
        parts[i] += 1
    return parts


def cost_split(top: pd.DataFrame, prices: dict | None) -> pd.DataFrame:
    """Per model: the cost of each token type (USD) and `unsplit` (cost we cannot split).

    The catalogue prices give each type's SHARE of the model's cost; the shares are scaled
    to the cost the rows report, so a bar's segments add up to the model's cost exactly
    (to 1e-8 USD). A model without a price (or with priced tokens worth 0) is one segment."""
    rows = []
    r: Any  # an itertuples row: pandas-stubs types each field as the union of every scalar
    for r in top.itertuples(index=False):
        cost_e8 = int(round(float(r.cost_usd) * 1e8))
        p = (prices or {}).get((str(r.provider), str(r.model)))
        weights = (
            [Fraction(int(getattr(r, col))) * Fraction(p[i]) for i, col in enumerate(COLUMNS)]
            if p is not None
            else None
        )
        if cost_e8 and weights and sum(weights) > 0:
            parts = _split_e8(cost_e8, weights) + [0]
        else:
            parts = [0, 0, 0, cost_e8]
        rows.append(dict(zip(COLUMNS + ["unsplit"], [v / 1e8 for v in parts])))
    return pd.DataFrame(rows, columns=COLUMNS + ["unsplit"])


def model_tokens(df: pd.DataFrame) -> list[int]:
    """Each model's tokens as the contract counts them: input + output + cache read."""
    return [
        int(a) + int(b) + int(c) for a, b, c in zip(df["input_tokens"], df["output_tokens"], df["cache_read_tokens"])
    ]


def unit_costs(cost, executions, tokens) -> tuple[float | None, float | None]:
    """Cost per execution and per 1,000 tokens (None without executions or tokens)."""
    per_exec = float(cost) / int(executions) if int(executions) else None
    per_1k = float(cost) * 1000 / int(tokens) if int(tokens) else None
    return per_exec, per_1k


def unit_line(cost, executions, tokens, money: fmt.Money = fmt.USD) -> str:
    """«Costo/ejec.: US$ 0,0031 · Costo/1K tokens: US$ 0,0120» (4 decimals; «—» without executions or tokens)."""
    per_exec, per_1k = unit_costs(cost, executions, tokens)
    return _("Costo/ejec.: {per_exec} · Costo/1K tokens: {per_1k}").format(
        per_exec=fmt.usd(per_exec, 4, money=money), per_1k=fmt.usd(per_1k, 4, money=money)
    )


def _hover_rows(top: pd.DataFrame) -> list[str]:
    """'Entrada (sin caché): 1,2M · Lectura de caché: 300K · Salida: 80K' per model."""
    return [
        "<br>".join(f"{_(theme.TOKEN_TYPES[c][0])}: {fmt.compact(getattr(r, c))} tokens" for c in COLUMNS)
        for r in top.itertuples(index=False)
    ]


def models_bars(
    df: pd.DataFrame, height: int = 360, view: str = "cost", prices: dict | None = None, money: fmt.Money = fmt.USD
) -> plot.Figure:
    """The top 10, horizontal. view cost: bars of COST split by token type (catalogue shares
    scaled to the reported cost); view tokens: bars of TOKENS by type. The bar's length is
    what it is ranked by; its total is written at its end."""
    if not len(df) or int(df["executions"].sum()) == 0:
        return empty(height=height)
    view = view if view in VIEWS else "cost"
    if view == "cost" and float(df["cost_usd"].sum()) == 0:  # bars of nothing: say why, offer Tokens
        return empty(NO_COST, height=height, hint=NO_COST_HINT)
    top = top_models(df, view)
    ys = [fmt.text(lab) for lab in top["label"]]  # category values (whole: each bar its own)
    ticks = [fmt.short_text(lab, TICK_CHARS) for lab in top["label"]]  # what the axis prints
    common = [
        [
            fmt.short_text(lab),
            fmt.short_text(p),
            fmt.usd(c, money=money),
            fmt.compact(t),
            tok,
            unit_line(c, e, t, money),
        ]
        for lab, p, c, t, e, tok in zip(
            top["label"], top["provider"], top["cost_usd"], top["tokens"], top["executions"], _hover_rows(top)
        )
    ]
    fig = theme.figure(height=height, barmode="stack", hovermode="closest")
    head = "<b>%{customdata[0]}</b> · %{customdata[1]}<br>"
    keys = [[click_key(p), click_key(m)] for p, m in zip(top["provider"], top["model"])]  # raw, last: a click filters
    if view == "cost":
        split = cost_split(top, prices)
        segments = [(c, *theme.TOKEN_TYPES[c]) for c in COLUMNS] + [("unsplit", *theme.UNSPLIT)]
        for col, name, colour in segments:
            name = _(name)
            values = split[col]
            if col == "unsplit" and not (values > 0).any():
                continue
            pattern = dict(shape="/", fgcolor=theme.MUTED, size=6, solidity=0.25) if col == "unsplit" else None
            fig.add_trace(
                plot.bar(
                    y=ys,
                    x=money.values(values),
                    orientation="h",
                    name=name,
                    marker=dict(color=colour, pattern=pattern),
                    customdata=[cd + [fmt.usd(v, money=money)] + k for cd, v, k in zip(common, values, keys)],
                    hovertemplate=(
                        head
                        + name
                        + ": %{customdata[6]}<br>"
                        + _("Costo del modelo: %{customdata[2]}")
                        + "<br>%{customdata[5]}<br><br>%{customdata[4]}"
                        + f"<br>{_(CLICK_TO_FILTER)}<extra></extra>"
                    ),
                )
            )
        ends = pd.Series(money.values(top["cost_usd"]))
        end_text = [fmt.usd(c, money=money) for c in top["cost_usd"]]
        title = _(COST_AXIS).format(code=money.code)
    else:
        for col in COLUMNS:
            name, colour = theme.TOKEN_TYPES[col]
            name = _(name)
            fig.add_trace(
                plot.bar(
                    y=ys,
                    x=top[col],
                    orientation="h",
                    name=name,
                    marker=dict(color=colour),
                    customdata=[
                        cd + [f"{fmt.compact(v)} ({fmt.integer(v)})"] + k for cd, v, k in zip(common, top[col], keys)
                    ],
                    hovertemplate=(
                        head
                        + name
                        + ": %{customdata[6]} tokens<br>"
                        + _("Tokens del modelo: %{customdata[3]}<br>Costo del modelo: %{customdata[2]}")
                        + "<br>%{customdata[5]}"
                        + f"<br>{_(CLICK_TO_FILTER)}<extra></extra>"
                    ),
                )
            )
        ends, end_text = top["tokens"].astype(float), [fmt.compact(t) for t in top["tokens"]]
        title = _(TOKENS_AXIS)
    # The axis runs past the longest bar; with every bar at (or near) nothing it still spans a
    # cent or a few tokens, so its ticks read «0 · 0,005 · 0,010», not ten-decimal figures.
    span = max(float(ends.max()) * 1.05, 0.01 if view == "cost" else 5.0)
    # Each bar's total at its end, set in one go: add_annotation re-validates every annotation
    # already there, ~7 ms of CPU for ten bars against ~0.5 ms for the list. The right margin
    # holds the longest total, so that it reads whole however narrow the plot (a phone's is
    # ~100 px); on a desktop the bars keep their length, the headroom moved into the margin.
    font = dict(size=11, color=theme.INK)
    ends_at = [
        dict(x=end, y=y, text=text, showarrow=False, xanchor="left", xshift=6, font=font)
        for y, end, text in zip(ys, ends, end_text)
    ]
    theme.relayout(
        fig,
        annotations=[*fig.layout.get("annotations", ()), *ends_at],
        margin=dict(l=8, r=END_PAD + math.ceil(END_CHAR_PX * max(map(len, end_text), default=0)), t=36, b=8),
        xaxis=dict(
            title=dict(text=title),
            range=[0, span],
            showgrid=True,
            gridcolor=theme.GRID,
            tickangle=0,
            **level_ticks(span, whole=view != "cost"),
        ),
        yaxis=dict(
            autorange="reversed", showgrid=False, ticklabelstandoff=6, type="category", tickvals=ys, ticktext=ticks
        ),
        bargap=0.35,
        legend=dict(traceorder="normal"),
        meta={"view": view},
    )
    return fig


def level_ticks(span: float, whole: bool = False) -> dict:
    """The bars' value ticks over [0, span] (whole: a count's, by whole units): the most (up
    to six) whose labels all stand level on the narrowest axis (BAR_AXIS_MIN_PX), else two."""
    for n in (5, 4, 3, 2):  # at n = 2 the step is at most the span: 0 and one more
        ticks = count_axis(span, n, whole)
        shown = [t for v, t in zip(ticks["tickvals"], ticks["ticktext"]) if v <= span]
        step = ticks["tickvals"][1]
        if max(map(len, shown)) * TICK_CHAR_PX + TICK_GAP_PX <= BAR_AXIS_MIN_PX * step / span:
            break
    return ticks


def without_latency(df: pd.DataFrame) -> list[str]:
    """Models that no row gave a latency for: listed beside the bubble chart, never drawn at 0."""
    if not len(df):
        return []
    return [lab for lab, missing in zip(labels(df), df["avg_latency_ms"].isna()) if missing]


def bubble_models(df: pd.DataFrame, scale: str = "linear", latency: str = "avg") -> pd.DataFrame:
    """The models the bubble chart draws, numbered 1… by cost: the chart shows the number,
    the key beside it the name; `x` is the chosen latency (LATENCIES). A log cost axis
    cannot draw a cost of 0: those are left out."""
    if not len(df):
        return df.assign(label=[], number=[], x=[])
    col = LATENCY_COLUMNS.get(latency, "avg_latency_ms")
    out = df.assign(label=labels(df), x=df[col] if col in df else df["avg_latency_ms"])
    out = out[out["x"].notna()]
    if scale == "log":
        out = out[out["cost_usd"] > 0]
    out = out.sort_values(["cost_usd", "executions"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return out.assign(number=range(1, len(out) + 1))


BUBBLE_MAX_PX = 44  # the biggest bubble's diameter
BUBBLE_MIN_PX = 5  # Plotly's sizemin: the least bubble's radius as drawn (10 px across)


def _bubble_axes(part: pd.DataFrame, scale: str) -> tuple[list[float], list[float]]:
    right = float(part["x"].max())
    xr = [-0.06 * right if right > 0 else -1, right * 1.1 if right > 0 else 1]
    top = float(part["cost_usd"].max())
    if scale == "log":
        lo = math.log10(float(part["cost_usd"].min()))
        hi = math.log10(top)
        pad = max(0.15 * (hi - lo), 0.3)
        return xr, [lo - pad, hi + pad]
    return xr, [-0.1 * top if top > 0 else -1, (top * 1.2) if top > 0 else 1]


def models_bubble(
    df: pd.DataFrame, height: int = 360, scale: str = "linear", latency: str = "avg", money: fmt.Money = fmt.USD
) -> plot.Figure:
    """One numbered bubble per model with a known latency: x = mean, p50 or p95 latency (ms),
    y = cost (linear or log axis), area = executions. The key beside the chart names each number."""
    if not len(df) or int(df["executions"].sum()) == 0:
        return empty(height=height)
    scale = scale if scale in SCALES else "linear"
    latency = latency if latency in LATENCIES else "avg"
    name = _(LATENCY_NAMES[latency])
    part = bubble_models(df, scale, latency)
    if not len(part):
        return empty(
            NO_LATENCY if scale == "linear" or not df["avg_latency_ms"].notna().any() else NO_LOG_COST,
            height=height,
        )
    usd = list(part["cost_usd"])  # hovers: formatted from USD; positions: in the display currency
    part = part.assign(cost_usd=money.values(usd))
    biggest = max(int(part["executions"].max()), 1)
    sizeref = 2.0 * biggest / (BUBBLE_MAX_PX**2)
    plot_h = height - 52  # the margins and the x axis (328 px at the page's 380, Chromium)
    # The radius Plotly draws (px): sqrt(size / (2·sizeref)), at least sizemin; the biggest is
    # 22 (measured in Chromium: 44 px across for the demo's 5,189 executions, 10 for the least).
    radii = [max(math.sqrt(e / (2 * sizeref)), BUBBLE_MIN_PX) for e in part["executions"]]
    xs = [float(x) for x in part["x"]]
    ys = [math.log10(c) if scale == "log" else float(c) for c in part["cost_usd"]]
    xr, yr = _bubble_axes(part, scale)
    # Every bubble inside the plot area at the narrowest width the page draws it.
    xr = fit_range(xs, radii, xr[0], xr[1], min(PLOT_WIDTHS))
    yr = fit_range(ys, radii, yr[0], yr[1], plot_h)

    def to_px(v, lo, hi, size):
        return (v - lo) / (hi - lo) * size if hi > lo else size / 2

    views = [
        ([(to_px(x, xr[0], xr[1], w), to_px(y, yr[0], yr[1], plot_h), r) for x, y, r in zip(xs, ys, radii)], w)
        for w in PLOT_WIDTHS
    ]
    numbers = [str(n) for n in part["number"]]
    fig = theme.figure(height=height, hovermode="closest", showlegend=False)
    fig.add_trace(
        plot.scatter(
            x=part["x"],
            y=part["cost_usd"],
            mode="markers+text",
            cliponaxis=False,
            text=numbers,
            textposition=place_labels(views, plot_h, numbers),
            textfont=dict(size=11, color=theme.INK),
            marker=dict(
                size=part["executions"],
                sizemode="area",
                sizeref=sizeref,
                sizemin=BUBBLE_MIN_PX,
                color=hex_to_rgba(theme.MODEL, 0.28),
                line=dict(color=theme.MODEL, width=1.2),
            ),
            customdata=[
                [
                    f"{n}. {fmt.short_text(lab)}",
                    fmt.short_text(p),
                    fmt.integer(lat),
                    fmt.usd(c, money=money),
                    fmt.integer(e),
                ]
                + [unit_line(c, e, t, money)]
                + [click_key(p), click_key(m)]  # raw, last (never printed): a click filters by them
                for n, lab, p, lat, c, e, t, m in zip(
                    part["number"],
                    part["label"],
                    part["provider"],
                    part["x"],
                    usd,
                    part["executions"],
                    model_tokens(part),
                    part["model"],
                )
            ],
            hovertemplate=(
                "<b>%{customdata[0]}</b> · %{customdata[1]}<br>"
                + name
                + ": %{customdata[2]} ms<br>"
                + _("Costo: %{customdata[3]}<br>Ejecuciones: %{customdata[4]}")
                + "<br>%{customdata[5]}"
                + f"<br>{_(CLICK_TO_FILTER)}<extra></extra>"
            ),
        )
    )
    yaxis: dict[str, Any] = dict(
        title=dict(
            text=(_("Costo ({code}), escala logarítmica") if scale == "log" else _("Costo ({code})")).format(
                code=money.code
            )
        ),
        range=yr,
        **money.axis(),
    )
    if scale == "log":
        yaxis.update(type="log", tickformat=",.2~f", dtick=1)
    else:
        yaxis.update(tickformat=",.2~f")
    theme.relayout(
        fig,
        margin=dict(l=8, r=8, t=16, b=8),
        xaxis=dict(title=dict(text=f"{name} (ms)"), showgrid=True, gridcolor=theme.GRID, tickformat=",~f", range=xr),
        yaxis=yaxis,
        meta={"scale": scale, "latency": latency},
    )
    return fig
