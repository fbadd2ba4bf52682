"""What the ranking grids (Agentes, Usuarios) share: AG Grid's theme and words, the numeric
columns, the unit economics, the display currency, the empty message and the CSV options.

AG Grid's own sparklines are an Enterprise feature; the sparkline column is a small inline
SVG drawn by the `Sparkline` cell renderer in assets/dashAgGridComponentFunctions.js.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import Patch

from queries import Filters

from . import exports, fmt, theme
from .i18n import N_, _, ngettext

PAGE_SIZES = [10, 25, 50, 100]
DISPLAY_COST = "cost_display"  # cost_usd's twin in the display currency (?currency=)


def display_field(field: str) -> str:
    """A money field's twin in the display currency: cost_usd → cost_display, x_usd → x_display."""
    return DISPLAY_COST if field == "cost_usd" else field.removesuffix("_usd") + "_display"


# The CSV carries plain numbers (dot decimal, full precision), not the screen's "US$ 1.234,56".
NUMERIC = {"type": "rightAligned", "cellClass": "ag-right-aligned-cell num", "useValueFormatterForExport": False}
NO_SEARCH = {"getQuickFilterText": {"function": "''"}}  # the search reads names and ids, not numbers
# Columns that step aside when the grid is too narrow for every column's minWidth, lowest rank
# first (768 px: the unit costs; then p95; they stay in the CSV), and the name column that stays
# pinned to the left when even the rest do not fit (a phone, a narrow panel: the numbers scroll
# sideways under the names): narrowColumns in assets/dashAgGridFunctions.js. Each of these sets a
# column's whole `context`: one of them per column (merged, the last would drop the others).
NARROW = {"context": {"narrow": 1}}
NARROW_LATER = {"context": {"narrow": 2}}
PIN_NARROW = {"context": {"pin": True}}
# A name column (Agentes, Usuarios): A→Z on the first click (numbers start high), pinned when narrow.
NAME_COLUMN = {"comparator": {"function": "compareNames"}, "sortingOrder": ["asc", "desc", None], **PIN_NARROW}
LISTENERS = {e: ["narrowColumns(params)"] for e in ("gridSizeChanged", "newColumnsLoaded", "firstDataRendered")}

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

# Unit economics (issue 9 part 5): money per unit, four decimals (a call costs fractions of a cent).
UNIT_COLUMNS: list[dict[str, Any]] = [
    {
        "headerName": N_("Costo/ejec."),
        "field": "cost_per_execution_usd",
        "minWidth": 118,
        "flex": 1,
        "valueFormatter": {"function": "formatUsd(params.value, 4)"},
        "headerTooltip": N_("Costo medio por ejecución (costo ÷ ejecuciones); «—» sin ejecuciones"),
        **NUMERIC,
        **NO_SEARCH,
        **NARROW,
    },
    {
        "headerName": N_("Costo/1K tokens"),
        "field": "cost_per_1k_tokens_usd",
        "minWidth": 132,
        "flex": 1,
        "valueFormatter": {"function": "formatUsd(params.value, 4)"},
        "headerTooltip": N_("Costo por cada 1.000 tokens (costo × 1.000 ÷ tokens); «—» sin tokens"),
        **NUMERIC,
        **NO_SEARCH,
        **NARROW,
    },
]


UNIT_FIELDS = tuple(c["field"] for c in UNIT_COLUMNS)


def locale_text(no_match: str = LOCALE_TEXT["noMatchingRows"]) -> dict:
    """AG Grid's own words (pagination, overlays, aria labels) in the page's language."""
    return {**{k: _(v) for k, v in LOCALE_TEXT.items()}, "noMatchingRows": _(no_match)}


def grid(grid_id: str, columns: list[dict], class_name: str, no_match: str, **options) -> dag.AgGrid:
    """A ranking grid: sortable, paginated, searchable (accents and case ignored), themed."""
    return dag.AgGrid(
        id=grid_id,
        rowData=[],
        columnDefs=columns,
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
            "localeText": locale_text(no_match),
            "tooltipShowDelay": 300,
            "enableCellTextSelection": True,
            "noRowsOverlayComponent": "NoRowsOverlay",
            "noRowsOverlayComponentParams": {"message": _(LOCALE_TEXT["noRowsToShow"])},
            # Search ignores accents and case: «deteccion» finds «Detección».
            "quickFilterParser": {"function": "quickFilterParts(params)"},
            "quickFilterMatcher": {"function": "quickFilterMatches"},
            **options,
        },
        getRowId="params.data.row_key",
        eventListeners=LISTENERS,
        style={"width": "100%"},
        className=class_name,
    )


