"""Presupuesto: the budget panel, its editor (writers only), the change log, the projection
card's budget line and the trend's «Acumulado» view (issue 10, contract §3.4).

Everything here is built from plain values; callbacks/budget.py decides who sees the editor
from the verified token (server side), never from anything the browser says.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from dash import dcc, html

from . import fmt, ids
from .common import graph, section
from .filters import segmented
from .i18n import N_, _

HEIGHT = 340
VIEWS = [
    ("period", N_("Por periodo"), ""),
    ("cumulative", N_("Acumulado"), N_("Costo acumulado del mes frente al presupuesto")),
]
# What a refused save says, by the field the validation names (queries/budget.py parse_settings).
FIELD_MESSAGES = {
    "monthlyBudgetUsd": N_(
        "El presupuesto debe ser un número mayor que 0 y de hasta 1.000.000.000 US$, con 8 decimales como máximo."
    ),
    "thresholds": N_(
        "Los umbrales deben ser hasta 10 porcentajes del presupuesto, mayores que 0 y de hasta 1000, separados "
        "por espacios (por ejemplo: 50 80 100)."
    ),
    "webhookUrl": N_(
        "La URL del webhook no es válida: usa https:// hacia una dirección pública (http:// solo hacia los "
        "servidores que permite el operador)."
    ),
    "timezone": N_("La zona horaria del navegador no es válida; se necesita un nombre IANA."),
}


def trend_view_control() -> html.Div:
    return segmented(ids.TREND_VIEW, VIEWS, "period", N_("Vista"))


def cumulative_graph() -> html.Div:
    return html.Div(
        [
            graph(ids.TREND_CUMULATIVE, HEIGHT, _("Costo acumulado del mes frente al presupuesto")),
            dcc.Store(id=ids.TREND_CUMULATIVE_STALE, data=0, storage_type="memory"),
        ],
        id=ids.TREND_CUMULATIVE_WRAP,
        hidden=True,
    )


def layout() -> html.Section:
    body = html.Div(
        className="budget-body",
        children=[
            dcc.Store(id=ids.BUDGET_VERSION, data=0, storage_type="memory"),
            html.Div(id=ids.BUDGET_SUMMARY, className="budget-summary"),
            html.Div(form(), id=ids.BUDGET_EDITOR, className="budget-editor", hidden=True),
            html.Div(id=ids.BUDGET_STATUS, className="budget-status", role="status", **{"aria-live": "polite"}),
            html.Details(
                [html.Summary(_("Historial de cambios")), html.Div(id=ids.BUDGET_HISTORY)],
                className="budget-history",
            ),
        ],
    )
    return section(
        ids.SEC_BUDGET,
        _("Presupuesto"),
        _("Presupuesto mensual de la organización, umbrales de alerta y quién los cambió."),
        body,
    )


def pct_list(thresholds) -> str:
    return ", ".join(fmt.percent(t, 0) for t in thresholds) if thresholds else _("ninguno")


def summary(settings, can_write: bool, money: fmt.Money = fmt.USD) -> list:
    """What every reader sees: the budget, the thresholds, whether a webhook is set."""
    if settings.monthly_budget_usd is None:
        amount = html.Span(_("Sin presupuesto mensual"), className="budget-none")
    else:
        amount = html.Span(
            _("Presupuesto mensual: {amount}").format(amount=fmt.usd(float(settings.monthly_budget_usd), money=money)),
            className="budget-amount",
        )
    parts = [
        amount,
        html.Span(_("Umbrales de alerta: {list}").format(list=pct_list(settings.thresholds))),
        html.Span(_("Webhook configurado") if settings.webhook_url else _("Sin webhook")),
    ]
    if not can_write:
        parts.append(html.Span(_("Solo lectura: tu acceso no permite cambiar el presupuesto."), className="muted"))
    return [html.Div(p, className="budget-line") for p in parts]


def _percent_text(t: float) -> str:
    return fmt.number(Decimal(str(t)) * 100, 0 if float(t * 100).is_integer() else 1)


def editor_values(settings) -> tuple[str, str, str]:
    """The form's values for a writer: amount (US$, as the page writes numbers), thresholds in %, URL."""
    amount = "" if settings.monthly_budget_usd is None else fmt.number(settings.monthly_budget_usd, 2)
    return amount, " ".join(_percent_text(t) for t in settings.thresholds), settings.webhook_url or ""


