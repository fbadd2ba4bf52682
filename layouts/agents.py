"""Agentes: a grid ranked by cost with avatars and a cost sparkline, search and CSV export.

AG Grid's own sparklines are an Enterprise feature; the sparkline here is a small inline
SVG drawn by the `Sparkline` cell renderer in assets/dashAgGridComponentFunctions.js.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Patch, html

from . import fmt, ids, theme
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


def csv_params(start, end, source: str, money: fmt.Money = fmt.USD) -> dict:
    """Export options naming the file after the period and the source,
    e.g. consumo-por-agente_2026-11-02_2026-12-01_todos.csv. In another display currency the
    CSV carries both costs: USD (as stored) and the display currency's, next to each other."""
    label = theme.SOURCE_LABELS.get(source, source).lower()
    params = {**CSV_PARAMS, "fileName": f"{CSV_PREFIX}_{start.isoformat()}_{end.isoformat()}_{label}.csv"}
    if not money.is_usd:
        keys = list(CSV_COLUMNS)
        keys.insert(keys.index("cost_usd") + 1, DISPLAY_COST)
        params["columnKeys"] = keys
    return params


DISPLAY_COST = "cost_display"  # the grid's cost in the display currency (?currency=), beside cost_usd


def column_defs(money: fmt.Money = fmt.USD) -> list[dict]:
    """The grid's columns: in USD as COLUMN_DEFS; in another currency the cost column shows the
    converted cost (sorted by it) and the USD one stays hidden, for the CSV."""
    if money.is_usd:
        return COLUMN_DEFS
    out = []
    for col in COLUMN_DEFS:
        if col.get("field") == "cost_usd":
            symbol = money.symbol.replace("\\", "").replace("'", "")
            out.append({**col, "hide": True, "sort": None})
            out.append(
                {
                    **col,
                    "headerName": f"Costo ({money.code})",
                    "field": DISPLAY_COST,
                    "valueFormatter": {"function": f"formatMoney(params.value, '{symbol}')"},
                }
            )
        else:
            out.append(col)
    return out


def empty_message(message: str) -> Patch:
    """What the empty grid says ('Sin datos en este periodo', 'Datos no disponibles', ...):
    a partial update of dashGridOptions, the rest of the options untouched."""
    patch = Patch()
    patch["noRowsOverlayComponentParams"] = {"message": message}
    return patch


def rows(df, money: fmt.Money = fmt.USD) -> list[dict]:
    """Grid rows from the by_agent frame; the row without an agent (name None) reads NO_AGENT.
    In another display currency each row also has its cost converted (cost_display, exact to the
    cent as fmt formats it) and its sparkline in that currency (money_symbol names it)."""
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
                "sparkline": [round(v, 6) for v in money.values(r.sparkline)],
                # The last bucket is partial (in progress or cut): the sparkline ends in a hollow dot.
                "spark_partial": bool(getattr(r, "sparkline_partial_last", False)),
            }
        )
        if not money.is_usd:
            out[-1][DISPLAY_COST] = float(round(money.convert(r.cost_usd), 8))
            out[-1]["money_symbol"] = money.symbol
    return out
