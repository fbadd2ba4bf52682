"""«Mayores cambios» (contract §3.2 on the page): the agents, models and users whose cost grew
or fell most between the current window and the earlier one, each a button that adds its
filter to the slice (callbacks/changes.py, the same store as the drill-down clicks).

Shown only with a comparison. The entries are not Dash components but a text-only tree
(layouts/textdom.py: about 170 elements, re-created on every filter change), drawn by
assets/textdom.js; a click on an entry writes ids.CHANGES_CLICK with its index. Names are data:
drawn as text, never as HTML; an agent without a name reads «Sin agente», a user without an id
«Sin usuario». Up is the cost's bad direction (warning red), down its good one (green), as on
the cards, and the arrow and the sign say it without the colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from dash import dcc, html

from . import fmt, ids, textdom
from .common import empty_state, loading, section
from .compare import COST, tone
from .i18n import N_, _

TOP = 5  # entries per direction and dimension
GROUPS = [  # (API name of the filter a click adds, msgid of the column's title)
    ("agentId", N_("Agentes")),
    ("model", N_("Modelos")),
    ("userId", N_("Usuarios")),
]


@dataclass(frozen=True)
class Mover:
    """One key of a dimension: the filter a click adds (api, value), how it reads, and its cost
    in 1e-8 US$ units in both windows (ints: the difference is exact)."""

    api: str
    value: str
    label: str
    detail: str
    cost_e8: int
    previous_e8: int

    @property
    def delta_e8(self) -> int:
        return self.cost_e8 - self.previous_e8


def movers(rows: list[Mover], n: int = TOP) -> tuple[list[Mover], list[Mover]]:
    """(up, down): the n largest increases (largest first) and the n largest decreases (largest
    fall first); ties by name, then value. Unchanged keys are in neither."""
    up = sorted((m for m in rows if m.delta_e8 > 0), key=lambda m: (-m.delta_e8, m.label, m.value))
    down = sorted((m for m in rows if m.delta_e8 < 0), key=lambda m: (m.delta_e8, m.label, m.value))
    return up[:n], down[:n]


def layout() -> html.Section:
    # CHANGES_BODY: Dash's children (an empty state when the data is unavailable); CHANGES_LIST:
    # the entries' tree, drawn by assets/textdom.js (React never gives it children).
    body = html.Div([html.Div(id=ids.CHANGES_BODY), html.Div(id=ids.CHANGES_LIST)], className="changes-body")
    sec = section(
        ids.SEC_CHANGES,
        _("Mayores cambios"),
        _("Dónde subió o bajó más el costo frente al periodo comparado. Clic en una fila para filtrar por ella."),
        loading(body),
        className="changes",
    )
    sec.hidden = True  # until a comparison is chosen (callbacks/changes.py)
    stores = [
        dcc.Store(id=ids.CHANGES_KEYS, data=[], storage_type="memory"),
        dcc.Store(id=ids.CHANGES_VIEW, data=None, storage_type="memory"),
        dcc.Store(id=ids.CHANGES_CLICK, data=None, storage_type="memory"),
    ]
    sec.children = [*sec.children, *stores]
    return sec


def relative(m: Mover) -> str:
    """+45,0 % / −100,0 % / «nuevo» (no cost before: never ∞ %)."""
    if m.previous_e8 == 0:
        return _("nuevo")
    return ("+" if m.delta_e8 > 0 else "−") + fmt.change_percent(abs(m.delta_e8) / m.previous_e8)


def _item(m: Mover, index: int, period: str, money: fmt.Money) -> textdom.Node:
    direction = 1 if m.delta_e8 > 0 else -1
    title = _("{name}: {before} en «{period}» → {now} ahora. Clic para filtrar.").format(
        name=m.label,
        period=period,
        before=fmt.usd(m.previous_e8 / 1e8, money=money),
        now=fmt.usd(m.cost_e8 / 1e8, money=money),
    )
    el = textdom.el
    return el(
        "button",
        f"change-item {tone(COST, direction)}",
        attrs={
            "type": "button",
            "title": title,
            "data-api": m.api,
            "data-index": index,
            "data-click": ids.CHANGES_CLICK,
        },
        kids=[
            el("span", "change-arrow", "▲" if direction > 0 else "▼", attrs={"aria-hidden": "true"}),
            el("span", "change-who", kids=[el("span", "change-name", m.label), el("span", "change-detail", m.detail)]),
            el("span", "change-abs num", fmt.signed_usd(m.delta_e8 / 1e8, money)),
            el("span", "change-pct num", relative(m)),
        ],
    )


def render(groups: list[tuple[str, list[Mover]]], period: str, money: fmt.Money) -> tuple[textdom.Node, list]:
    """The panel's tree (textdom) and the keys its entries stand for ([[api, value], ...] by
    the entries' data-index)."""
    el = textdom.el
    keys: list[list[str]] = []
    columns = []
    for title, rows in groups:
        up, down = movers(rows)
        lists = []
        for head, chosen, none in (
            (_("Suben"), up, _("Nada subió")),
            (_("Bajan"), down, _("Nada bajó")),
        ):
            items = []
            for m in chosen:
                items.append(_item(m, len(keys), period, money))
                keys.append([m.api, m.value])
            lists.append(
                el(
                    "div",
                    "changes-list",
                    kids=[el("div", "changes-dir", head), *(items or [el("div", "changes-none", none)])],
                )
            )
        columns.append(el("div", "changes-col", kids=[el("h3", "changes-title", _(title)), *lists]))
    return el("div", "changes-grid", kids=columns), keys


def unavailable(message: str, hint: str) -> list:
    return [empty_state(message, hint)]
