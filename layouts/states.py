"""Page-wide states: the access message and the banners above the sections."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from . import ids
from .i18n import N_, _

DB_DOWN = N_(
    "No se puede consultar la base de datos en este momento. Los datos no están disponibles; "
    "vuelve a intentarlo en unos minutos."
)
DB_TIMEOUT = N_("La consulta tardó demasiado y se canceló. Prueba con un periodo más corto o una resolución menor.")


ACCESS_TITLE = N_("No se puede mostrar el consumo de IA")
# What happened, per AuthError code, in words for the person at the screen (never the header syntax).
ACCESS_REASONS = {
    "missing_token": N_(
        "Has abierto esta página sin un enlace de acceso: el consumo de IA solo se abre desde la "
        "administración de tu organización."
    ),
    "token_expired": N_("Tu enlace de acceso ha caducado. Por seguridad, cada enlace sirve solo durante un tiempo."),
    "invalid_token": N_("Tu enlace de acceso no es válido: puede estar incompleto o haberse copiado mal."),
    "forbidden": N_(
        "Tu enlace es válido, pero tu usuario no tiene permiso para ver el consumo de IA de la organización."
    ),
}
ACCESS_STEPS = [
    N_("Abre «Consumo de IA» desde el panel de administración de tu organización: cada vez crea un enlace nuevo."),
    N_("Si alguien te envió el enlace, pídele uno nuevo."),
    N_("Si el problema sigue, pide a un administrador que revise tu permiso de lectura de uso de IA."),
]


def access_reason(code: str) -> str:
    return _(ACCESS_REASONS.get(code, ACCESS_REASONS["invalid_token"]))


def access_denied() -> html.Div:
    """Shown instead of the dashboard without a valid token (nothing is queried): what happened
    (ACCESS_DETAIL, set by the gate from the AuthError code) and what to do."""
    return html.Div(
        id=ids.ACCESS,
        hidden=True,
        className="access",
        role="alert",
        children=[
            html.Div(
                className="access-card",
                children=[
                    html.Div(className="access-icon", **{"aria-hidden": "true"}),
                    html.H2(_(ACCESS_TITLE), className="access-title"),
                    html.P(id=ids.ACCESS_DETAIL, className="access-detail"),
                    html.P(_("Qué puedes hacer:"), className="access-text access-what"),
                    html.Ol([html.Li(_(step)) for step in ACCESS_STEPS], className="access-steps"),
                ],
            ),
        ],
    )


def banner(message: str, kind: str = "danger", title: str | None = None) -> dbc.Alert:
    return dbc.Alert([html.Strong(title + " ") if title else None, message], color=kind, className="status-banner")


def no_usage(source_label: str | None = None) -> dbc.Alert:
    """The whole window is empty: say so once, with what to try, instead of a page of zeros."""
    if source_label:
        message = _(
            "No hay uso registrado con origen {source} en este periodo. "
            "Prueba con un periodo más largo (90d o YTD) u otro origen."
        ).format(source=source_label)
    else:
        message = _("No hay uso registrado en este periodo. Prueba con un periodo más largo (90d o YTD).")
    return banner(message, "info", _("Sin datos en este periodo."))


def session_expired() -> dbc.Alert:
    return banner(
        _("Vuelve a abrir «Consumo de IA» desde el panel para obtener un enlace nuevo."),
        "warning",
        _("Tu acceso ha caducado o no es válido."),
    )


def db_unavailable(timeout: bool = False) -> dbc.Alert:
    if timeout:
        return banner(_(DB_TIMEOUT), "warning", _("Consulta cancelada."))
    return banner(_(DB_DOWN), "danger", _("Base de datos no disponible."))


def currency_note(text: str) -> html.P:
    """«Importes en EUR a 0,92 por USD (tasa del 1 dic 2026).» above the cards."""
    return html.P(text, className="currency-note")
