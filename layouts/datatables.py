"""«Ver datos»: every chart's numbers as an accessible table, for screen readers and copy-paste.

Each chart has a toggle button under it (aria-expanded, aria-controls) and a region that
stays empty while closed: the table is built by the chart's data callback only when the
region is open (callbacks/datatables.py), from the same query frame and through the same
selection the figure uses (top_models, action_totals, heatmap_grid…). One function per
chart below; tests check that each table's totals equal its figure's.

Tables are Dash components: names are text children, which React escapes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from . import fmt, theme
from .figures import actions as fa, advanced as fadv, models as fm
from .figures.common import local_x
from .i18n import N_, _

OPEN, CLOSED = N_("Ocultar datos"), N_("Ver datos")  # msgids: callbacks/datatables.py shows them through _()


def toggle(chart: str, label: str) -> html.Div:
    """The «Ver datos» button and its (empty until opened) region; `label` names the chart."""
    region = f"data-{chart}"
    return html.Div(
        className="data-toggle",
        children=[
            html.Button(
                _(CLOSED),
                id=f"{region}-button",
                n_clicks=0,
                type="button",
                className="data-toggle-btn",
                title=_("Tabla con los datos de: {chart}").format(chart=label),
                **{"aria-expanded": "false", "aria-controls": region},
            ),
            html.Div(id=region, className="data-region"),
            # Written in the browser when a filter changes while the table is open (the
            # table's callback listens to it, not to the filters: a closed table sends nothing).
            dcc.Store(id=f"{region}-stale", data=0, storage_type="memory"),
        ],
    )


def _table(
    caption: str, columns: list[str], rows: list[list], foot: list | None = None, row_header: bool = True
) -> html.Div:
    """caption, th scope=col per column, th scope=row for each row's first cell; numbers right-aligned."""
    head = html.Thead(html.Tr([html.Th(c, scope="col", className="num" if i else None) for i, c in enumerate(columns)]))

    def cells(r, tag_first):
        first = tag_first(r[0], scope="row") if row_header else html.Td(r[0])
        return [first] + [html.Td(v, className="num") for v in r[1:]]

    body = html.Tbody([html.Tr(cells(r, html.Th)) for r in rows])
    parts = [html.Caption(caption), head, body]
    if foot:
        parts.append(html.Tfoot(html.Tr(cells(foot, html.Th))))
    # A scrollable region: focusable (keyboard scrolling) and named after its caption.
    return html.Div(
        html.Table(parts, className="data-table"),
        className="data-table-wrap",
        role="region",
        tabIndex=0,
        **{"aria-label": caption},
    )


def unavailable(message: str) -> html.Div:
    return html.Div(message, className="chart-note")


def fa_metric(metric) -> str:
    """The action charts' metric, or cost for anything else (callback input, may be hostile)."""
    return metric if isinstance(metric, str) and metric in fa.METRICS else "cost_usd"


# ---------------------------------------------------------------- one function per chart


def trend_rows(ts: pd.DataFrame, granularity: str) -> tuple[list[list], list]:
    """Per bucket: period, cost, tokens, executions; and the totals row (raw numbers)."""
    rows = [
        [fmt.bucket(b, granularity), float(c), int(t), int(e)]
        for b, c, t, e in zip(local_x(ts["bucket"]), ts["cost_usd"], ts["tokens"], ts["executions"])
    ]
    total = [_("Total"), float(ts["cost_usd"].sum()), int(ts["tokens"].sum()), int(ts["executions"].sum())]
    return rows, total


def trend_table(ts: pd.DataFrame, granularity: str, money: fmt.Money = fmt.USD) -> html.Div:
    rows, total = trend_rows(ts, granularity)
    show = lambda r: [r[0], fmt.usd(r[1], money=money), fmt.integer(r[2]), fmt.integer(r[3])]  # noqa: E731
    return _table(
        _("Costo, tokens y ejecuciones por periodo"),
        [_("Periodo"), _("Costo"), _("Tokens"), _("Ejecuciones")],
        [show(r) for r in rows],
        show(total),
    )


def actions_area_rows(df: pd.DataFrame, metric: str) -> tuple[list[str], list[list]]:
    """Per bucket, the metric of each action type (legend order) and the bucket's total."""
    order = fa.action_order(df["action_type"].unique()) if len(df) else []
    wide = df.pivot_table(index="bucket", columns="action_type", values=metric, aggfunc="sum", fill_value=0)
    # pandas-stubs types .at as the union of every scalar: these cells are numbers.
    rows = [
        [b] + [float(wide.at[b, a]) for a in order] + [float(wide.loc[b, order].sum())]  # type: ignore[arg-type]
        for b in wide.index
    ]
    return order, rows


def actions_area_table(df: pd.DataFrame, metric: str, granularity: str, money: fmt.Money = fmt.USD) -> html.Div:
    name, formatter = fa.METRICS[metric][0], fa.metric_formatter(metric, money)
    order, rows = actions_area_rows(df, metric)
    shown = [
        [fmt.bucket(local_x(pd.Series([r[0]])).iloc[0], granularity)] + [formatter(v) for v in r[1:]] for r in rows
    ]
    return _table(
        _("{metric} por periodo y tipo de acción").format(metric=_(name)),
        [_("Periodo")] + [theme.action_label(a) for a in order] + [_("Total")],
        shown,
    )


