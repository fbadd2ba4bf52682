"""Agentes: a grid ranked by cost with avatars and a cost sparkline, search and CSV export.

AG Grid's own sparklines are an Enterprise feature; the sparkline here is a small inline
SVG drawn by the `Sparkline` cell renderer in assets/dashAgGridComponentFunctions.js.

Over 300 lines: the grid is one component whose column definitions, AG Grid words, light and
dark theme parameters and row shaping (display currency, p95) must agree with each other;
split, each half would only make sense beside the other.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Patch, html

from . import fmt, ids, theme
from .common import loading, section
from .i18n import N_, _, ngettext

NO_AGENT = N_("Sin agente")  # the row of usage not tied to an agent (the API's name null); in the CSV too
CSV_COLUMNS = ["name", "agent_id", "cost_usd", "tokens", "executions"]
CSV_PREFIX = N_("consumo-por-agente")  # the exported file's name: consumo-por-agente_<from>_<to>_<source>.csv
PAGE_SIZES = [10, 25, 50, 100]
# Agent names and ids are data from the platform, hostile until proven otherwise: a cell starting
# with = + - @ tab or CR is a formula to a spreadsheet; csvSafeCell (dashAgGridFunctions.js)
# prefixes it with ' (OWASP's CSV injection rule). processCellCallback also exports raw values.
CSV_PARAMS = {"columnKeys": CSV_COLUMNS, "processCellCallback": {"function": "csvSafeCell(params)"}}
# The CSV carries plain numbers (dot decimal, full precision), not the screen's "US$ 1.234,56".
NUMERIC = {"type": "rightAligned", "cellClass": "ag-right-aligned-cell num", "useValueFormatterForExport": False}

# minWidths: at 768 px every header reads whole, the sort arrow included ("↓ Costo (USD)").
COLUMN_DEFS: list[dict[str, Any]] = [
    {
        "headerName": N_("Agente"),
        "field": "name",
        "cellRenderer": "AgentCell",
        "flex": 2,
        "minWidth": 110,
        "comparator": {"function": "compareNames"},
        "sortingOrder": ["asc", "desc", None],
    },  # names: A→Z on the first click (numbers start high)
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
    {
        "headerName": "p95",
        "field": "p95_latency_ms",
        "minWidth": 84,
        "flex": 1,
        "valueFormatter": {"function": "params.value == null ? '—' : formatInt(params.value) + ' ms'"},
        "headerTooltip": N_("Latencia p95: el 5 % más lento de las llamadas de este agente tarda más que esto (±1 %)"),
        **NUMERIC,
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

LOCALE_TEXT = {
    "page": N_("Página"),
    "of": N_("de"),
    "to": N_("a"),
    "more": N_("más"),
    "next": N_("Siguiente"),
    "last": N_("Última"),
    "first": N_("Primera"),
    "previous": N_("Anterior"),
    "firstPage": N_("Primera página"),
    "lastPage": N_("Última página"),
    "nextPage": N_("Página siguiente"),
    "previousPage": N_("Página anterior"),
    "loadingOoo": N_("Cargando…"),
    "noRowsToShow": N_("Sin datos en este periodo"),
    "noMatchingRows": N_("Ningún agente coincide con la búsqueda"),
    "pageSizeSelectorLabel": N_("Filas por página:"),
    "ariaPageSizeSelectorLabel": N_("Filas por página"),
    "ariaRowSelect": N_("Seleccionar fila"),
}

# AG Grid's theme modes (v33+ Theming API): the light colours are the default, the dark ones
# apply under data-ag-theme-mode="dark", which assets/dashboard.js sets on <html> with the
# page's theme: the grid follows ?theme= (and a live `auto`) with no redraw.
_SHAPE = (
    f"fontFamily: {theme.FONT!r}, fontSize: 13, headerFontSize: 12, headerFontWeight: 600, "
    "wrapperBorderRadius: 10, borderRadius: 6, spacing: 7, rowBorder: true, columnBorder: false, wrapperBorder: true"
)


def _colours(mode: str) -> str:
    c = {
        "light": (theme.BRAND, theme.INK, theme.BORDER, theme.MUTED, "#f8f9fc", "#f5f6fe", theme.SURFACE),
        "dark": (
            theme.DARK_PALETTE["cost"],
            theme.DARK_INK,
            theme.DARK_BORDER,
            theme.DARK_MUTED,
            "#1d2434",
            "#1f2740",
            theme.DARK_SURFACE,
        ),
    }[mode]
    return (
        f"{{accentColor: '{c[0]}', foregroundColor: '{c[1]}', borderColor: '{c[2]}', headerTextColor: '{c[3]}', "
        f"headerBackgroundColor: '{c[4]}', rowHoverColor: '{c[5]}', backgroundColor: '{c[6]}'}}"
    )


THEME = f"themeQuartz.withParams({{{_SHAPE}}}).withParams({_colours('light')}).withParams({_colours('dark')}, 'dark')"


def locale_text() -> dict:
    """AG Grid's own words (pagination, overlays, aria labels) in the page's language."""
    return {k: _(v) for k, v in LOCALE_TEXT.items()}


def grid() -> dag.AgGrid:
    return dag.AgGrid(
        id=ids.AGENTS_GRID,
        rowData=[],
        columnDefs=column_defs(),
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
            "localeText": locale_text(),
            "tooltipShowDelay": 300,
            "enableCellTextSelection": True,
            "noRowsOverlayComponent": "NoRowsOverlay",
            "noRowsOverlayComponentParams": {"message": _(LOCALE_TEXT["noRowsToShow"])},
            # Search ignores accents and case: «deteccion» finds «Detección».
            "quickFilterParser": {"function": "quickFilterParts(params)"},
            "quickFilterMatcher": {"function": "quickFilterMatches"},
        },
        getRowId="params.data.row_key",
        csvExportParams={**CSV_PARAMS, "fileName": f"{_(CSV_PREFIX)}.csv"},
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


def csv_params(start, end, source: str, money: fmt.Money = fmt.USD) -> dict:
    """Export options naming the file after the period and the source,
    e.g. consumo-por-agente_2026-11-02_2026-12-01_todos.csv (en: usage-by-agent_…_all.csv). In
    another display currency the CSV carries both costs: USD (as stored) and the display
    currency's, next to each other."""
    label = theme.source_label(source).lower() if source in theme.SOURCE_LABELS else str(source)
    params = {**CSV_PARAMS, "fileName": f"{_(CSV_PREFIX)}_{start.isoformat()}_{end.isoformat()}_{label}.csv"}
    if not money.is_usd:
        keys = list(CSV_COLUMNS)
        keys.insert(keys.index("cost_usd") + 1, DISPLAY_COST)
        params["columnKeys"] = keys
    return params


