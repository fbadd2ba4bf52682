"""Usuarios: the top users by cost with unit costs and a sparkline, «otros» pinned under them
so that the grid always adds up to the period's total; search, a limit up to 1000, CSV export;
with a comparison (Filters.compare), the earlier cost and Δ % beside each row.

User ids are data from the platform, hostile until proven otherwise: the `UserCell` renderer
shows them as text in a <bdi> (React escapes them; an RTL id cannot reorder the row), and the
CSV makes a formula-looking id inert (layouts/exports.py). Shared grid parts: layouts/grids.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Patch, html

from queries import Filters

from . import fmt, grids, ids
from .common import loading, section
from .grids import NO_SEARCH, NUMERIC
from .i18n import N_, _, ngettext

NO_USER = N_("Sin usuario")  # rows without a user: system-initiated usage (the API's userId null)
NO_MATCH = N_("Ningún usuario coincide con la búsqueda")
LIMITS = (50, 100, 250, 500, 1000)  # «Mostrar»: how many users the grid ranks (queries.users.MAX_LIMIT)
DEFAULT_LIMIT = LIMITS[0]
CSV_PREFIX = N_("consumo-por-usuario")
CSV_COLUMNS = [
    "label",
    "user_id",
    "cost_usd",
    "tokens",
    "executions",
    "cost_per_execution_usd",
    "cost_per_1k_tokens_usd",
]
COMPARE_COLUMNS = ["previous_cost_usd", "delta_pct"]
MONEY = ("cost_usd", "cost_per_execution_usd", "cost_per_1k_tokens_usd", "previous_cost_usd")
OTHERS_KEY = "__otros__"
E8 = Decimal(100_000_000)

COLUMN_DEFS: list[dict[str, Any]] = [
    {
        "headerName": N_("Usuario"),
        "field": "label",
        "cellRenderer": "UserCell",
        "flex": 2,
        "minWidth": 150,
        **grids.NAME_COLUMN,
    },
    {"headerName": N_("ID del usuario"), "field": "user_id", "hide": True},
    {
        "headerName": N_("Costo (USD)"),
        "field": "cost_usd",
        "sort": "desc",
        "minWidth": 134,
        "flex": 1,
        "valueFormatter": {"function": "formatUsd(params.value)"},
        **NUMERIC,
        **NO_SEARCH,
    },
    {
        "headerName": N_("Costo anterior"),
        "field": "previous_cost_usd",
        "hide": True,
        "minWidth": 134,
        "flex": 1,
        "valueFormatter": {"function": "formatUsd(params.value)"},
        "headerTooltip": N_("Costo del mismo usuario en el periodo de comparación"),
        **NUMERIC,
        **NO_SEARCH,
    },
    {
        "headerName": "Δ %",
        "field": "delta_pct",
        "hide": True,
        "minWidth": 100,
        "flex": 0.8,
        "valueFormatter": {"function": "formatDelta(params.value, params.data)"},
        "tooltipValueGetter": {"function": "deltaTooltip(params.value, params.data)"},
        # More cost than before is never green: up reads as a warning, down as a saving.
        "cellClassRules": {"delta-up": "params.value > 0", "delta-down": "params.value < 0"},
        "headerTooltip": N_("Variación del costo frente al periodo de comparación («nuevo»: sin costo antes)"),
        **NUMERIC,
        **NO_SEARCH,
    },
    {
        "headerName": N_("Tokens"),
        "field": "tokens",
        "minWidth": 84,
        "flex": 1,
        "valueFormatter": {"function": "formatCompact(params.value)"},
        "tooltipValueGetter": {"function": "formatInt(params.value) + ' tokens'"},
        **NUMERIC,
        **NO_SEARCH,
    },
    {
        "headerName": N_("Ejecuciones"),
        "field": "executions",
        "minWidth": 120,
        "flex": 1,
        "valueFormatter": {"function": "formatInt(params.value)"},
        **NUMERIC,
        **NO_SEARCH,
    },
    *grids.UNIT_COLUMNS,
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
        **NO_SEARCH,
    },
]


def column_defs(money: fmt.Money = fmt.USD, compare: bool = False) -> list[dict]:
    """The columns in the page's language and currency; the comparison's two shown only with one."""
    cols = [
        {**c, "hide": False} if compare and c["field"] in COMPARE_COLUMNS else c for c in grids.translated(COLUMN_DEFS)
    ]
    return grids.in_currency(cols, money, MONEY)


def grid() -> dag.AgGrid:
    g = grids.grid(ids.USERS_GRID, column_defs(), "users-grid", NO_MATCH, paginationPageSize=25)
    g.csvExportParams = {**grids.exports.GRID_CSV, "columnKeys": CSV_COLUMNS, "fileName": f"{_(CSV_PREFIX)}.csv"}
    return g


def layout() -> html.Section:
    tools = html.Div(
        className="grid-tools",
        children=[
            dbc.Input(
                id=ids.USERS_SEARCH,
                type="search",
                placeholder=_("Buscar usuario…"),
                size="sm",
                className="grid-search",
                debounce=False,
                name="user-search",
            ),
            html.Label(
                [
                    html.Span(_("Mostrar"), className="users-limit-label"),
                    dbc.Select(
                        id=ids.USERS_LIMIT,
                        options=[{"label": _("Top {n}").format(n=fmt.integer(n)), "value": str(n)} for n in LIMITS],
                        value=str(DEFAULT_LIMIT),
                        size="sm",
                        className="users-limit",
                        name="user-limit",
                    ),
                ],
                className="users-limit-wrap",
                title=_("Cuántos usuarios se listan; el resto se suma en «otros»"),
            ),
            dbc.Button(
                _("Exportar CSV"),
                id=ids.USERS_EXPORT,
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
                className="chart-note grid-foot",
                children=[
                    html.Span(
                        [html.Span(id=ids.USERS_COUNT), html.Span(id=ids.USERS_MATCHES, **{"aria-live": "polite"})]
                    ),
                    html.Span(id=ids.USERS_TOTAL, className="grid-total"),
                ],
            ),
        ]
    )
    return section(
        ids.SEC_USERS,
        _("Usuarios"),
        _("Quién consume más: ranking por costo; pulsa una fila para filtrar la página por ese usuario."),
        body,
        tools,
    )


def limit_of(value) -> int:
    """The limit select's value as the page sends it; anything else (forged) is the default."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return DEFAULT_LIMIT
    return n if n in LIMITS else DEFAULT_LIMIT


