"""Avanzado (collapsed by default): hour × weekday heatmap, Sistema vs BYOK, cache savings."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import cache, datatables, exports, fmt, ids, theme
from .common import graph, loading
from .i18n import _, ngettext

HEATMAP_HEIGHT = 560
SPLIT_HEIGHT = 240


def layout() -> html.Section:
    toggle = html.Button(
        id=ids.ADVANCED_TOGGLE,
        n_clicks=0,
        className="advanced-toggle",
        type="button",
        **{"aria-controls": ids.ADVANCED_COLLAPSE, "aria-expanded": "false"},
        children=[
            html.Div(
                [
                    html.H2(_("Avanzado"), className="section-title"),
                    html.P(
                        _("Uso por día y hora, Sistema frente a BYOK y ahorro por caché."), className="section-desc"
                    ),
                ]
            ),
            html.Span(className="chevron", **{"aria-hidden": "true"}),
        ],
    )
    body = dbc.Collapse(
        id=ids.ADVANCED_COLLAPSE,
        is_open=False,
        children=loading(
            html.Div(
                className="advanced-body",
                children=[
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    html.Div(
                                        [
                                            html.H3(
                                                _("Uso por día y hora (tokens, escala logarítmica)"),
                                                className="chart-title",
                                            ),
                                            exports.button(ids.CSV_HEATMAP, _("mapa de calor")),
                                        ],
                                        className="chart-title-row",
                                    ),
                                    graph(ids.HEATMAP, HEATMAP_HEIGHT, _("Mapa de calor de tokens por día y hora")),
                                    datatables.toggle("heatmap", _("tokens por día y hora")),
                                ],
                                lg=8,
                            ),
                            dbc.Col(
                                [
                                    html.H3(_("Sistema frente a BYOK"), className="chart-title"),
                                    graph(
                                        ids.SOURCE_SPLIT,
                                        SPLIT_HEIGHT,
                                        _("Reparto del costo por origen: Sistema, BYOK y Otro"),
                                    ),
                                    html.Div(id=ids.SOURCE_SPLIT_TABLE),
                                    datatables.toggle("split", _("Sistema frente a BYOK")),
                                    html.H3(_("Ahorro por caché"), className="chart-title mt-4"),
                                    html.Div(id=ids.CACHE_DETAIL),
                                ],
                                lg=4,
                            ),
                        ],
                        className="g-4",
                    ),
                    cache.row(),
                ],
            )
        ),
    )
    stale = dcc.Store(id=ids.ADVANCED_STALE, data=0, storage_type="memory")
    return html.Section(
        id=ids.SEC_ADVANCED, className="panel advanced", children=[toggle, body, stale], **{"data-stamp": ""}
    )


def split_table(df, money: fmt.Money = fmt.USD) -> html.Table:
    """Cost, tokens and executions per source; the filter bar's source does not apply here."""
    head = html.Thead(
        html.Tr(
            [
                html.Th(_("Origen")),
                html.Th(_("Costo"), className="num"),
                html.Th(_("Tokens"), className="num"),
                html.Th(_("Ejecuciones"), className="num"),
            ]
        )
    )
    body = []
    for r in df.itertuples(index=False):
        label, colour = theme.SOURCES[r.source]
        body.append(
            html.Tr(
                [
                    html.Td([html.Span(className="chip-dot", style=theme.swatch(colour)), _(label)]),
                    html.Td(fmt.usd(r.cost_usd, money=money) if r.executions else "—", className="num"),
                    html.Td(fmt.compact(r.tokens) if r.executions else "—", className="num"),
                    html.Td(fmt.integer(r.executions), className="num"),
                ]
            )
        )
    note = _(
        "Compara los orígenes en el mismo periodo; no aplica el filtro de origen. "
        "En BYOK el proveedor a menudo no informa precio: esas llamadas suman {zero}."
    ).format(zero=fmt.usd(0, 0, money=money))
    if "other" in set(df["source"]):
        note += " " + _(
            "Otro: filas cuyo origen no es system ni byok (p. ej. vacío); cuentan en Todos, no en Sistema ni en BYOK."
        )
    return html.Div(
        [html.Table([head, html.Tbody(body)], className="mini-table"), html.Div(note, className="chart-note")]
    )


def cache_detail(c: dict, source_label: str, money: fmt.Money = fmt.USD) -> html.Div:
    """Tokens served from cache, hit rate, estimated savings and models without a price."""
    if c["hit_rate"] is None:
        return html.Div(
            _("Sin tasa de aciertos: {prompt} = 0 tokens en este periodo.").format(prompt=_(theme.PROMPT_TOTAL)),
            className="chart-note",
        )
    rate = float(c["hit_rate"])
    skipped = int(c["skipped_models_count"])
    stats = [
        (_(theme.CACHE_READ), fmt.compact(c["total_cache_read_tokens"])),
        (_(theme.PROMPT_TOTAL), fmt.compact(c["total_input_tokens"])),
        (_("Tasa de aciertos"), fmt.percent(rate)),
        (_("Ahorro bruto"), fmt.usd(c["estimated_savings_usd"], money=money)),
        (_("Prima de escritura"), fmt.usd(c["write_premium_usd"], money=money)),
        (_("Ahorro neto"), fmt.usd(c["net_savings_usd"], money=money)),
    ]
    return html.Div(
        className="cache-detail",
        children=[
            html.Div(
                [
                    html.Div(
                        [html.Div(k, className="stat-label"), html.Div(v, className="stat-value")], className="stat"
                    )
                    for k, v in stats
                ],
                className="stat-grid",
            ),
            dbc.Progress(value=round(rate * 100, 1), className="hit-bar", color="success"),
            html.Div(
                [
                    _("Origen: {source}. ").format(source=source_label),
                    html.Strong(
                        ngettext(
                            "Parcial: no incluye {n} modelo sin precio conocido (o sin precio de escritura en caché). ",
                            "Parcial: no incluye {n} modelos sin precio conocido (o sin precio de escritura en caché). ",
                            skipped,
                        ).format(n=skipped)
                    )
                    if skipped
                    else _("Todos los modelos tienen precio conocido. "),
                    _("Tasa de aciertos = {cache_read} ÷ {prompt} ({input} + {cache_read}). ").format(
                        cache_read=_(theme.CACHE_READ), prompt=_(theme.PROMPT_TOTAL), input=_(theme.INPUT)
                    ),
                    _(
                        "Ahorro bruto = tokens de {cache_read} × (precio de entrada − precio de lectura de caché); "
                        "ahorro neto = ahorro bruto − prima de escritura."
                    ).format(cache_read=_(theme.CACHE_READ).lower()),
                ],
                className="chart-note",
            ),
        ],
    )