def form() -> list:
    """The form: in the page for everyone, hidden and empty until callbacks/budget.py finds a
    writer's token (a reader's page never receives the settings' values, the webhook least of all)."""
    return [
        html.Div(
            className="budget-form",
            children=[
                html.Label(
                    [
                        _("Presupuesto mensual (US$)"),
                        dcc.Input(
                            id=ids.BUDGET_AMOUNT,
                            type="text",
                            value="",
                            inputMode="decimal",
                            debounce=False,
                            className="form-control",
                        ),
                    ],
                    className="budget-field",
                ),
                html.Label(
                    [
                        _("Umbrales de alerta (porcentajes del presupuesto)"),
                        dcc.Input(
                            id=ids.BUDGET_THRESHOLDS,
                            type="text",
                            value="",
                            className="form-control",
                        ),
                    ],
                    className="budget-field",
                ),
                html.Label(
                    [
                        _("URL del webhook (opcional)"),
                        dcc.Input(
                            id=ids.BUDGET_WEBHOOK,
                            type="url",
                            value="",
                            className="form-control",
                        ),
                    ],
                    className="budget-field budget-field-wide",
                ),
                html.Button(_("Guardar presupuesto"), id=ids.BUDGET_SAVE, n_clicks=0, className="btn btn-primary"),
            ],
        )
    ]


def saved() -> html.Span:
    return html.Span(_("Presupuesto guardado."), className="budget-ok")


def refused(field: str) -> html.Span:
    return html.Span(
        _(FIELD_MESSAGES.get(field, N_("Los datos del presupuesto no son válidos."))),
        className="budget-error",
        role="alert",
    )


def refused_access() -> html.Span:
    return html.Span(
        _("Tu acceso no permite cambiar el presupuesto; no se ha guardado nada."),
        className="budget-error",
        role="alert",
    )


def _settings_text(s, money: fmt.Money) -> str:
    if s is None:
        return _("nada")
    amount = _("sin presupuesto") if s.monthly_budget_usd is None else fmt.usd(float(s.monthly_budget_usd), money=money)
    return _("{amount} (umbrales {list})").format(amount=amount, list=pct_list(s.thresholds))


def moment(at: datetime, tz) -> str:
    local = at.astimezone(tz)
    return f"{fmt.weekday_day(local)}, {local.hour:02d}:{local.minute:02d}"


def history(changes, tz, money: fmt.Money = fmt.USD) -> html.Ul | html.P:
    """Who changed what when: «lun 3 nov 2026, 14:05 · ana: US$ 500,00 → US$ 800,00»."""
    if not changes:
        return html.P(_("Sin cambios registrados."), className="muted")
    return html.Ul(
        className="budget-changes",
        children=[
            html.Li(
                _("{when} · {who}: {before} → {after}").format(
                    when=moment(c.changed_at, tz),
                    who=c.changed_by or _("(sin identificar)"),
                    before=_settings_text(c.old, money),
                    after=_settings_text(c.new, money),
                )
            )
            for c in changes
        ],
    )


def kpi_line(
    budget: float | None,
    projected: float | None,
    probability: float | None,
    status: str | None,
    money: fmt.Money = fmt.USD,
) -> list:
    """The projection card's budget lines: the budget, the projection against it, the probability."""
    if budget is None:
        return [html.Div(_("Sin presupuesto mensual"), className="kpi-foot")]
    lines = [
        html.Div(
            _("Presupuesto {amount}").format(amount=fmt.usd(budget, money=money))
            + (
                " · " + _("proyectado: {share} del presupuesto").format(share=fmt.percent(projected / budget, 0))
                if projected is not None
                else ""
            ),
            className="kpi-sub",
        )
    ]
    if probability is not None:
        text = _("Probabilidad de superar el presupuesto: {p}").format(p=fmt.percent(probability, 0))
        tone = " over" if probability >= 0.5 else ""
        lines.append(html.Div(text, className=f"kpi-foot budget-probability{tone}"))
    elif status == "insufficient_data":
        lines.append(html.Div(_("Probabilidad de superar el presupuesto: sin datos suficientes"), className="kpi-foot"))
    return lines
