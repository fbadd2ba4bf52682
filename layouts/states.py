"""Page-wide states: the access message and the banners above the sections."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from . import ids

DB_DOWN = ("No se puede consultar la base de datos en este momento. Los datos no están disponibles; "
           "vuelve a intentarlo en unos minutos.")
DB_TIMEOUT = "La consulta tardó demasiado y se canceló. Prueba con un periodo más corto o una resolución menor."


def access_denied() -> html.Div:
    """Shown instead of the dashboard without a valid token (nothing is queried)."""
    return html.Div(id=ids.ACCESS, hidden=True, className="access", role="alert", children=[
        html.Div(className="access-card", children=[
            html.Div(className="access-icon", **{"aria-hidden": "true"}),
            html.H2("Acceso no autorizado", className="access-title"),
            html.P("Este panel se abre desde la administración de tu organización con un enlace firmado. "
                   "El enlace no lleva un token válido o ha caducado.", className="access-text"),
            html.P(id=ids.ACCESS_DETAIL, className="access-detail"),
            html.P("Vuelve a abrir «Consumo de IA» desde el panel para obtener un enlace nuevo.",
                   className="access-text"),
        ]),
    ])


def banner(message: str, kind: str = "danger", title: str | None = None) -> dbc.Alert:
    return dbc.Alert([html.Strong(title + " ") if title else None, message], color=kind,
                     className="status-banner")


def no_usage(source_label: str | None = None) -> dbc.Alert:
    """The whole window is empty: say so once, with what to try, instead of a page of zeros."""
    scope = f" con origen {source_label}" if source_label else ""
    return banner(f"No hay uso registrado{scope} en este periodo. Prueba con un periodo más largo (90d o YTD)"
                  + (" u otro origen." if source_label else "."), "info", "Sin datos en este periodo.")


def session_expired() -> dbc.Alert:
    return banner("Vuelve a abrir «Consumo de IA» desde el panel para obtener un enlace nuevo.", "warning",
                  "Tu acceso ha caducado o no es válido.")


def db_unavailable(timeout: bool = False) -> dbc.Alert:
    if timeout:
        return banner(DB_TIMEOUT, "warning", "Consulta cancelada.")
    return banner(DB_DOWN, "danger", "Base de datos no disponible.")
