"""Tendencia: cost and tokens over time at the active resolution, with the projection."""
from __future__ import annotations

from dash import html

from . import datatables, fmt, ids
from .common import graph, loading, note, section

HEIGHT = 340


def layout() -> html.Section:
    body = loading(html.Div([
        graph(ids.TREND_GRAPH, HEIGHT, "Costo y tokens en el tiempo"),
        datatables.toggle("trend", "costo y tokens en el tiempo"),
        note("", ids.TREND_NOTE),
    ]))
    return section(ids.SEC_TREND, "Tendencia",
                   "Costo (eje izquierdo, USD) y tokens (área, eje derecho) por periodo.", body)


def projection_note(status: str, granularity: str, month_end=None, daily_points: int = 0) -> str:
    """One sentence under the chart: what the dashed line is, or why there is none."""
    if status != "ok":
        return f"Sin proyección: se necesitan al menos 7 días con uso en el periodo (hay {daily_points})."
    until = f" hasta el {fmt.day(month_end)}" if month_end else ""
    if granularity == "hour":
        return "La proyección a fin de mes se dibuja con resolución Día, Semana o Mes."
    if granularity == "month":
        return ("Punto hueco: total proyectado del mes con su intervalo del 80 % "
                "(regresión lineal sobre el costo diario).")
    if granularity == "week":
        return (f"Línea discontinua: costo semanal proyectado{until} "
                "(regresión lineal sobre el costo diario; semanas completas dentro del mes).")
    return f"Línea discontinua: costo diario proyectado{until} (regresión lineal sobre el costo diario)."
