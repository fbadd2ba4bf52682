"""CSV exports: one writer for every chart's data, the grids' export options, and the file names.

Two paths, one rule. The charts (trend, actions, models, heatmap) are downloaded from the
server: `csv_text` writes the rows a `callbacks/exports.py` builder gives it. The grids
(Agentes, Usuarios) export what they show, sort and search applied, through AG Grid's own
exportDataAsCsv with `GRID_CSV` (the browser holds that view, the server does not). Both
make a text cell that starts with = + - @ tab or CR inert with a leading ' (OWASP's CSV
injection rule): `safe_cell` here, `csvSafeCell` in assets/dashAgGridFunctions.js, tests
check the two on the same hostile names. Numbers go out as plain numbers (dot decimal, no
grouping, no currency symbol); money columns say their currency in the header
(costo_usd, and costo_eur beside it when the page shows euros).

`file_name` names every file after the period, the source and the slice, e.g.
consumo-tendencia_2026-11-02_2026-12-01_sistema_agente-x.csv: ASCII letters, digits and
dashes only (a user id of RTL marks, slashes or 200 characters cannot reach the file system).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from decimal import Decimal

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from queries import Filters

from . import fmt, theme
from .figures.models import unit_costs
from .i18n import N_, _

__all__ = ["unit_costs"]  # one definition (layouts/figures/models.py), for the grids and the CSVs

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_PART, MAX_VALUES_NAMED, MAX_NAME = 40, 3, 180
NONE_PARTS = {"agent_ids": N_("sin-agente"), "user_ids": N_("sin-usuario")}
SLICE_FIELDS = ("agent_ids", "user_ids", "providers", "models", "action_types")
# AG Grid's export of a grid: raw values (useValueFormatterForExport False on the numbers) made safe.
GRID_CSV = {
    "processCellCallback": {"function": "csvSafeCell(params)"},
    "processHeaderCallback": {"function": "csvHeader(params)"},  # money headers name their currency
}


def safe_cell(value):
    """A CSV cell: None → '', a text a spreadsheet would run as a formula → "'" + text, numbers as plain decimals."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if isinstance(value, float | Decimal):
        return number(value, 10)  # never "1e-08": a plain decimal
    return value


def number(x, places: int = 8) -> str:
    """A plain decimal number for a CSV: dot decimal, no exponent, no trailing zeros ('' for None/NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    d = Decimal(str(x)) if not isinstance(x, Decimal) else x
    text = format(round(d, places), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def csv_text(header: list[str], rows: list[list]) -> str:
    """RFC 4180 text (CRLF, quotes where needed) with a UTF-8 BOM so a spreadsheet reads accents."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([[safe_cell(v) for v in r] for r in rows])
    return "\ufeff" + out.getvalue()


def _part(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_PART].strip("-")


def file_name(prefix: str, f: Filters) -> str:
    """prefix_<from>_<to>_<source>[_<slice values>].csv, sanitized (prefix: a translated msgid)."""
    source = theme.source_label(f.source) if f.source in theme.SOURCE_LABELS else str(f.source)
    parts = [_part(prefix), f.start_date.isoformat(), f.end_date.isoformat(), _part(source)]
    for field in SLICE_FIELDS:
        values = list(getattr(f, field, ()) or ())
        named = [_(NONE_PARTS[field]) if v == "none" and field in NONE_PARTS else v for v in values]
        cleaned = [p for p in (_part(v) for v in named[:MAX_VALUES_NAMED]) if p]
        if len(values) > MAX_VALUES_NAMED:
            cleaned.append(f"mas-{len(values) - MAX_VALUES_NAMED}")
        parts.extend(cleaned)
    name = "_".join(p for p in parts if p)
    return name[:MAX_NAME].rstrip("-_") + ".csv"


def money_header(base: str, money: fmt.Money) -> list[str]:
    """A money column's headers: 'costo_usd', plus 'costo_eur' in another display currency
    (base: the translated stem, e.g. 'costo')."""
    heads = [f"{base}_usd"]
    if not money.is_usd:
        heads.append(f"{base}_{money.code.lower()}")
    return heads


def money_cells(usd, money: fmt.Money) -> list[str]:
    """The USD amount as stored (8 decimals at most), and its conversion (exact, 8 decimals) when shown."""
    cells = [number(usd)]
    if not money.is_usd:
        cells.append("" if usd is None or (isinstance(usd, float) and math.isnan(usd)) else number(money.convert(usd)))
    return cells


# ---------------------------------------------------------------- the download button


def button(csv_id: str, what: str) -> html.Div:
    """The small «CSV» button of a section and its dcc.Download (`what` names the chart)."""
    return html.Div(
        [
            dbc.Button(
                "CSV",
                id=csv_id,
                size="sm",
                color="primary",
                outline=True,
                className="btn-export csv-btn",
                title=_("Descargar en CSV los datos de: {chart}").format(chart=what),
            ),
            dcc.Download(id=f"{csv_id}-download"),
            # Why a download did not come (the database failed, the filters cannot be answered).
            html.Span(id=f"{csv_id}-status", className="csv-status", role="status"),
        ],
        className="csv-tool",
    )


