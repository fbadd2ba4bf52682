"""Agentes: a grid ranked by cost with avatars and a cost sparkline, search and CSV export.

AG Grid's own sparklines are an Enterprise feature; the sparkline here is a small inline
SVG drawn by the `Sparkline` cell renderer in assets/dashAgGridComponentFunctions.js.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Patch, html

from . import ids, theme
from .common import loading, section

NO_AGENT = "Sin agente"  # the row of usage not tied to an agent (the API's name null); in the CSV too
CSV_COLUMNS = ["name", "agent_id", "cost_usd", "tokens", "executions"]
CSV_PREFIX = "consumo-por-agente"
PAGE_SIZES = [10, 25, 50, 100]
# Agent names and ids are data from the platform, hostile until proven otherwise: a cell starting
# with = + - @ tab or CR is a formula to a spreadsheet; csvSafeCell (dashAgGridFunctions.js)
# prefixes it with ' (OWASP's CSV injection rule). processCellCallback also exports raw values.
CSV_PARAMS = {"columnKeys": CSV_COLUMNS, "processCellCallback": {"function": "csvSafeCell(params)"}}
# The CSV carries plain numbers (dot decimal, full precision), not the screen's "US$ 1.234,56".
NUMERIC = {"type": "rightAligned", "cellClass": "ag-right-aligned-cell num", "useValueFormatterForExport": False}

# minWidths: at 768 px every header reads whole, the sort arrow included ("↓ Costo (USD)").
COLUMN_DEFS = [
    {
        "headerName": "Agente",
        "field": "name",
        "cellRenderer": "AgentCell",
        "flex": 2,
        "minWidth": 180,
        "comparator": {"function": "compareNames"},
        "sortingOrder": ["asc", "desc", None],
    },  # names: A→Z on the first click (numbers start high)
    {"headerName": "ID del agente", "field": "agent_id", "hide": True},
    {
        "headerName": "Costo (USD)",
        "field": "cost_usd",
        "sort": "desc",
        "minWidth": 134,
        "flex": 1,
        "valueFormatter": {"function": "formatUsd(params.value)"},
        **NUMERIC,
    },
    {
        "headerName": "Tokens",
        "field": "tokens",
        "minWidth": 100,
        "flex": 1,
        "valueFormatter": {"function": "formatCompact(params.value)"},
        "tooltipValueGetter": {"function": "formatInt(params.value) + ' tokens'"},
        **NUMERIC,
    },
    {
        "headerName": "Ejecuciones",
        "field": "executions",
        "minWidth": 130,
        "flex": 1,
        "valueFormatter": {"function": "formatInt(params.value)"},
        **NUMERIC,
    },
    {
        "headerName": "Latencia p95",
        "field": "p95_latency_ms",
        "minWidth": 126,
        "flex": 1,
        "valueFormatter": {"function": "params.value == null ? '—' : formatInt(params.value) + ' ms'"},
        "headerTooltip": "El 5 % más lento de las llamadas de este agente tarda más que esto (±1 %)",
        **NUMERIC,
    },
    {
        "headerName": "Costo por periodo",
        "field": "sparkline",
        "cellRenderer": "Sparkline",
        "minWidth": 150,
        "cellDataType": False,
        "flex": 1.2,
        "comparator": {"function": "compareTrend"},
        "headerTooltip": "Costo en cada periodo de la resolución activa; ordena por la variación "
        "entre la segunda y la primera mitad del periodo",
    },
]

LOCALE_TEXT = {
    "page": "Página",
    "of": "de",
    "to": "a",
    "more": "más",
    "next": "Siguiente",
    "last": "Última",
    "first": "Primera",
    "previous": "Anterior",
    "firstPage": "Primera página",
    "lastPage": "Última página",
    "nextPage": "Página siguiente",
    "previousPage": "Página anterior",
    "loadingOoo": "Cargando…",
    "noRowsToShow": "Sin datos en este periodo",
    "noMatchingRows": "Ningún agente coincide con la búsqueda",
    "pageSizeSelectorLabel": "Filas por página:",
    "ariaPageSizeSelectorLabel": "Filas por página",
    "ariaRowSelect": "Seleccionar fila",
}

THEME = (
    "themeQuartz.withParams({"
    f"fontFamily: {theme.FONT!r}, fontSize: 13, headerFontSize: 12, headerFontWeight: 600, "
    f"accentColor: '{theme.BRAND}', foregroundColor: '{theme.INK}', borderColor: '{theme.BORDER}', "
    f"headerTextColor: '{theme.MUTED}', headerBackgroundColor: '#f8f9fc', rowHoverColor: '#f5f6fe', "
    "wrapperBorderRadius: 10, borderRadius: 6, spacing: 7, rowBorder: true, columnBorder: false, "
    "wrapperBorder: true})"
)


def grid() -> dag.AgGrid:
    return dag.AgGrid(
        id=ids.AGENTS_GRID,
        rowData=[],
        columnDefs=COLUMN_DEFS,
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "suppressHeaderMenuButton": True,
            "sortingOrder": ["desc", "asc", None],
        },
        dashGridOptions={
            "theme": {"function": THEME},
            "domLayout": "autoHeight",
            "pagination": True,
            "paginationPageSize": PAGE_SIZES[0],
            "paginationPageSizeSelector": PAGE_SIZES,
            "rowHeight": 48,
            "headerHeight": 40,
            "animateRows": False,
            "suppressCellFocus": True,
            "localeText": LOCALE_TEXT,
            "tooltipShowDelay": 300,
            "enableCellTextSelection": True,
            "noRowsOverlayComponent": "NoRowsOverlay",
            "noRowsOverlayComponentParams": {"message": LOCALE_TEXT["noRowsToShow"]},
            # Search ignores accents and case: «deteccion» finds «Detección».
            "quickFilterParser": {"function": "quickFilterParts(params)"},
            "quickFilterMatcher": {"function": "quickFilterMatches"},
        },
        getRowId="params.data.row_key",
        csvExportParams={**CSV_PARAMS, "fileName": f"{CSV_PREFIX}.csv"},
        style={"width": "100%"},
        className="agents-grid",
    )


def layout() -> html.Section:
    tools = html.Div(
        className="grid-tools",
        children=[
            dbc.Input(
                id=ids.AGENTS_SEARCH,
                type="search",
                placeholder="Buscar agente…",
                size="sm",
                className="grid-search",
                debounce=False,
                name="buscar-agente",
            ),
            dbc.Button(
                "Exportar CSV",
                id=ids.AGENTS_EXPORT,
                size="sm",
                color="primary",
                outline=True,
                className="btn-export",
                title="Descarga la vista actual (orden y búsqueda incluidos)",
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
    return section(ids.SEC_AGENTS, "Agentes", "Ranking por costo; ordena por cualquier columna.", body, tools)


def csv_params(start, end, source: str) -> dict:
    """Export options naming the file after the period and the source,
    e.g. consumo-por-agente_2026-11-02_2026-12-01_todos.csv."""
    label = theme.SOURCE_LABELS.get(source, source).lower()
    return {**CSV_PARAMS, "fileName": f"{CSV_PREFIX}_{start.isoformat()}_{end.isoformat()}_{label}.csv"}


def empty_message(message: str) -> Patch:
    """What the empty grid says ('Sin datos en este periodo', 'Datos no disponibles', ...):
    a partial update of dashGridOptions, the rest of the options untouched."""
    patch = Patch()
    patch["noRowsOverlayComponentParams"] = {"message": message}
    return patch


def _p95(v) -> float | None:
    """Whole milliseconds (the sketch is within 1 %: decimals would be noise); None without latencies."""
    return None if v is None or pd.isna(v) else float(round(float(v)))


def rows(df) -> list[dict]:
    """Grid rows from the by_agent frame; the row without an agent (name None) reads NO_AGENT."""
    out = []
    for r in df.itertuples(index=False):
        agent_id = None if pd.isna(r.agent_id) else r.agent_id
        out.append(
            {
                "row_key": agent_id if agent_id is not None else "__sin_agente__",
                "agent_id": agent_id,
                "name": r.name if agent_id is not None else NO_AGENT,
                "avatar_url": None if pd.isna(r.avatar_url) else r.avatar_url,
                "no_agent": agent_id is None,
                "cost_usd": round(float(r.cost_usd), 8),
                "tokens": int(r.tokens),
                "executions": int(r.executions),
                "p95_latency_ms": _p95(getattr(r, "p95_latency_ms", None)),
                "sparkline": [round(float(v), 6) for v in r.sparkline],
                # The last bucket is partial (in progress or cut): the sparkline ends in a hollow dot.
                "spark_partial": bool(getattr(r, "sparkline_partial_last", False)),
            }
        )
    return out