def _delta(cost: float, previous: float) -> float | None:
    """Δ % of the cost against the earlier one (None without an earlier cost: «nuevo» or «—»)."""
    return None if not previous else round((cost - previous) / previous * 100, 4)


def _row(key: str, user_id, label: str, cost, tokens: int, executions: int) -> dict:
    return {
        "row_key": key,
        "user_id": user_id,
        "label": label,
        "cost_usd": round(float(cost), 8),
        "tokens": int(tokens),
        "executions": int(executions),
        **grids.unit_fields(cost, executions, tokens),
    }


def rows(df: pd.DataFrame, money: fmt.Money = fmt.USD) -> list[dict]:
    """Grid rows from by_user's users frame (with previous_cost_usd when compared); the row
    without a user reads NO_USER and filters by `none` when clicked."""
    out = []
    compared = "previous_cost_usd" in df.columns
    for r in df.to_dict("records"):
        uid = r["user_id"]
        uid = None if uid is None or (isinstance(uid, float) and pd.isna(uid)) else str(uid)
        row = _row(
            uid if uid is not None else "__sin_usuario__",
            uid,
            uid if uid is not None else _(NO_USER),
            r["cost_usd"],
            r["tokens"],
            r["executions"],
        )
        row["no_user"] = uid is None
        row["sparkline"] = [round(v, 6) for v in money.values(r["sparkline"] or [])]
        row["spark_partial"] = bool(r.get("sparkline_partial_last", False))
        if compared:
            row["previous_cost_usd"] = round(float(r["previous_cost_usd"]), 8)
            row["delta_pct"] = _delta(float(r["cost_usd"]), float(r["previous_cost_usd"]))
        out.append(grids.money_fields(row, money, MONEY))
    return out


def others_row(others: dict, n: int, money: fmt.Money = fmt.USD, previous: float | None = None) -> list[dict]:
    """«otros (N usuarios)»: the users past the limit, as one pinned row ([] when there are none)."""
    if n <= 0:
        return []
    label = ngettext("otros ({n} usuario)", "otros ({n} usuarios)", n).format(n=fmt.integer(n))
    row = _row(OTHERS_KEY, None, label, others["cost_usd"], others["tokens"], others["executions"])
    row["others"] = True
    row["sparkline"] = []
    if previous is not None:
        row["previous_cost_usd"] = round(previous, 8)
        row["delta_pct"] = _delta(float(others["cost_usd"]), previous)
    return [grids.money_fields(row, money, MONEY)]


def grid_options(message: str, pinned: list[dict]) -> Patch:
    """The partial update of dashGridOptions: the empty grid's words and the pinned «otros» row."""
    patch = Patch()
    patch["noRowsOverlayComponentParams"] = {"message": message}
    patch["pinnedBottomRowData"] = pinned
    return patch


def csv_params(f: Filters, money: fmt.Money = fmt.USD) -> dict:
    """consumo-por-usuario_<from>_<to>_<source>[_<slice>].csv: what the grid shows, «otros» included."""
    keys = CSV_COLUMNS + (COMPARE_COLUMNS if f.compare else [])
    return grids.csv_params(CSV_PREFIX, f, keys, money, MONEY)


def count_line(shown: int, total: int) -> str:
    """Under the grid: «50 de 1.234 usuarios» ('' for none: the grid says why it is empty)."""
    if not total:
        return ""
    if shown >= total:
        return ngettext("{n} usuario", "{n} usuarios", total).format(n=fmt.integer(total))
    return ngettext("{shown} de {n} usuario", "{shown} de {n} usuarios", total).format(
        shown=fmt.integer(shown), n=fmt.integer(total)
    )


def total_line(cost_e8: int, money: fmt.Money = fmt.USD) -> str:
    """«Total del periodo: US$ 1.234,56»: what the rows and «otros» add up to, to the cent."""
    return (
        _("Total del periodo: {amount}").format(amount=fmt.usd(Decimal(cost_e8) / E8, money=money)) if cost_e8 else ""
    )
