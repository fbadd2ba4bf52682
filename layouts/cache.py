"""Avanzado · caché: the savings timeline and the per-model table (hit rate, savings, premium, net)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from . import fmt, ids, theme
from .common import graph
from .i18n import _, ngettext

TIMELINE_HEIGHT = 300
MAX_MODELS = 12  # rows shown; the rest summed in one «Otros modelos» row


def row() -> dbc.Row:
    """The cache row of Avanzado, below the heatmap and the source split."""
    return dbc.Row(
        [
            dbc.Col(
                [
                    html.H3(_("Ahorro neto por caché y tasa de aciertos"), className="chart-title"),
                    graph(
                        ids.CACHE_TIMELINE, TIMELINE_HEIGHT, _("Ahorro neto por caché y tasa de aciertos por periodo")
                    ),
                    html.Div(
                        _(
                            "Ahorro neto = ahorro bruto (lecturas de caché) − prima de escritura en caché. "
                            "Barras más claras: periodo en curso o incompleto."
                        ),
                        className="chart-note",
                    ),
                ],
                lg=7,
            ),
            dbc.Col(
                [html.H3(_("Caché por modelo"), className="chart-title"), html.Div(id=ids.CACHE_MODELS)],
                lg=5,
            ),
        ],
        className="g-4 mt-2",
    )


def _money(v: float, known: bool, money: fmt.Money) -> str:
    return fmt.usd(v, money=money) if known else _("sin precio")


def models_table(df: pd.DataFrame, money: fmt.Money = fmt.USD) -> html.Div:
    """One row per model with prompt tokens: hit rate, gross savings, write premium, net.
    Names go in as text children (Dash renders them as text, never as markup)."""
    df = df[df["total_input_tokens"] > 0]
    if not len(df):
        return html.Div(_("Sin tokens de entrada en este periodo."), className="chart-note")
    head = html.Thead(
        html.Tr(
            [
                html.Th(_("Modelo")),
                html.Th(_("Aciertos"), className="num"),
                html.Th(_("Ahorro bruto"), className="num"),
                html.Th(_("Prima escritura"), className="num"),
                html.Th(_("Ahorro neto"), className="num"),
            ]
        )
    )
    body = []
    r: Any  # an itertuples row: pandas-stubs types each field as the union of every scalar
    for r in df.head(MAX_MODELS).itertuples(index=False):
        rate = fmt.percent(r.hit_rate) if r.hit_rate is not None and r.hit_rate == r.hit_rate else fmt.NOT_APPLICABLE
        premium = _money(r.write_premium_usd, r.priced and r.write_priced, money)
        body.append(
            html.Tr(
                [
                    html.Td(
                        [html.Div(str(r.model), className="cell-main"), html.Div(str(r.provider), className="cell-sub")]
                    ),
                    html.Td(rate, className="num"),
                    html.Td(_money(r.estimated_savings_usd, r.priced, money), className="num"),
                    html.Td(premium, className="num"),
                    html.Td(
                        html.Strong(_money(r.net_savings_usd, r.priced, money)),
                        className="num neg" if r.net_savings_usd < 0 else "num",
                    ),
                ]
            )
        )
    rest = df.iloc[MAX_MODELS:]
    if len(rest):
        body.append(
            html.Tr(
                [
                    html.Td(ngettext("Otro modelo", "Otros {n} modelos", len(rest)).format(n=len(rest))),
                    html.Td(""),
                    html.Td(fmt.usd(rest["estimated_savings_usd"].sum(), money=money), className="num"),
                    html.Td(fmt.usd(rest["write_premium_usd"].sum(), money=money), className="num"),
                    html.Td(fmt.usd(rest["net_savings_usd"].sum(), money=money), className="num"),
                ]
            )
        )
    note = _(
        "Prima de escritura = tokens escritos en caché × (precio de escritura en caché − precio de entrada). "
        "«sin precio»: el catálogo y la tabla de precios no conocen ese precio; no suma. "
        "Aciertos = {cache_read} ÷ {prompt}."
    ).format(cache_read=_(theme.CACHE_READ), prompt=_(theme.PROMPT_TOTAL))
    return html.Div(
        [
            # On a phone the five columns are wider than the panel: they scroll, whole, sideways.
            html.Div(
                html.Table([head, html.Tbody(body)], className="mini-table cache-models"), className="table-scroll"
            ),
            html.Div(note, className="chart-note"),
        ]
    )
