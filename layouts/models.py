"""Modelos: the ten models with the highest cost (or tokens) split by token type, and cost
against latency as numbered bubbles with their key."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import datatables, exports, fmt, ids, textdom
from .common import graph, loading, note, section
from .figures.models import LATENCIES, SCALES, VIEWS
from .filters import segmented
from .i18n import N_, _, ngettext

HEIGHT = 380
TITLES = {"cost": N_("Los 10 modelos con más costo"), "tokens": N_("Los 10 modelos con más tokens")}


def layout() -> html.Section:
    view = segmented(ids.MODELS_VIEW, [(k, v, "") for k, v in VIEWS.items()], "cost", N_("Barras"))
    scale = segmented(ids.MODELS_SCALE, [(k, v, "") for k, v in SCALES.items()], "linear", N_("Eje de costo"))
    hints = {
        "avg": N_("Promedio de las llamadas con latencia"),
        "p50": N_("Mediana: la mitad de las llamadas tarda menos"),
        "p95": N_("El 5 % más lento de las llamadas tarda más que esto"),
    }
    latency = segmented(ids.MODELS_LATENCY, [(k, v, hints[k]) for k, v in LATENCIES.items()], "avg", N_("Latencia"))
    body = loading(
        html.Div(
            [
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                html.H3(_(TITLES["cost"]), id=ids.MODELS_BARS_TITLE, className="chart-title"),
                                graph(ids.MODELS_BARS, HEIGHT, _("Los 10 modelos con más costo, por tipo de token")),
                                datatables.toggle("models-bars", _("barras de modelos")),
                            ],
                            lg=7,
                        ),
                        dbc.Col(
                            [
                                html.H3(_("Costo frente a latencia"), className="chart-title"),
                                graph(
                                    ids.MODELS_BUBBLE,
                                    HEIGHT,
                                    _("Costo frente a latencia (media, p50 o p95) por modelo"),
                                ),
                                # the key's tree, drawn by assets/textdom.js (React never gives it children)
                                html.Div(id=ids.MODELS_KEY, className="bubble-key"),
                                dcc.Store(id=ids.MODELS_KEY_VIEW, data=None, storage_type="memory"),
                                datatables.toggle("models-bubble", _("costo frente a latencia")),
                            ],
                            lg=5,
                        ),
                    ],
                    className="g-3",
                ),
                note("", ids.MODELS_NOTE),
            ]
        )
    )
    return section(
        ids.SEC_MODELS,
        _("Modelos"),
        _(
            "Barras: costo (o tokens) de cada modelo por tipo de token; el costo se reparte entre los tipos "
            "con los precios de catálogo. Burbujas: tamaño = ejecuciones; el número remite a la lista."
        ),
        body,
        html.Div([view, scale, latency, exports.button(ids.CSV_MODELS, _("modelos"))], className="tools-row"),
    )


def bubble_key(part, money: fmt.Money = fmt.USD) -> textdom.Node | None:
    """The numbered key beside the bubbles: number, model, provider, cost. A text-only tree
    (layouts/textdom.py: ~40 elements re-created on every change), drawn as text by
    assets/textdom.js."""
    if part is None or not len(part):
        return None
    el = textdom.el
    return el(
        "ol",
        "bubble-key-list",
        attrs={"aria-label": _("Modelos del gráfico de burbujas")},
        kids=[
            el(
                "li",
                kids=[
                    el("span", "bubble-num", str(n)),
                    el("span", "bubble-name", str(lab)),
                    el("span", "bubble-meta", f"{p} · {fmt.usd(c, money=money)}"),
                ],
                attrs={"value": int(n)},
            )
            for n, lab, p, c in zip(part["number"], part["label"], part["provider"], part["cost_usd"])
        ],
    )


def models_note(missing: list[str], more: int, zero_cost: int = 0) -> list:
    """Under the charts: models left off the bubble chart (no latency, or cost 0 on a log axis)
    and beyond the first ten."""
    parts = []
    if missing:
        parts.append(html.Span([html.Strong(_("Sin latencia registrada (no se dibujan): ")), ", ".join(missing)]))
    if zero_cost:
        parts.append(
            html.Span(
                ngettext(
                    "{n} modelo con costo 0 no se dibuja en escala logarítmica.",
                    "{n} modelos con costo 0 no se dibujan en escala logarítmica.",
                    zero_cost,
                ).format(n=zero_cost)
            )
        )
    if more > 0:
        parts.append(
            html.Span(
                ngettext(
                    "{n} modelo más fuera de los 10 primeros.", "{n} modelos más fuera de los 10 primeros.", more
                ).format(n=more)
            )
        )
    return parts
