"""KPI cards: total cost, tokens, cache hit rate with savings, month-end projection."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from . import fmt, ids, theme
from .common import skeleton
from .i18n import N_, _, ngettext

CARDS = [
    (ids.KPI_COST, N_("Costo total")),
    (ids.KPI_TOKENS, N_("Tokens totales")),
    (ids.KPI_CACHE, N_("Tasa de aciertos de caché")),
    (ids.KPI_PROJECTION, N_("Proyección a fin de mes")),
]
NO_DATA = N_("Sin datos en este periodo")


def card(label: str, value, sub=None, foot=None, badge=None, tone: str = "") -> list:
    """The inside of one KPI card (the callback fills the slot with this); label: a msgid."""
    return [
        html.Div(html.Span(_(label), className="kpi-label"), className="kpi-head"),
        html.Div(value, className=f"kpi-value {tone}".strip()),
        html.Div(sub, className="kpi-sub") if sub else None,
        html.Div(badge) if badge is not None else None,
        html.Div(foot, className="kpi-foot") if foot else None,
    ]


def placeholder(label: str) -> list:
    return [html.Div(html.Span(_(label), className="kpi-label"), className="kpi-head"), skeleton(2)]


def section() -> html.Section:
    slots = [
        dbc.Col(html.Div(placeholder(label), id=slot, className="kpi-card"), xs=12, md=6, xl=3) for slot, label in CARDS
    ]
    # The projection card also holds the budget's lines (callbacks/budget.py fills ids.KPI_BUDGET).
    slots[3] = dbc.Col(
        html.Div(
            [
                html.Div(placeholder(CARDS[3][1]), id=ids.KPI_PROJECTION, className="kpi-card-body"),
                html.Div(id=ids.KPI_BUDGET),
            ],
            className="kpi-card",
        ),
        xs=12,
        md=6,
        xl=3,
    )
    return html.Section(
        id=ids.SEC_KPIS,
        className="kpis",
        children=dbc.Row(slots, className="g-3"),
        **{"data-stamp": "", "aria-label": _("Indicadores")},
    )


def cost_card(s: dict, money: fmt.Money = fmt.USD) -> list:
    if not s["executions"]:
        return card(CARDS[0][1], "—", _(NO_DATA), tone="muted")
    n = int(s.get("unpriced_executions") or 0)
    foot = None
    if n:
        foot = html.Span(
            ngettext(
                "+ {amount} estimados en {n} llamada sin precio",
                "+ {amount} estimados en {n} llamadas sin precio",
                n,
            ).format(amount=fmt.usd(s["estimated_unpriced_cost_usd"], money=money), n=fmt.integer(n)),
            className="unpriced",
            title=_(
                "Llamadas cuyo proveedor no informó precio (habitual en BYOK), valoradas con el catálogo de "
                "precios y la tabla de precios propia. No se suman al costo total; los modelos sin precio conocido "
                "no suman."
            ),
        )
    return card(
        CARDS[0][1],
        fmt.usd(s["total_cost_usd"], money=money),
        ngettext("{n} ejecución", "{n} ejecuciones", int(s["executions"])).format(n=fmt.integer(s["executions"])),
        foot,
    )


def tokens_card(s: dict) -> list:
    if not s["executions"]:
        return card(CARDS[1][1], "—", _(NO_DATA), tone="muted")
    # The page's token terms (layouts/theme.py): total_input_tokens is every prompt token
    # (Entrada total); input_tokens alone, without the cache, is «Entrada (sin caché)».
    detail = (
        f"{_(theme.INPUT)} {fmt.compact(s['total_input_tokens'] - s['total_cache_read_tokens'])} · "
        f"{_(theme.CACHE_READ)} {fmt.compact(s['total_cache_read_tokens'])} · "
        f"{_(theme.OUTPUT)} {fmt.compact(s['total_output_tokens'])}"
    )
    total = _("{n} tokens").format(n=fmt.integer(s["total_tokens"]))
    return card(CARDS[1][1], fmt.compact(s["total_tokens"]), total, detail)


def cache_card(c: dict, source_label: str, money: fmt.Money = fmt.USD) -> list:
    if c["hit_rate"] is None:
        return card(
            CARDS[2][1],
            fmt.NOT_APPLICABLE,
            _("{prompt}: 0 tokens en este periodo").format(prompt=_(theme.PROMPT_TOTAL)),
            tone="muted",
        )
    badge = None
    if int(c["skipped_models_count"]):
        n = int(c["skipped_models_count"])
        badge = html.Span(
            ngettext("parcial: {n} modelo sin precio", "parcial: {n} modelos sin precio", n).format(n=n),
            className="badge-partial",
            title=_(
                "El ahorro no incluye los modelos sin precio conocido (ni la prima de los que no tienen precio de "
                "escritura)"
            ),
        )
    net = html.Span(
        _("Ahorro neto {amount}").format(amount=fmt.usd(c["net_savings_usd"], money=money)),
        className="has-hover",
        title=_("Ahorro bruto {gross} − prima de escritura en caché {premium} = ahorro neto {net}").format(
            gross=fmt.usd(c["estimated_savings_usd"], money=money),
            premium=fmt.usd(c["write_premium_usd"], money=money),
            net=fmt.usd(c["net_savings_usd"], money=money),
        ),
    )
    return card(
        CARDS[2][1],
        fmt.percent(c["hit_rate"]),
        net,
        _("{cache_read}: {tokens} tokens · origen: {source}").format(
            cache_read=_(theme.CACHE_READ), tokens=fmt.compact(c["total_cache_read_tokens"]), source=source_label
        ),
        badge,
    )


def projection_card(p, money: fmt.Money = fmt.USD) -> list:
    if p.status == "closed":  # a past month: its actual total, no forecast
        return card(
            CARDS[3][1],
            _("{month} (cerrado): {amount}").format(
                month=fmt.month(p.month_start).capitalize(), amount=fmt.usd(p.projected_total_usd, money=money)
            ),
            _("Costo real del mes completo: el periodo termina en un mes pasado."),
            tone="small",
        )
    if p.status != "ok":
        return card(
            CARDS[3][1],
            _("Datos insuficientes"),
            _("Se necesitan al menos 7 días con uso, sin contar hoy; hay {n}.").format(n=p.daily_points),
            tone="muted small",
        )
    return card(
        CARDS[3][1],
        fmt.usd(p.projected_total_usd, money=money),
        _("Intervalo del 80 %: {low} – {high}").format(
            low=fmt.usd(p.lower80, money=money),
            # One symbol for a US$ range, as before; another currency's symbol follows each amount.
            high=fmt.number(p.upper80, 2) if money.is_usd else fmt.usd(p.upper80, money=money),
        ),
        _("{month} · llevas {amount}").format(
            month=fmt.month(p.month_start).capitalize(), amount=fmt.usd(p.month_to_date_usd, money=money)
        ),
    )


def unavailable(label: str, message: str) -> list:
    return card(label, "—", message, tone="muted")
