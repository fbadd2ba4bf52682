"""The header and the global filter bar: one change here re-scopes every section."""
from __future__ import annotations

from datetime import date, timedelta

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import ids, theme

PRESETS = [("7d", "7d", "Últimos 7 días, hoy incluido"), ("30d", "30d", "Últimos 30 días, hoy incluido"),
           ("90d", "90d", "Últimos 90 días, hoy incluido"), ("ytd", "YTD", "Desde el 1 de enero"),
           ("custom", "Personalizado", "Elige las fechas")]
SOURCES = [("all", "Todos", "Sistema y BYOK"), ("system", "Sistema", "Claves de la plataforma"),
           ("byok", "BYOK", "Claves propias de la organización")]
GRANULARITIES = [("auto", "Auto", "Hora hasta 7 días, día hasta 90, semana hasta un año"),
                 ("hour", "Hora", ""), ("day", "Día", ""), ("week", "Semana", "Semanas de lunes a domingo"),
                 ("month", "Mes", "")]


def segmented(control_id: str, options, value: str, label: str) -> html.Div:
    """A row of toggle buttons (a radio group): what a filter bar in a paid product looks like."""
    return html.Div(className="filter-group", children=[
        html.Span(label, className="filter-label"),
        dbc.RadioItems(
            id=control_id, value=value, inline=True, className="seg",
            inputClassName="btn-check", labelClassName="seg-btn", labelCheckedClassName="active",
            options=[{"label": html.Span(text, title=hint) if hint else text, "value": v} for v, text, hint in options],
        ),
    ])


def header() -> html.Header:
    return html.Header(className="topbar", children=[
        html.Div(className="brand", children=[
            html.Div("IA", className="brand-mark", **{"aria-hidden": "true"}),
            html.Div([html.H1("Consumo de IA", className="page-title"),
                      html.Div("Costo, tokens y uso de modelos de tu organización", className="page-subtitle")]),
        ]),
        html.Div(className="topbar-meta", children=[
            html.Span(id=ids.WINDOW_LABEL, className="meta-window"),
            html.Span(id=ids.TZ_LABEL, className="meta-tz"),
        ]),
    ])


def filter_bar(today: date | None = None) -> html.Div:
    today = today or date.today()
    return html.Div(className="filterbar", role="toolbar", **{"aria-label": "Filtros"}, children=[
        segmented(ids.PRESET, PRESETS, "30d", "Periodo"),
        html.Div(id=ids.DATES_WRAP, className="filter-group dates-wrap", hidden=True, children=[
            html.Span("Fechas", className="filter-label"),
            dcc.DatePickerRange(
                id=ids.DATES, start_date=(today - timedelta(days=29)).isoformat(), end_date=today.isoformat(),
                display_format="DD/MM/YYYY", month_format="MMMM YYYY", first_day_of_week=1,
                updatemode="bothdates", clearable=False, minimum_nights=0,
                start_date_placeholder_text="Desde", end_date_placeholder_text="Hasta",
            ),
        ]),
        segmented(ids.SOURCE, SOURCES, "all", "Origen"),
        segmented(ids.GRANULARITY, GRANULARITIES, "auto", "Resolución"),
    ])


def describe_granularity(requested: str, applied: str) -> str:
    """'Día (auto)' or 'Semana'."""
    name = theme.GRANULARITY_LABELS.get(applied, applied)
    return f"{name} (auto)" if requested == "auto" else name