def failed(reason: str) -> str:
    """The line beside «CSV» when no file could be made."""
    return _("No se pudo generar el CSV: {reason}").format(reason=reason)


def download(prefix: str, f: Filters, header: list[str], rows: list[list]) -> dict:
    """What dcc.Download sends: the CSV text, named by file_name."""
    return {"content": csv_text(header, rows), "filename": file_name(_(prefix), f), "type": "text/csv"}


# ---------------------------------------------------------------- one builder per chart
# Headers are snake_case words (a spreadsheet's or a script's column names), translated.

PREFIXES = {
    "trend": N_("consumo-tendencia"),
    "actions": N_("consumo-por-accion"),
    "models": N_("consumo-por-modelo"),
    "heatmap": N_("consumo-por-hora"),
}
H_PERIOD, H_PARTIAL, H_COST = N_("periodo_inicio"), N_("parcial"), N_("costo")
H_TOKENS, H_EXECUTIONS = N_("tokens"), N_("ejecuciones")


def _flag(v) -> str:
    return "true" if bool(v) else "false"


def trend(ts: pd.DataFrame, money: fmt.Money) -> tuple[list[str], list[list]]:
    """Per bucket of the trend: its local start (ISO 8601 with the offset: DST shows), partial, cost, tokens, executions."""
    header = [_(H_PERIOD), _(H_PARTIAL), *money_header(_(H_COST), money), _(H_TOKENS), _(H_EXECUTIONS)]
    rows = [
        [pd.Timestamp(b).isoformat(), _flag(p), *money_cells(c, money), int(t), int(e)]
        for b, p, c, t, e in zip(ts["bucket"], ts["partial"], ts["cost_usd"], ts["tokens"], ts["executions"])
    ]
    return header, rows


def actions(df: pd.DataFrame, money: fmt.Money) -> tuple[list[str], list[list]]:
    """Per bucket and action type (the stacked area); the donut is its sum per action type."""
    header = [
        _(H_PERIOD),
        _("tipo_accion"),
        _("accion"),
        *money_header(_(H_COST), money),
        _(H_TOKENS),
        _(H_EXECUTIONS),
    ]
    rows = [
        [pd.Timestamp(b).isoformat(), str(a), theme.action_label(str(a)), *money_cells(c, money), int(t), int(e)]
        for b, a, c, t, e in zip(df["bucket"], df["action_type"], df["cost_usd"], df["tokens"], df["executions"])
    ]
    return header, rows


def models(df: pd.DataFrame, money: fmt.Money) -> tuple[list[str], list[list]]:
    """Every model of the window (not only the ten drawn), by cost: tokens by type, unit costs, latency."""
    header = [
        _("proveedor"),
        _("nombre_modelo"),
        *money_header(_(H_COST), money),
        _("tokens_entrada"),
        _("tokens_salida"),
        _("tokens_lectura_cache"),
        _("tokens_total"),
        _(H_EXECUTIONS),
        *money_header(_("costo_por_ejecucion"), money),
        *money_header(_("costo_por_1k_tokens"), money),
        _("latencia_media_ms"),
        _("latencia_p50_ms"),
        _("latencia_p95_ms"),
        _("latencia_p99_ms"),
    ]
    rows = []
    for r in df.to_dict("records"):
        total = int(r["input_tokens"]) + int(r["output_tokens"]) + int(r["cache_read_tokens"])
        per_exec, per_1k = unit_costs(r["cost_usd"], r["executions"], total)
        rows.append(
            [
                str(r["provider"]),
                str(r["model"]),
                *money_cells(r["cost_usd"], money),
                int(r["input_tokens"]),
                int(r["output_tokens"]),
                int(r["cache_read_tokens"]),
                total,
                int(r["executions"]),
                *money_cells(per_exec, money),
                *money_cells(per_1k, money),
                *[
                    number(r.get(c), 1)
                    for c in ("avg_latency_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms")
                ],
            ]
        )
    return header, rows


def heatmap(df: pd.DataFrame, money: fmt.Money) -> tuple[list[str], list[list]]:
    """All 168 cells, Monday first like the chart: day name, dow (Sunday = 0, as the API), hour, measures."""
    header = [_("dia_semana"), _("dia_semana_num"), _("hora"), _(H_TOKENS), *money_header(_(H_COST), money)]
    header.append(_(H_EXECUTIONS))
    cells = {(int(r["dow"]), int(r["hour"])): r for r in df.to_dict("records")}
    names = fmt.days()
    rows = []
    for dow in (1, 2, 3, 4, 5, 6, 0):
        for hour in range(24):
            r = cells.get((dow, hour), {"tokens": 0, "cost_usd": 0.0, "executions": 0})
            rows.append(
                [names[dow], dow, hour, int(r["tokens"]), *money_cells(r["cost_usd"], money), int(r["executions"])]
            )
    return header, rows
