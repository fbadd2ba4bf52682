"""«Alertas»: the org's budget and anomaly alerts, newest first, each with its delivery status.

Every string from the outbox (an error text, an anomaly's contributor) is data: it goes into
the page as text children, which the browser shows as characters, never as markup.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dash import html

from . import fmt, ids
from .common import loading
from .i18n import N_, _, ngettext

TYPES = {
    "budget_threshold": N_("Umbral del presupuesto alcanzado"),
    "projected_overrun": N_("Riesgo de superar el presupuesto"),
    "anomaly": N_("Anomalía de costo"),
    "test": N_("Alerta de prueba"),
}
MAX_ERROR = 200  # characters of an error shown


def layout() -> html.Section:
    return html.Section(
        id=ids.SEC_ALERTS,
        className="panel alerts",
        children=[
            html.H2(_("Alertas"), className="section-title"),
            html.P(
                _(
                    "Avisos de presupuesto y de anomalías enviados al webhook de la organización, y cómo fue cada envío."
                ),
                className="section-desc",
            ),
            loading(html.Div(id=ids.ALERTS_LIST, className="alerts-body")),
        ],
    )


def _when(t: datetime, tz: ZoneInfo) -> str:
    local = t.astimezone(tz)
    return _("{day}, {time}").format(day=fmt.weekday_day(local), time=local.strftime("%H:%M"))


def _detail(e) -> str:
    """What fired, in words: the threshold, the probability or the anomaly's day."""
    body = e.body if isinstance(e.body, dict) else {}
    if e.type == "budget_threshold" and e.threshold is not None:
        return _("{share} del presupuesto mensual").format(share=fmt.percent(e.threshold, 0))
    if e.type == "projected_overrun" and isinstance(body.get("probabilityOverBudget"), int | float):
        return _("Probabilidad de superarlo: {p}").format(p=fmt.percent(body["probabilityOverBudget"], 0))
    if e.type == "anomaly" and e.anomaly_date:
        try:
            return _("Día {day}").format(day=fmt.day(date.fromisoformat(e.anomaly_date)))
        except ValueError:
            return ""
    return ""


def _reason(e) -> str:
    """Why an event was not sent, or the last attempt's error (data, shortened)."""
    last = e.last_error or ""
    if e.status == "undeliverable":
        if "AI_USAGE_WEBHOOK_SECRET" in last:
            return _("No se envió: el servidor no tiene clave de firma (AI_USAGE_WEBHOOK_SECRET).")
        if "webhook URL" in last:
            return _("No se envió: la organización no tiene URL de webhook.")
    if not last:
        return ""
    return _("Último error: {error}").format(error=last[:MAX_ERROR])


def status(e) -> tuple[str, str]:
    """(words, CSS modifier) of an event's delivery status."""
    if e.status == "delivered":
        return _("Entregada"), "delivered"
    if e.status == "failed":
        return _("Fallida"), "failed"
    if e.status == "undeliverable":
        return _("No enviada"), "failed"
    if e.attempts:
        return ngettext("Reintentando ({n} intento)", "Reintentando ({n} intentos)", e.attempts).format(
            n=e.attempts
        ), "retrying"
    return _("Pendiente"), "retrying"


def alert_list(events: list, timezone: str) -> html.Div:
    if not events:
        return html.Div(
            _(
                "Todavía no hay alertas. Se envían al pasar un umbral del presupuesto, al proyectarse un sobrecosto "
                "o ante una anomalía de costo del día anterior."
            ),
            className="chart-note",
        )
    tz = ZoneInfo(timezone)
    items = []
    for e in events:
        words, kind = status(e)
        detail, reason = _detail(e), _reason(e)
        items.append(
            html.Li(
                className="alert-item",
                children=[
                    html.Div(
                        [
                            html.Span(_(TYPES[e.type]) if e.type in TYPES else _("Alerta"), className="alert-type"),
                            html.Span(detail, className="alert-detail") if detail else None,
                            html.Span(words, className=f"alert-status {kind}"),
                        ],
                        className="alert-head",
                    ),
                    html.Div(
                        [html.Span(_when(e.created_at, tz)), html.Span(reason) if reason else None],
                        className="chart-note",
                    ),
                ],
            )
        )
    return html.Ul(items, className="alert-list")
