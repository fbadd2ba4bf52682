"""Anomalías: the sentence that explains an anomaly (trend hover and list), and the list's card.

Each list item is a button: a click narrows the page to that local day and adds the
anomaly's first contributor to the slice (callbacks/anomalies.py, assets/anomalies.js).
Data (agent names, models) stays plain text here: Dash escapes it in the list, and the
trend's hover passes it through fmt.text() (layouts/figures/anomalies.py).
"""

from __future__ import annotations

from dash import dcc, html

from queries.anomalies import Anomaly, Contributor

from . import fmt, ids, theme
from .common import loading, section
from .i18n import N_, _

ITEM = "anomaly-item"  # pattern-matching id type of the list's buttons: {"type": ITEM, "index": i}
SHOWN = 8  # the most recent anomalies listed
# The slice store's key (API parameter names) for a contributor's kind.
SLICE_KEYS = {"agent": "agentId", "model": "model", "action": "actionType"}
KIND_LABELS = {
    "agent": N_("{delta} del agente {name}"),
    "model": N_("{delta} del modelo {name}"),
    "action": N_("{delta} de la acción {name}"),
}


def layout() -> html.Section:
    body = loading(html.Div(id=ids.ANOMALY_LIST, className="anomaly-list", **{"aria-live": "polite"}))
    return section(
        ids.SEC_ANOMALIES,
        _("Anomalías"),
        _(
            "Días hasta ayer cuyo costo se aparta del esperado para ese día de la semana (8 semanas previas). "
            "Pulsa uno para ver ese día y su principal causa."
        ),
        html.Div([body, dcc.Store(id=ids.ANOMALY_DATA, data=[], storage_type="memory")]),
        className="anomalies-panel",
    )


def label(c: Contributor, names: dict[str, str], escape=lambda s: s) -> str:
    """The contributor's name as the page shows it: the agent's name, the model, the action's label."""
    if c.kind == "agent":  # names clipped: a 300-character model filled three lines of the sentence
        return _("sin agente") if c.id is None else escape(fmt.clip(names.get(c.id, c.id)))
    if c.kind == "action" and c.id in theme.ACTIONS:
        return _(theme.ACTIONS[c.id][0])
    return escape(fmt.clip("" if c.id is None else c.id))


NO_AGENT = N_("{delta} del uso sin agente")


def contributor_text(c: Contributor, names: dict[str, str], money: fmt.Money = fmt.USD, escape=lambda s: s) -> str:
    if c.kind == "agent" and c.id is None:
        return _(NO_AGENT).format(delta=fmt.signed_usd(c.delta_usd, money))
    return _(KIND_LABELS[c.kind]).format(name=label(c, names, escape), delta=fmt.signed_usd(c.delta_usd, money))


def explain(a: Anomaly, names: dict[str, str], money: fmt.Money = fmt.USD, escape=lambda s: s) -> str:
    """«Costo 3,2× lo esperado: +US$ 41,20 del agente X, +US$ 30,00 del modelo Y» (escape: for Plotly text)."""
    parts = ", ".join(contributor_text(c, names, money, escape) for c in a.contributors)
    if a.expected_usd > 0:
        ratio = fmt.number(a.cost_usd / a.expected_usd, 1)
        head = _("Costo {ratio}× lo esperado").format(ratio=ratio)
    else:
        head = _("Costo {cost}, sin costo esperado").format(cost=fmt.usd(a.cost_usd, money=money))
    return _("{head}: {contributors}").format(head=head, contributors=parts) if parts else head


def direction_word(a: Anomaly) -> str:
    return _("Subida") if a.direction == "up" else _("Bajada")


def items(found: list[Anomaly], names: dict[str, str], money: fmt.Money = fmt.USD) -> list:
    """The list's buttons, newest first (at most SHOWN), or a line saying there are none."""
    if not found:
        return [html.P(_("Sin anomalías en el periodo."), className="anomaly-none")]
    out = []
    for i, a in enumerate(found[:SHOWN]):
        mark = "▲" if a.direction == "up" else "▼"
        out.append(
            html.Button(
                [
                    html.Span(mark, className=f"anomaly-mark anomaly-{a.direction}", **{"aria-hidden": "true"}),
                    html.Span(f"{direction_word(a)} · {fmt.weekday_day(a.date)}", className="anomaly-day"),
                    html.Span(
                        _("{cost} (esperado {expected})").format(
                            cost=fmt.usd(a.cost_usd, money=money), expected=fmt.usd(a.expected_usd, money=money)
                        ),
                        className="anomaly-cost",
                    ),
                    html.Span(explain(a, names, money), className="anomaly-why"),
                ],
                id={"type": ITEM, "index": i},
                n_clicks=0,
                className="anomaly-item",
                type="button",
                title=_("Ver solo el {day} y su principal causa").format(day=fmt.day(a.date)),
                **{"data-date": a.date.isoformat()},
            )
        )
    return out


def top_contributor(a: Anomaly) -> Contributor | None:
    """The contributor a click filters by: the first agent listed (the most specific dimension: a
    model or an action that holds the agent departs at least as much and is listed before it),
    else the first contributor."""
    agents = [c for c in a.contributors if c.kind == "agent"]
    return agents[0] if agents else (a.contributors[0] if a.contributors else None)


def click_data(found: list[Anomaly]) -> list[dict]:
    """What a click applies (assets/anomalies.js): the day and its top contributor as a slice entry."""
    out = []
    for a in found[:SHOWN]:
        top = top_contributor(a)
        entry = None
        if top is not None:
            entry = {"key": SLICE_KEYS[top.kind], "value": "none" if top.id is None else top.id}
        out.append({"date": a.date.isoformat(), "slice": entry})
    return out
