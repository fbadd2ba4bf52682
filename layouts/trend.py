"""Tendencia: cost and tokens over time at the active resolution, with the projection."""

from __future__ import annotations

from datetime import date

from dash import html

from . import datatables, fmt, ids
from .common import graph, loading, note, section

HEIGHT = 340


def layout() -> html.Section:
    body = loading(
        html.Div(
            [
                graph(ids.TREND_GRAPH, HEIGHT, "Costo y tokens en el tiempo"),
                datatables.toggle("trend", "costo y tokens en el tiempo"),
                note("", ids.TREND_NOTE),
            ]
        )
    )
    return section(ids.SEC_TREND, "Tendencia", "Costo (eje izquierdo) y tokens (área, eje derecho) por periodo.", body)


def projection_note(p, granularity: str, drawn: dict | None, money: fmt.Money = fmt.USD) -> str:
    """One sentence under the chart: exactly what the projection draws, or why nothing.

    p: the Projection; drawn: the figure's `meta["projection"]` (timeline.Overlay.describe)."""
    drawn = drawn or {"mode": "none", "reason": "status", "shown": 0, "hidden": 0, "until": None, "current": False}
    if p.status == "closed":
        return (
            f"{fmt.month(p.month_start).capitalize()} está cerrado: costó {fmt.usd(p.projected_total_usd, money=money)} "
            "en total (costo real del mes completo); no hay nada que proyectar."
        )
    if p.status != "ok":
        return (
            "Sin proyección: se necesitan al menos 7 días con uso en el periodo, sin contar hoy "
            f"(hay {p.daily_points})."
        )
    month_end = fmt.day(p.month_end)
    card = f"el total del mes ({fmt.usd(p.projected_total_usd, money=money)}) está en la tarjeta"
    if drawn["mode"] == "month":
        return (
            f"Rombo hueco: total proyectado de {fmt.month(p.month_start)} con su intervalo del 80 % "
            "(regresión lineal sobre el costo diario)."
        )
    if drawn["mode"] == "none":
        if drawn["reason"] == "hour":
            return f"La proyección se dibuja con resolución Día, Semana o Mes; {card}."
        return f"La proyección no se dibuja: no cabe en este eje sin ocupar buena parte del gráfico; {card}."
    unit = {"day": "diario", "week": "semanal"}[granularity]
    weeks = " (semanas completas dentro del mes)" if granularity == "week" else ""
    current = "Rombo hueco: el periodo en curso completado con la proyección" if drawn["current"] else ""
    if not drawn["shown"]:
        rest = f"; lo que queda del mes hasta el {month_end} no se dibuja: {card}." if drawn["hidden"] else f"; {card}."
        return f"{current} y su intervalo del 80 % (regresión lineal sobre el costo diario){rest}"
    until = fmt.day(date.fromisoformat(drawn["until"]))
    lead = f"{current}; línea" if current else "Línea"
    text = (
        f"{lead} discontinua y banda: costo {unit} proyectado hasta el {until}{weeks}, con su intervalo "
        "del 80 % (regresión lineal sobre el costo diario)"
    )
    if drawn["hidden"]:
        n, day = drawn["hidden"], granularity == "day"
        if n == 1:
            rest = f"{'El día siguiente' if day else 'La semana siguiente'}, hasta el {month_end}, no se dibuja"
        else:
            rest = (
                f"{'Los' if day else 'Las'} {n} {'días' if day else 'semanas'} siguientes hasta el {month_end} "
                "no se dibujan"
            )
        text += f". {rest} para no ocupar el gráfico: {card}"
    return text + "."
