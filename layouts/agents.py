"""Agentes: a grid ranked by cost with avatars, unit costs and a cost sparkline, search and CSV export.

The grid's shared parts (theme, AG Grid's words, the display currency, the unit economics,
the CSV options) are layouts/grids.py's, with the Usuarios grid.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from queries import Filters

from . import fmt, grids, ids
from .common import loading, section
from .grids import NUMERIC, empty_message, row_count
from .i18n import N_, _

__all__ = ["empty_message", "row_count"]  # the callback's helpers, shared with Usuarios

NO_AGENT = N_("Sin agente")  # the row of usage not tied to an agent (the API's name null); in the CSV too
NO_MATCH = N_("Ningún agente coincide con la búsqueda")
CSV_COLUMNS = [
    "name",
    "agent_id",
    "cost_usd",
    "tokens",
    "executions",
    "cost_per_execution_usd",
    "cost_per_1k_tokens_usd",
]
MONEY = ("cost_usd", "cost_per_execution_usd", "cost_per_1k_tokens_usd")
CSV_PREFIX = N_("consumo-por-agente")  # the exported file's name: consumo-por-agente_<from>_<to>_<source>.csv
# Agent names and ids are data from the platform, hostile until proven otherwise: a cell starting
# with = + - @ tab or CR is a formula to a spreadsheet; csvSafeCell (dashAgGridFunctions.js)
# prefixes it with ' (OWASP's CSV injection rule). processCellCallback also exports raw values.
CSV_PARAMS = {"columnKeys": CSV_COLUMNS, **grids.exports.GRID_CSV}

# minWidths: at 768 px every header reads whole, the sort arrow included ("↓ Costo (USD)"), and
# a name shows ~20 characters beside its avatar (at 110 px it showed 6: «Velet…»); p95 steps
# aside there (grids.NARROW_LATER), and below ~650 px the names stay pinned (grids.PIN_NARROW).
COLUMN_DEFS: list[dict[str, Any]] = [
    {
        "headerName": N_("Agente"),
        "field": "name",
        "cellRenderer": "AgentCell",
        "flex": 2,
        "minWidth": 170,
        **grids.NAME_COLUMN,
    },
    {"headerName": N_("ID del agente"), "field": "agent_id", "hide": True},
    {
        "headerName": N_("Costo (USD)"),
        "field": "cost_usd",
        "sort": "desc",
        "minWidth": 134,
        "flex": 1,
        "valueFormatter": {"function": "formatUsd(params.value)"},
        **NUMERIC,
    },
    {
        "headerName": N_("Tokens"),
        "field": "tokens",
        "minWidth": 84,
        "flex": 1,
        "valueFormatter": {"function": "formatCompact(params.value)"},
        "tooltipValueGetter": {"function": "formatInt(params.value) + ' tokens'"},  # the same word in English
        **NUMERIC,
    },
    {
        "headerName": N_("Ejecuciones"),
        "field": "executions",
        "minWidth": 130,
        "flex": 1,
        "valueFormatter": {"function": "formatInt(params.value)"},
        **NUMERIC,
    },
    *grids.UNIT_COLUMNS,
    {
        "headerName": "p95",
        "field": "p95_latency_ms",
        "minWidth": 84,
        "flex": 1,
        "valueFormatter": {"function": "params.value == null ? '—' : formatInt(params.value) + ' ms'"},
        "headerTooltip": N_("Latencia p95: el 5 % más lento de las llamadas de este agente tarda más que esto (±1 %)"),
        **NUMERIC,
        **grids.NARROW_LATER,
    },
    {
        "headerName": N_("Costo por periodo"),
        "field": "sparkline",
        "cellRenderer": "Sparkline",
        "minWidth": 150,
        "cellDataType": False,
        "flex": 1.2,
        "comparator": {"function": "compareTrend"},
        "headerTooltip": N_(
            "Costo en cada periodo de la resolución activa; ordena por la variación "
            "entre la segunda y la primera mitad del periodo"
        ),
    },
]


def grid() -> dag.AgGrid:
    g = grids.grid(ids.AGENTS_GRID, column_defs(), "agents-grid", NO_MATCH)
    g.csvExportParams = {**CSV_PARAMS, "fileName": f"{_(CSV_PREFIX)}.csv"}
    return g


def layout() -> html.Section:
    tools = html.Div(
        className="grid-tools",
        children=[
            dbc.Input(
                id=ids.AGENTS_SEARCH,
                type="search",
                placeholder=_("Buscar agente…"),
                size="sm",
                className="grid-search",
                debounce=False,
                name="buscar-agente",
            ),
            dbc.Button(
                _("Exportar CSV"),
                id=ids.AGENTS_EXPORT,
                size="sm",
                color="primary",
                outline=True,
                className="btn-export",
                title=_("Descarga la vista actual (orden y búsqueda incluidos)"),
            ),
        ],
    )
    body = html.Div(
        [
            loading(grid()),
            html.Div(
                className="chart-note",
                children=[html.Span(id=ids.AGENTS_COUNT), html.Span(id=ids.AGENTS_MATCHES, **{"aria-live": "polite"})],
            ),
        ]
    )
    return section(ids.SEC_AGENTS, _("Agentes"), _("Ranking por costo; ordena por cualquier columna."), body, tools)


def csv_params(f: Filters, money: fmt.Money = fmt.USD) -> dict:
    """Export options naming the file after the period, the source and the slice, e.g.
    consumo-por-agente_2026-11-02_2026-12-01_todos.csv (en: usage-by-agent_…_all.csv). In
    another display currency the CSV carries both costs: USD (as stored) and the display
    currency's, next to each other (so do the unit costs)."""
    return grids.csv_params(CSV_PREFIX, f, CSV_COLUMNS, money, MONEY)