def actions_donut_table(df: pd.DataFrame, metric: str, money: fmt.Money = fmt.USD) -> html.Div:
    name, formatter = fa.METRICS[metric][0], fa.metric_formatter(metric, money)
    totals = fa.action_totals(df, metric)
    whole = float(totals["value"].sum())
    rows = [
        [theme.action_label(a), formatter(v), fmt.share(v, whole)]
        for a, v in zip(totals["action_type"], totals["value"])
    ]
    return _table(
        _("{metric} por tipo de acción en el periodo").format(metric=_(name)),
        [_("Tipo de acción"), _(name), _("Parte del total")],
        rows,
        [_("Total"), formatter(whole), fmt.share(whole, whole)],
    )


def models_bars_rows(df: pd.DataFrame, view: str, prices: dict | None) -> tuple[list[str], list[list]]:
    """The bars' own numbers: per model (same top 10, same order) each segment and the total."""
    top = fm.top_models(df, view)
    if view == "cost":
        split = fm.cost_split(top, prices)
        cols = fm.COLUMNS + ["unsplit"]
        rows = [
            [lab] + [float(split.at[i, c]) for c in cols] + [float(top.at[i, "cost_usd"])]  # type: ignore[arg-type]
            for i, lab in enumerate(top["label"])
        ]
        return [_(theme.TOKEN_TYPES[c][0]) for c in fm.COLUMNS] + [_(theme.UNSPLIT[0])], rows
    rows = [
        [lab] + [int(top.at[i, c]) for c in fm.COLUMNS] + [int(top.at[i, "tokens"])]  # type: ignore[arg-type]
        for i, lab in enumerate(top["label"])
    ]
    return [_(theme.TOKEN_TYPES[c][0]) for c in fm.COLUMNS], rows


def models_bars_table(df: pd.DataFrame, view: str, prices: dict | None, money: fmt.Money = fmt.USD) -> html.Div:
    names, rows = models_bars_rows(df, view, prices)
    formatter = (lambda v: fmt.usd(v, money=money)) if view == "cost" else fmt.integer
    if view == "cost":
        caption = _("Costo ({code}) por tipo de token de los 10 primeros modelos").format(code=money.code)
    else:
        caption = _("Tokens por tipo de token de los 10 primeros modelos")
    return _table(
        caption,
        [_("Modelo")] + names + [_("Total")],
        [[r[0]] + [formatter(v) for v in r[1:]] for r in rows],
    )


def _ms(v) -> str:
    return "—" if v is None or pd.isna(v) else fmt.integer(round(float(v))) + " ms"


def bubbles_table(df: pd.DataFrame, scale: str, money: fmt.Money = fmt.USD) -> html.Div:
    """The models table: per bubble, cost, executions, cost per execution and per 1,000 tokens, latency
    (mean, p50, p95, p99: within 1 % of the exact percentiles)."""
    part = fm.bubble_models(df, scale)
    rows = [
        [
            f"{n}. {lab}",
            fmt.usd(r["cost_usd"], money=money),
            fmt.integer(r["executions"]),
            fmt.usd(unit[0], 4, money=money),
            fmt.usd(unit[1], 4, money=money),
            _ms(r["avg_latency_ms"]),
            *[_ms(r.get(f"p{q}_latency_ms")) for q in (50, 95, 99)],
        ]
        for n, lab, r, unit in zip(
            part["number"],
            part["label"],
            part.to_dict("records"),
            [fm.unit_costs(c, e, t) for c, e, t in zip(part["cost_usd"], part["executions"], fm.model_tokens(part))],
        )
    ]
    return _table(
        _("Costo, ejecuciones, costo por ejecución y por 1.000 tokens y latencia por modelo (número de la burbuja)"),
        [
            _("Modelo"),
            _("Costo"),
            _("Ejecuciones"),
            _("Costo por ejecución"),
            _("Costo por 1.000 tokens"),
            _("Latencia media"),
            "p50",
            "p95",
            "p99",
        ],
        rows,
    )


def heatmap_rows(df: pd.DataFrame) -> list[list]:
    """24 rows (hours) × 7 days (Monday first, like the chart): tokens, 0 where the chart is blank."""
    grid = [[0] * 7 for _ in range(24)]
    r: Any  # an itertuples row: pandas-stubs types each field as the union of every scalar
    for r in df.itertuples(index=False):
        grid[int(r.hour)][fadv.column(r.dow)] += int(r.tokens)
    return [[fadv.HOUR_LABELS[h]] + grid[h] for h in range(24)]


def heatmap_table(df: pd.DataFrame, timezone: str) -> html.Div:
    rows = heatmap_rows(df)
    return _table(
        _("Tokens por hora local ({timezone}) y día de la semana").format(timezone=timezone),
        [_("Hora")] + fadv.day_labels(),
        [[r[0]] + [fmt.integer(v) if v else "—" for v in r[1:]] for r in rows],
    )


def split_table(df: pd.DataFrame, money: fmt.Money = fmt.USD) -> html.Div:
    # pandas-stubs types itertuples fields as the union of every scalar: source is a str.
    rows = [
        [
            theme.source_label(str(r.source)) if str(r.source) in theme.SOURCES else _(theme.OTHER_SOURCE[0]),
            fmt.usd(r.cost_usd, money=money),
            fmt.integer(r.tokens),
            fmt.integer(r.executions),
        ]
        for r in df.itertuples(index=False)
    ]
    return _table(
        _("Costo, tokens y ejecuciones por origen"), [_("Origen"), _("Costo"), _("Tokens"), _("Ejecuciones")], rows
    )
