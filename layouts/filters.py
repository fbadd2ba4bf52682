"""The header and the global filter bar: one change here re-scopes every section."""

from __future__ import annotations

from datetime import date, timedelta

import dash_bootstrap_components as dbc
from dash import dcc, html

from queries.filters import MAX_HOURLY_DAYS  # dashboard.js's MAX_HOURLY_DAYS disables Hora past it

from . import ids, theme
from .i18n import N_, _

PRESETS = [
    ("7d", "7d", N_("Últimos 7 días, hoy incluido")),
    ("30d", "30d", N_("Últimos 30 días, hoy incluido")),
    ("90d", "90d", N_("Últimos 90 días, hoy incluido")),
    ("ytd", "YTD", N_("Desde el 1 de enero")),
    ("custom", N_("Personalizado"), N_("Elige las fechas")),
]
SOURCES = [
    ("all", N_("Todos"), N_("Sistema y BYOK")),
    ("system", N_("Sistema"), N_("Claves de la plataforma")),
    ("byok", "BYOK", N_("Claves propias de la organización")),
]
GRANULARITIES = [
    ("auto", N_("Auto"), N_("Hora hasta 7 días, día hasta 90, semana hasta un año")),
    ("hour", N_("Hora"), ""),
    ("day", N_("Día"), ""),
    ("week", N_("Semana"), N_("Semanas de lunes a domingo")),
    ("month", N_("Mes"), ""),
]
COMPARES = [  # «Comparar con» (contract §3.2): none is the page's own value, never sent as a filter
    ("none", N_("Sin comparación"), ""),
    ("previous", N_("Periodo anterior"), N_("Los mismos días justo antes del periodo")),
    ("year", N_("Mismo periodo del año pasado"), N_("Las mismas fechas un año antes")),
]
HOUR_TOO_LONG = N_("Hora está disponible para periodos de hasta {n} días")


def hour_too_long() -> str:
    """Why Hora is disabled on a long window (dashboard.js says the same in the browser)."""
    return _(HOUR_TOO_LONG).format(n=MAX_HOURLY_DAYS)


def segmented(control_id: str, options, value: str, label: str) -> html.Div:
    """A row of toggle buttons that is one radio group: real radio inputs sharing a name, so Tab
    enters the group once (on the checked button) and the arrow keys move within it.

    options: (value, text, hint) with text and hint as msgids (shown through `_()`)."""
    label_id = f"{control_id}-label"
    return html.Div(
        className="filter-group",
        role="radiogroup",
        **{"aria-labelledby": label_id},
        children=[
            html.Span(_(label), id=label_id, className="filter-label"),
            dbc.RadioItems(
                id=control_id,
                value=value,
                inline=True,
                className="seg",
                name=control_id,
                inputClassName="btn-check",
                labelClassName="seg-btn",
                labelCheckedClassName="active",
                options=[
                    {"label": html.Span(_(text), title=_(hint)) if hint else _(text), "value": v}
                    for v, text, hint in options
                ],
            ),
        ],
    )


def compare_select() -> html.Div:
    """«Comparar con»: a native select in the bar's second row, after the dimension filters (the
    first row has no room left at 1440 px with custom dates). A value the page does not offer
    (a hand-edited URL) stays the control's value: no change is sent, the server's banner names it."""
    return html.Div(
        className="filter-group compare-group",
        children=[
            html.Label(_("Comparar con"), id=ids.COMPARE_LABEL, htmlFor=ids.COMPARE, className="filter-label"),
            dbc.Select(
                id=ids.COMPARE,
                value="none",
                size="sm",
                className="compare-select",
                options=[
                    {"label": _(text), "value": v, **({"title": _(hint)} if hint else {})} for v, text, hint in COMPARES
                ],
            ),
        ],
    )


def header() -> html.Header:
    return html.Header(
        className="topbar",
        children=[
            html.Div(
                className="brand",
                children=[
                    html.Div("IA", className="brand-mark", **{"aria-hidden": "true"}),
                    html.Div(
                        [
                            html.H1(_("Consumo de IA"), className="page-title"),
                            html.Div(_("Costo, tokens y uso de modelos de tu organización"), className="page-subtitle"),
                        ]
                    ),
                ],
            ),
            html.Div(
                className="topbar-meta",
                children=[
                    html.Span(id=ids.WINDOW_LABEL, className="meta-window"),
                    html.Span(id=ids.TZ_LABEL, className="meta-tz"),
                ],
            ),
        ],
    )


def filter_bar(today: date | None = None) -> html.Div:
    today = today or date.today()
    return html.Div(
        className="filterbar",
        role="toolbar",
        **{"aria-label": _("Filtros")},
        children=[
            segmented(ids.PRESET, PRESETS, "30d", N_("Periodo")),
            html.Div(
                id=ids.DATES_WRAP,
                className="filter-group dates-wrap",
                hidden=True,
                role="group",
                **{"aria-labelledby": ids.DATES_LABEL},
                children=[
                    html.Span(_("Fechas"), id=ids.DATES_LABEL, className="filter-label visually-hidden"),
                    # start/end_date_id name the inputs as the picker's own aria-labelledby expects
                    # ("<id> <id>-end-date <start_date_id> <end_date_id>"): every id it cites exists.
                    dcc.DatePickerRange(
                        id=ids.DATES,
                        start_date=(today - timedelta(days=29)).isoformat(),
                        end_date=today.isoformat(),
                        start_date_id=ids.DATES,
                        end_date_id=f"{ids.DATES}-end-date",
                        display_format="DD/MM/YYYY",  # both languages: dashboard.js parses typed dates so
                        month_format="MMMM YYYY",
                        first_day_of_week=1,
                        updatemode="bothdates",
                        clearable=False,
                        minimum_nights=0,
                        start_date_placeholder_text=_("Desde"),
                        end_date_placeholder_text=_("Hasta"),
                    ),
                    html.Span(id=ids.DATES_HINT, className="dates-hint"),
                ],
            ),
            segmented(ids.SOURCE, SOURCES, "all", N_("Origen")),
            segmented(ids.GRANULARITY, GRANULARITIES, "auto", N_("Resolución")),
            html.Div(id=ids.FILTER_NOTICE, className="filter-notice", role="status", **{"aria-live": "polite"}),
            html.Div(id=ids.LINK_NOTICE, className="filter-notice", role="status", **{"aria-live": "polite"}),
            # The period the sections show; see ids.APPLIED_*.
            dcc.Store(id=ids.APPLIED_PRESET, data="30d", storage_type="memory"),
            dcc.Store(id=ids.APPLIED_START, data=None, storage_type="memory"),
            dcc.Store(id=ids.APPLIED_END, data=None, storage_type="memory"),
            dcc.Store(id=ids.FILTER_SLICE, data={}, storage_type="memory"),
        ],
    )


def describe_granularity(requested: str, applied: str) -> str:
    """'Día (auto)' or 'Semana'."""
    name = _(theme.GRANULARITY_LABELS.get(applied, applied))
    return f"{name} (auto)" if requested == "auto" else name
