"""Tendencia: cost and tokens over time at the active resolution, with the projection."""

from __future__ import annotations

from datetime import date

from dash import html

from . import budget, datatables, exports, fmt, ids
from .common import graph, loading, note, section
from .i18n import _, ngettext

HEIGHT = 340


def layout() -> html.Section:
    body = loading(
        html.Div(
            [
                html.Div(
                    [
                        graph(ids.TREND_GRAPH, HEIGHT, _("Costo y tokens en el tiempo")),
                        datatables.toggle("trend", _("costo y tokens en el tiempo")),
                        note("", ids.TREND_NOTE),
                    ],
                    id=ids.TREND_PERIOD_WRAP,
                ),
                budget.cumulative_graph(),  # «Acumulado» (layouts/budget.py)
            ]
        )
    )
    return section(
        ids.SEC_TREND,
        _("Tendencia"),
        _("Costo (eje izquierdo) y tokens (área, eje derecho) por periodo."),
        body,
        html.Div([budget.trend_view_control(), exports.button(ids.CSV_TREND, _("tendencia"))], className="tools-row"),
    )


def projection_note(p, granularity: str, drawn: dict | None, money: fmt.Money = fmt.USD) -> str:
    """One sentence under the chart: exactly what the projection draws, or why nothing.

    p: the Projection; drawn: the figure's `meta["projection"]` (timeline.Overlay.describe)."""
    drawn = drawn or {"mode": "none", "reason": "status", "shown": 0, "hidden": 0, "until": None, "current": False}
    if p.status == "closed":
        return _(
            "{month} está cerrado: costó {amount} en total (costo real del mes completo); no hay nada que proyectar."
        ).format(month=fmt.month(p.month_start).capitalize(), amount=fmt.usd(p.projected_total_usd, money=money))
    if p.status != "ok":
        return _(
            "Sin proyección: se necesitan al menos 7 días con uso en el periodo, sin contar hoy (hay {n})."
        ).format(n=p.daily_points)
    month_end = fmt.day(p.month_end)
    card = _("el total del mes ({amount}) está en la tarjeta").format(
        amount=fmt.usd(p.projected_total_usd, money=money)
    )
    if drawn["mode"] == "month":
        return _(
            "Rombo hueco: total proyectado de {month} con su intervalo del 80 % (regresión lineal sobre el costo diario)."
        ).format(month=fmt.month(p.month_start))
    if drawn["mode"] == "none":
        if drawn["reason"] == "hour":
            return _("La proyección se dibuja con resolución Día, Semana o Mes; {card}.").format(card=card)
        return _("La proyección no se dibuja: no cabe en este eje sin ocupar buena parte del gráfico; {card}.").format(
            card=card
        )
    current = _("Rombo hueco: el periodo en curso completado con la proyección") if drawn["current"] else ""
    if not drawn["shown"]:
        if drawn["hidden"]:
            rest = _("; lo que queda del mes hasta el {end} no se dibuja: {card}.").format(end=month_end, card=card)
        else:
            rest = "; " + card + "."
        return current + _(" y su intervalo del 80 % (regresión lineal sobre el costo diario)") + rest
    until = fmt.day(date.fromisoformat(drawn["until"]))
    if granularity == "week":
        line = _(
            "línea discontinua y banda: costo semanal proyectado hasta el {until} (semanas completas dentro del "
            "mes), con su intervalo del 80 % (regresión lineal sobre el costo diario)"
        )
    else:
        line = _(
            "línea discontinua y banda: costo diario proyectado hasta el {until}, con su intervalo del 80 % "
            "(regresión lineal sobre el costo diario)"
        )
    line = line.format(until=until)
    text = f"{current}; {line}" if current else line[:1].upper() + line[1:]
    if drawn["hidden"]:
        n = drawn["hidden"]
        if granularity == "day":
            rest = ngettext(
                "El día siguiente, hasta el {end}, no se dibuja",
                "Los {n} días siguientes hasta el {end} no se dibujan",
                n,
            )
        else:
            rest = ngettext(
                "La semana siguiente, hasta el {end}, no se dibuja",
                "Las {n} semanas siguientes hasta el {end} no se dibujan",
                n,
            )
        text += ". " + _("{rest} para no ocupar el gráfico: {card}").format(
            rest=rest.format(n=n, end=month_end), card=card
        )
    return text + "."