def translated(columns: list[dict]) -> list[dict]:
    """Column definitions with their header names and tooltips in the page's language; a USD
    amount whose header does not say so is named «… (USD)» in the CSV."""
    out = []
    for c in columns:
        col = {**c, **{k: _(c[k]) for k in ("headerName", "headerTooltip") if k in c}}
        if str(c.get("field", "")).endswith("_usd") and "(USD)" not in col["headerName"]:
            col["headerComponentParams"] = {"csvName": f"{col['headerName']} (USD)"}
        out.append(col)
    return out


def in_currency(cols: list[dict], money: fmt.Money, money_fields: tuple[str, ...]) -> list[dict]:
    """In USD, cols as they are. In another currency each money column shows its converted
    twin (display_field, its header naming the currency) and the USD one stays hidden, for the CSV."""
    if money.is_usd:
        return cols
    symbol = money.symbol.replace("\\", "").replace("'", "")
    out = []
    for col in cols:
        if col.get("field") not in money_fields:
            out.append(col)
            continue
        out.append({**col, "hide": True, "sort": None})
        decimals = money.places(4 if col["field"] in UNIT_FIELDS else 2)
        header = col["headerName"]
        if col["field"] == "cost_usd":
            header = _("Costo ({code})").format(code=money.code)
        shown = {**col, "headerName": header, "field": display_field(col["field"])}
        shown["valueFormatter"] = {"function": f"formatMoney(params.value, '{symbol}', {decimals})"}
        shown["headerComponentParams"] = {"csvName": f"{col['headerName'].removesuffix(' (USD)')} ({money.code})"}
        out.append(shown)
    return out


def money_fields(row: dict, money: fmt.Money, fields: tuple[str, ...]) -> dict:
    """The row with each money field's display twin (exact, as fmt converts) and the symbol the sparkline uses."""
    if money.is_usd:
        return row
    for name in fields:
        v = row.get(name)
        row[display_field(name)] = None if v is None else float(round(money.convert(v), 8))
    row["money_symbol"] = money.symbol
    row["money_places"] = money.places()  # the sparkline's hover: «7.222 JPY»
    return row


def _significant(value: float | None, digits: int = 10) -> float | None:
    """value to `digits` significant digits: no float noise in the grid and its CSV, and a
    unit cost of 1.7e-05 keeps its digits (rounding to 10 decimals left it 6)."""
    return None if value is None else float(f"{value:.{digits}g}")


def unit_fields(cost, executions, tokens) -> dict:
    per_exec, per_1k = exports.unit_costs(cost, executions, tokens)
    return {"cost_per_execution_usd": _significant(per_exec), "cost_per_1k_tokens_usd": _significant(per_1k)}


def csv_params(prefix: str, f: Filters, keys: list[str], money: fmt.Money, money_keys: tuple[str, ...]) -> dict:
    """AG Grid's export options: the columns `keys` (each money key followed by its display twin
    in another currency), formula-safe cells, the file named by exports.file_name."""
    columns = []
    for k in keys:
        columns.append(k)
        if not money.is_usd and k in money_keys:
            columns.append(display_field(k))
    return {**exports.GRID_CSV, "columnKeys": columns, "fileName": exports.file_name(_(prefix), f)}


def empty_message(message: str) -> Patch:
    """What the empty grid says ('Sin datos en este periodo', 'Datos no disponibles', ...):
    a partial update of dashGridOptions, the rest of the options untouched."""
    patch = Patch()
    patch["noRowsOverlayComponentParams"] = {"message": message}
    return patch


def row_count(n: int) -> str:
    """Under the grid: '26 filas' ('' for none: the grid says why it is empty)."""
    return ngettext("{n} fila", "{n} filas", n).format(n=fmt.integer(n)) if n else ""
