"""The filter row under the global bar (issue 9): searchable multi-selects whose options come from
the window's data (each with its cost), the chips of the applied slice, «Quitar filtros» and
«Copiar enlace». Names are data: every label is plain text (dcc.Dropdown and html render text)."""

from __future__ import annotations

import json

from dash import dcc, html

from . import fmt, ids
from .i18n import N_, _
from .theme import action_label

# API name -> (msgid of its label, dropdown id). Provider and model share one control.
LABELS = {
    "agentId": N_("Agente"),
    "userId": N_("Usuario"),
    "provider": N_("Proveedor"),
    "model": N_("Modelo"),
    "actionType": N_("Acción"),
}
CONTROLS = [
    (ids.SLICE_AGENT, N_("Agente"), N_("Todos los agentes")),
    (ids.SLICE_USER, N_("Usuario"), N_("Todos los usuarios")),
    (ids.SLICE_MODEL, N_("Proveedor/Modelo"), N_("Todos los modelos")),
    (ids.SLICE_ACTION, N_("Acción"), N_("Todas las acciones")),
]
NO_AGENT, NO_USER = N_("Sin agente"), N_("Sin usuario")
NONE = "none"  # the API's value for rows without an agent / user
CHIPS_PER_FILTER = 3  # more values of one filter: one chip for them all
NAMED_VALUES = 3  # values of one filter the empty-state message names before «y N más»
TIP_VALUES = 10  # values a grouped chip's tooltip names


def label(api: str) -> str:
    return _(LABELS.get(api, api))


def value_label(api: str, value: str, names: dict | None = None) -> str:
    """How a filter value reads (plain text): an agent's name, «Sin agente», an action's label."""
    if value == NONE and api in ("agentId", "userId"):
        msgid = NO_AGENT if api == "agentId" else NO_USER
        return _(msgid)
    if api == "actionType":
        return str(action_label(value))
    return str(((names or {}).get(api) or {}).get(value, value))


def dropdown_labels() -> dict[str, str]:
    """The texts Dash's dropdown draws itself (English by default), in the page's language.
    `{num_selected}` is filled in by the dropdown."""
    return {
        "select_all": _("Seleccionar todo"),
        "deselect_all": _("Quitar todo"),
        "selected_count": _("{num_selected} seleccionados"),
        "search": _("Buscar"),
        "clear_search": _("Borrar la búsqueda"),
        "clear_selection": _("Quitar la selección"),
        "no_options_found": _("Sin resultados"),
    }


def row(compare=None) -> html.Div:
    """The second filter row: four multi-selects, `compare` («Comparar con»), the chips, and the two buttons."""
    controls = []
    for cid, text, placeholder in CONTROLS:
        controls.append(
            html.Div(
                className="filter-group slice-group",
                children=[
                    html.Label(_(text), htmlFor=cid, className="filter-label"),
                    dcc.Dropdown(
                        id=cid,
                        options=[],
                        value=[],
                        multi=True,
                        searchable=True,
                        clearable=True,
                        placeholder=_(placeholder),
                        className="slice-select",
                        optionHeight=36,
                        maxHeight=320,  # eight options in view (Dash's default shows three)
                        labels=dropdown_labels(),
                    ),
                ],
            )
        )
    return html.Div(
        id=ids.SLICE_ROW,
        className="slice-row",
        role="group",
        **{"aria-label": _("Filtrar por dimensión")},
        children=[
            html.Div(className="slice-controls", children=controls),
            compare,
            html.Div(
                className="slice-applied",
                children=[
                    html.Div(id=ids.SLICE_CHIPS, className="slice-chips", role="list"),
                    html.Button(_("Quitar filtros"), id=ids.SLICE_CLEAR, className="btn-link slice-clear", hidden=True),
                    html.Button(_("Copiar enlace"), id=ids.COPY_LINK, className="btn-link copy-link"),
                    html.Span(id=ids.COPY_LINK_STATUS, className="copy-link-status", role="status"),
                ],
            ),
            dcc.Store(id=ids.SLICE_NAMES, data={}, storage_type="memory"),
            dcc.Store(id=ids.SLICE_OPTIONS, data={}, storage_type="memory"),
        ],
    )


def option(value: str, text: str, cost_e8: int, money: fmt.Money) -> dict:
    """A dropdown option: «name · US$ 12,34» as plain text; search matches the name."""
    return {"label": f"{text} · {fmt.usd(cost_e8 / 1e8, money=money)}", "value": value, "search": text}


def chips(sl: dict, names: dict | None = None) -> list:
    """One chip per applied value: «Agente: Ventas ✕» (the ✕ a button removing it); a filter of
    more than CHIPS_PER_FILTER values is one chip, «Agente: 50 valores ✕», whose ✕ removes them
    all (its multi-select still removes one at a time): a link may carry 50 values of each
    filter, and 250 chips pushed the page a screen down."""
    out = []
    for api in LABELS:
        values = sl.get(api) or []
        if len(values) > CHIPS_PER_FILTER:
            text = _("{filter}: {n} valores").format(filter=label(api), n=fmt.integer(len(values)))
            out.append(
                _chip(text, {"data-f": api, "data-vs": json.dumps(values)}, listed(api, values, names, TIP_VALUES))
            )
            continue
        for value in values:
            out.append(_chip(f"{label(api)}: {value_label(api, value, names)}", {"data-f": api, "data-v": value}))
    return out


def _chip(text: str, data: dict, names: str = "") -> html.Span:
    # assets/view_url.js removes the value(s) on click (no server round-trip to learn which
    # chip): the filter and value (or the JSON list of values) ride as data attributes.
    what = _("Quitar {filter}").format(filter=text)
    return html.Span(
        className="slice-chip",
        role="listitem",
        title=names or None,
        children=[
            html.Span(text, className="slice-chip-text"),
            html.Button("✕", className="slice-chip-x", **data, title=what, **{"aria-label": what}),
        ],
    )


def listed(api: str, values: list, names: dict | None, most: int) -> str:
    """«a, b, c» naming at most `most` values, then «a, b, c y 47 más»."""
    shown = ", ".join(value_label(api, v, names) for v in values[:most])
    if len(values) <= most:
        return shown
    return _("{values} y {n} más").format(values=shown, n=fmt.integer(len(values) - most))


def emptied(sl: dict, names: dict | None = None) -> str:
    """«Sin datos para Agente = X en este periodo» naming every filter applied (a filter of many
    values by its first NAMED_VALUES: «Agente = a, b, c y 47 más»)."""
    parts = [f"{label(api)} = {listed(api, sl[api], names, NAMED_VALUES)}" for api in LABELS if sl.get(api)]
    return _("Sin datos para {filters} en este periodo").format(filters=_(" y ").join(parts))
