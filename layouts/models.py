"""Modelos: the ten most expensive models by token type, and cost against latency."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from . import ids
from .common import graph, loading, note, section

HEIGHT = 380


def layout() -> html.Section:
    body = loading(html.Div([
        dbc.Row([
            dbc.Col([html.H3("Top 10 por costo", className="chart-title"),
                     graph(ids.MODELS_BARS, HEIGHT, "Top 10 modelos por costo")], lg=7),
            dbc.Col([html.H3("Costo frente a latencia", className="chart-title"),
                     graph(ids.MODELS_BUBBLE, HEIGHT, "Costo frente a latencia media por modelo")], lg=5),
        ], className="g-3"),
        note("", ids.MODELS_NOTE),
    ]))
    return section(ids.SEC_MODELS, "Modelos",
                   "Barras: tokens por tipo y costo total de cada modelo. Burbujas: tamaño = ejecuciones.", body)


def models_note(missing: list[str], more: int) -> list:
    """Under the charts: models left off the bubble chart (no latency) and beyond the top 10."""
    parts = []
    if missing:
        parts.append(html.Span([html.Strong("Sin latencia registrada (no se dibujan): "), ", ".join(missing)]))
    if more > 0:
        parts.append(html.Span(f"{more} modelo{'s' if more != 1 else ''} más fuera del top 10."))
    return parts
