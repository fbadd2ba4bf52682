"""The slice callbacks and the clickable figures, called directly (no browser): what a change of
the selects writes, what stays, the chips, the legend's buttons, and which hovers promise a filter."""

from __future__ import annotations

import json

import pandas as pd
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from support.figspec import valid

from callbacks import slice as slice_cb, slice_clicks
from layouts import figures, ids, slice as slice_layout
from layouts.figures.advanced import source_split


def triggered(prop_id: str):
    """Run the next call as if `prop_id` ("id.prop") had changed (what ctx.triggered_id reads)."""
    return context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))


def opts(*values):
    return [{"label": v, "value": v} for v in values]


def test_a_select_change_writes_the_slice_and_keeps_what_no_select_lists_yet():
    token = triggered(f"{ids.SLICE_AGENT}.value")
    try:
        sl = {"agentId": ["a", "b"], "model": ["m"]}
        # b removed by a person (listed), m not listed yet (the model select has no options): stays.
        new = slice_cb.control(["a"], [], [], [], None, sl, opts("a", "b"), [], [], [])
        assert new == {"agentId": ["a"], "model": ["m"]}
        # The selects saying what the slice holds (`show` bringing them in line): nothing written.
        same = slice_cb.control(["b", "a"], [], ["model:m"], [], None, sl, opts("a", "b"), [], opts("model:m"), [])
        assert same is no_update
    finally:
        context_value.reset(token)
    token = triggered(f"{ids.SLICE_CLEAR}.n_clicks")
    try:
        assert slice_cb.control(["a"], [], [], [], 1, {"agentId": ["a"]}, opts("a"), [], [], []) == {}
    finally:
        context_value.reset(token)


def test_chips_name_each_value_as_text_and_quitar_filtros_shows_only_with_one():
    children, hidden = slice_cb.chips({"agentId": ["x", "<b>y</b>"]}, {"agentId": {"x": "Ventas"}})
    texts = [c.children[0].children for c in children]
    assert texts == ["Agente: Ventas", "Agente: <b>y</b>"] and hidden is False
    assert [c.children[1].to_plotly_json()["props"]["data-v"] for c in children] == ["x", "<b>y</b>"]
    assert slice_cb.chips({}, {}) == ([], True)
    assert slice_cb.chips(["forged"], 7) == ([], True)


def test_a_filter_of_many_values_is_one_chip_and_the_empty_state_names_three():
    """A link may carry 50 values of each filter: one chip per value made 250 chips, and the
    empty-state banner listed all 250 names."""
    many = [f"ag-{i}" for i in range(50)]
    sl = {"agentId": many, "userId": ["u1", "u2", "u3"], "actionType": ["guardrail_check"]}
    children, hidden = slice_cb.chips(sl, {"agentId": {"ag-0": "<b>Ventas</b>"}})
    texts = [c.children[0].children for c in children]
    assert texts == [
        "Agente: 50 valores",
        "Usuario: u1",
        "Usuario: u2",
        "Usuario: u3",
        "Acción: Verificación de guardrails",
    ]
    grouped = children[0].children[1].to_plotly_json()["props"]
    assert json.loads(grouped["data-vs"]) == many and grouped["data-f"] == "agentId" and "data-v" not in grouped
    assert grouped["aria-label"] == "Quitar Agente: 50 valores"
    assert children[0].title == "<b>Ventas</b>, ag-1, ag-2, ag-3, ag-4, ag-5, ag-6, ag-7, ag-8, ag-9 y 40 más"
    assert hidden is False
    message = slice_layout.emptied(sl, {"agentId": {"ag-0": "Ventas"}})
    assert message == (
        "Sin datos para Agente = Ventas, ag-1, ag-2 y 47 más y Usuario = u1, u2, u3"
        " y Acción = Verificación de guardrails en este periodo"
    )


def test_a_legend_entry_adds_its_action_once():
    token = triggered("actions-legend-guardrail_check.n_clicks")
    try:
        assert slice_clicks.click_legend(None, 1, None, None, None, {}) == {"actionType": ["guardrail_check"]}
        assert slice_clicks.click_legend(None, 1, None, None, None, {"actionType": ["guardrail_check"]}) is no_update
        assert slice_clicks.click_legend(None, None, None, None, None, {}) is no_update  # no click yet
    finally:
        context_value.reset(token)


def test_only_what_a_click_filters_says_clic_para_filtrar():
    split = pd.DataFrame(
        {
            "source": ["system", "byok", "other"],
            "cost_usd": [3.0, 2.0, 1.0],
            "tokens": [3, 2, 1],
            "executions": [1, 1, 1],
        }
    )
    trace = valid(source_split(split)).data[0]
    hovers = [trace.hovertemplate.replace("%{customdata[1]}", cd[1]) for cd in trace.customdata]
    assert ["Clic para filtrar" in h for h in hovers] == [True, True, False]
    assert [cd[-1] for cd in trace.customdata][:2] == ["system", "byok"]
    ts = pd.DataFrame(
        {
            "bucket": pd.to_datetime(["2026-11-01"] * 2),
            "action_type": ["user_interaction", "guardrail_check"],
            "cost_usd": [1.0, 2.0],
            "tokens": [10, 20],
            "executions": [1, 2],
        }
    )
    donut = valid(figures.actions_donut(ts, "cost_usd")).data[0]
    assert all("Clic para filtrar" in cd[1] for cd in donut.customdata)
    assert [cd[-1] for cd in donut.customdata] == ["user_interaction", "guardrail_check"]
