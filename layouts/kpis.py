"""KPI cards: total cost, tokens, cache hit rate with savings, month-end projection."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from . import fmt, ids, theme
from .common import skeleton

CARDS = [
    (ids.KPI_COST, "Costo total"),
    (ids.KPI_TOKENS, "Tokens totales"),
    (ids.KPI_CACHE, "Tasa de aciertos de caché"),
    (ids.KPI_PROJECTION, "Proyección a fin de mes"),
]
NO_DATA = "Sin datos en este periodo"


def card(label: str, value, sub=None, foot=None, badge=None, tone: str = "") -> list:
    """The inside of one KPI card (the callback fills the slot with this)."""
    return [
        html.Div(html.Span(label, className="kpi-label"), className="kpi-head"),
        html.Div(value, className=f"kpi-value {tone}".strip()),
        html.Div(sub, className="kpi-sub") if sub else None,
        html.Div(badge) if badge is not None else None,
        html.Div(foot, className="kpi-foot") if foot else None,
    ]


def placeholder(label: str) -> list:
    return [html.Div(html.Span(label, className="kpi-label"), className="kpi-head"), skeleton(2)]


def section() -> html.Section:
    slots = [
        dbc.Col(html.Div(placeholder(label), id=slot, className="kpi-card"), xs=12, md=6, xl=3) for slot, label in CARDS
    ]
    return html.Section(
        id=ids.SEC_KPIS,
        className="kpis",
        children=dbc.Row(slots, className="g-3"),
        **{"data-stamp": "", "aria-label": "Indicadores"},
    )


def cost_card(s: dict, money: fmt.Money = fmt.USD) -> list:
    if not s["executions"]:
        return card("Costo total", "—", NO_DATA, tone="muted")
    return card(
        "Costo total",
        fmt.usd(s["total_cost_usd"], money=money),
        f"{fmt.integer(s['executions'])} ejecuciones",
        f"Las llamadas sin precio informado suman {fmt.usd(0, money=money)} a este total",
    )


def tokens_card(s: dict) -> list:
    if not s["executions"]:
        return card("Tokens totales", "—", NO_DATA, tone="muted")
    # The page's token terms (layouts/theme.py): total_input_tokens is every prompt token
    # (Entrada total); input_tokens alone, without the cache, is «Entrada (sin caché)».
    detail = (
        f"{theme.INPUT} {fmt.compact(s['total_input_tokens'] - s['total_cache_read_tokens'])} · "
        f"{theme.CACHE_READ} {fmt.compact(s['total_cache_read_tokens'])} · "
        f"{theme.OUTPUT} {fmt.compact(s['total_output_tokens'])}"
    )
    return card("Tokens totales", fmt.compact(s["total_tokens"]), f"{fmt.integer(s['total_tokens'])} tokens", detail)


def cache_card(c: dict, source_label: str, money: fmt.Money = fmt.USD) -> list:
    if c["hit_rate"] is None:
        return card(
            "Tasa de aciertos de caché",
            fmt.NOT_APPLICABLE,
            f"{theme.PROMPT_TOTAL}: 0 tokens en este periodo",
            tone="muted",
        )
    badge = None
    if int(c["skipped_models_count"]):
        n = int(c["skipped_models_count"])
        badge = html.Span(
            f"parcial: {n} modelo{'s' if n != 1 else ''} sin precio",
            className="badge-partial",
            title="El ahorro no incluye los modelos sin precio conocido",
        )
    return card(
        "Tasa de aciertos de caché",
        fmt.percent(c["hit_rate"]),
        f"Ahorro estimado {fmt.usd(c['estimated_savings_usd'], money=money)}",
        f"{theme.CACHE_READ}: {fmt.compact(c['total_cache_read_tokens'])} tokens · origen: {source_label}",
        badge,
    )


def projection_card(p, money: fmt.Money = fmt.USD) -> list:
    if p.status == "closed":  # a past month: its actual total, no forecast
        return card(
            "Proyección a fin de mes",
            f"{fmt.month(p.month_start).capitalize()} (cerrado): {fmt.usd(p.projected_total_usd, money=money)}",
            "Costo real del mes completo: el periodo termina en un mes pasado.",
            tone="small",
        )
    if p.status != "ok":
        return card(
            "Proyección a fin de mes",
            "Datos insuficientes",
            f"Se necesitan al menos 7 días con uso, sin contar hoy; hay {p.daily_points}.",
            tone="muted small",
        )
    return card(
        "Proyección a fin de mes",
        fmt.usd(p.projected_total_usd, money=money),
        f"Intervalo del 80 %: {fmt.usd(p.lower80, money=money)} – {fmt.usd(p.upper80, money=money).removeprefix('US$ ')}",
        f"{fmt.month(p.month_start).capitalize()} · llevas {fmt.usd(p.month_to_date_usd, money=money)}",
    )


def unavailable(label: str, message: str) -> list:
    return card(label, "—", message, tone="muted")