def row_count(n: int) -> str:
    """Under the grid: '26 filas' ('' for none: the grid says why it is empty)."""
    return ngettext("{n} fila", "{n} filas", n).format(n=fmt.integer(n)) if n else ""


DISPLAY_COST = "cost_display"  # the grid's cost in the display currency (?currency=), beside cost_usd


def column_defs(money: fmt.Money = fmt.USD) -> list[dict]:
    """The grid's columns, header names and tooltips in the page's language: in USD as
    COLUMN_DEFS; in another currency the cost column shows the converted cost (sorted by it)
    and the USD one stays hidden, for the CSV."""
    cols = [{**c, **{k: _(c[k]) for k in ("headerName", "headerTooltip") if k in c}} for c in COLUMN_DEFS]
    if money.is_usd:
        return cols
    out = []
    for col in cols:
        if col.get("field") == "cost_usd":
            symbol = money.symbol.replace("\\", "").replace("'", "")
            out.append({**col, "hide": True, "sort": None})
            out.append(
                {
                    **col,
                    "headerName": _("Costo ({code})").format(code=money.code),
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


def _p95(v) -> float | None:
    """Whole milliseconds (the sketch is within 1 %: decimals would be noise); None without latencies."""
    return None if v is None or pd.isna(v) else float(round(float(v)))


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
        if not money.is_usd:
            out[-1][DISPLAY_COST] = float(round(money.convert(r.cost_usd), 8))
            out[-1]["money_symbol"] = money.symbol
    return out