def column_defs(money: fmt.Money = fmt.USD) -> list[dict]:
    """The grid's columns, header names and tooltips in the page's language: in USD as
    COLUMN_DEFS; in another currency the money columns show the converted amounts (sorted by
    them) and the USD ones stay hidden, for the CSV."""
    return grids.in_currency(grids.translated(COLUMN_DEFS), money, MONEY)


def _p95(v) -> float | None:
    """Whole milliseconds (the sketch is within 1 %: decimals would be noise); None without latencies."""
    return None if v is None or pd.isna(v) else float(round(float(v)))


def rows(df, money: fmt.Money = fmt.USD) -> list[dict]:
    """Grid rows from the by_agent frame; the row without an agent (name None) reads NO_AGENT.
    Each row has its unit costs (grids.unit_fields); in another display currency also its money
    converted (cost_display…, exact to the cent as fmt formats it) and its sparkline in that
    currency (money_symbol names it)."""
    out = []
    for r in df.itertuples(index=False):
        agent_id = None if pd.isna(r.agent_id) else r.agent_id
        out.append(
            {
                "row_key": agent_id if agent_id is not None else "__sin_agente__",
                "agent_id": agent_id,
                "name": r.name if agent_id is not None else _(NO_AGENT),
                "avatar_url": None if pd.isna(r.avatar_url) else r.avatar_url,
                "no_agent": agent_id is None,
                "cost_usd": round(float(r.cost_usd), 8),
                "tokens": int(r.tokens),
                "executions": int(r.executions),
                "p95_latency_ms": _p95(getattr(r, "p95_latency_ms", None)),
                "sparkline": [round(v, 6) for v in money.values(r.sparkline)],
                # The last bucket is partial (in progress or cut): the sparkline ends in a hollow dot.
                "spark_partial": bool(getattr(r, "sparkline_partial_last", False)),
            }
        )
        out[-1].update(grids.unit_fields(r.cost_usd, r.executions, r.tokens))
        grids.money_fields(out[-1], money, MONEY)
    return out
