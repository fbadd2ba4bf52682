"""Forged callback payloads: every input of every server callback, of every wrong type.

A client may POST anything to /_dash-update-component. The callbacks and their inputs
are read from the app's own callback map, so a callback or input added later is covered
too: for each one, a well-formed request with that single value replaced by a list, a
dict, a number, a boolean, a huge string, control characters… answers 200 or 204 (never
500), logs nothing at ERROR, and a forged filter shows the Spanish «Filtros no válidos»
state instead of data.
"""

from __future__ import annotations

import json
import logging

import pytest
from support.db import insert_logs
from test_sources import _recent

from app import create_app
from storage.settings import Settings
from web.auth import mint_token

SECRET = "callback-inputs-secret-0123456789-abcdef"
TZ = "Europe/Madrid"
# What the page itself sends, by (component id, property).
VALID = {
    ("filter-applied-preset", "data"): "30d",
    ("filter-applied-start", "data"): None,
    ("filter-applied-end", "data"): None,
    ("filter-source", "value"): "all",
    ("filter-granularity", "value"): "auto",
    ("session-timezone", "data"): TZ,
    ("session-theme", "data"): "dark",  # the charts drawn dark (layouts/skin.py)
    ("actions-metric", "value"): "cost_usd",
    ("advanced-collapse", "is_open"): True,
    ("models-view", "value"): "cost",
    ("models-scale", "value"): "linear",
    ("models-latency", "value"): "p95",
    ("display-currency", "data"): "EUR",  # no rate in this database: the page stays in USD
    # Presupuesto (callbacks/budget.py): the trend's view, the save and its form.
    ("trend-view", "value"): "cumulative",
    ("budget-version", "data"): 0,
    ("budget-save", "n_clicks"): 1,
    ("budget-amount", "value"): "500",
    ("budget-thresholds", "value"): "50 80 100",
    ("budget-webhook", "value"): "",
    # the slice (callbacks/slice.py) and the comparison it carries (callbacks/compare.py)
    ("filter-slice", "data"): {"model": ["gpt-4o-mini"], "compare": "previous"},
    ("filter-compare", "value"): "previous",
    ("changes-keys", "data"): [["model", "gpt-4o-mini"]],
    ("changes-click", "data"): {"i": 0, "n": 1},  # a click on «Mayores cambios»'s entry 0 (assets/textdom.js)
    ("slice-agent", "value"): [],
    ("slice-user", "value"): [],
    ("slice-user", "search_value"): "usr",  # the Usuario select's search (callbacks/slice_search.py)
    ("slice-model", "value"): ["model:gpt-4o-mini"],
    ("slice-action", "value"): [],
    ("slice-agent", "options"): [],
    ("slice-user", "options"): [],
    ("slice-model", "options"): [{"label": "gpt-4o-mini", "value": "model:gpt-4o-mini"}],
    ("slice-action", "options"): [],
    ("slice-clear", "n_clicks"): None,
    ("slice-names", "data"): {},
    ("models-bars", "clickData"): None,
    ("models-bubble", "clickData"): None,
    ("actions-donut", "clickData"): None,
    ("agents-grid", "cellClicked"): None,
    ("agents-grid", "rowData"): [],
    ("advanced-source-split", "clickData"): None,
    # Usuarios (callbacks/users.py) and the charts' «CSV» buttons (callbacks/exports.py).
    ("users-limit", "value"): "100",
    ("users-grid", "cellClicked"): None,
    ("users-grid", "rowData"): [],
    **{(f"csv-{chart}", "n_clicks"): 1 for chart in ("trend", "actions", "models", "heatmap")},
    # The actions' colour legend: a button per action type (callbacks/slice_clicks.py).
    **{
        (f"actions-legend-{a}", "n_clicks"): 1
        for a in ("user_interaction", "guardrail_check", "title_generation", "rag_query_embedding", "document_indexing")
    },
    **{
        (f"data-{chart}-button", "n_clicks"): 1
        for chart in ("trend", "actions-area", "actions-donut", "models-bars", "models-bubble", "heatmap", "split")
    },
    # When an open view's inputs moved (callbacks/stale.py, written in the browser): the «Ver datos»
    # tables, «Acumulado» and Avanzado.
    **{
        (f"data-{chart}-stale", "data"): 1764700000000
        for chart in ("trend", "actions-area", "actions-donut", "models-bars", "models-bubble", "heatmap", "split")
    },
    ("trend-cumulative-stale", "data"): 1764700000000,
    ("advanced-stale", "data"): 1764700000000,
}
FORGED = [
    ["30d"],
    {"value": "all"},
    [],
    {},
    7,
    0,
    -1,
    1.5,
    1e300,
    True,
    False,
    20260101,
    "x",
    "x" * 100_000,
    "\x00",
    "30d\n",
    "<b>all</b>",
    "2026-13-45",
    "2026-01-01T00:00:00",
    [["all"]],
    {"$ne": None},
    ["2026-01-01", "2026-01-31"],
]
FILTER_INPUTS = {k for k in VALID if k[0].startswith("filter-")} | {("session-timezone", "data")}
# A value the engines could take differently is text (NUL bytes, length, quotes, dates
# PostgreSQL parses): on PostgreSQL the matrix runs with the forged strings; every
# type of value runs on SQLite (the checks before any query are the same code on both).
FORGED_TEXT = [v for v in FORGED if isinstance(v, str)]


@pytest.fixture(scope="module")
def app(engine):
    return create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine)


@pytest.fixture(scope="module")
def token(engine):
    org = "org-forged-inputs"
    insert_logs(engine, _recent(org, 40))
    return mint_token(SECRET, org)


def server_callbacks(app) -> list[tuple[str, dict]]:
    out = [(key, cb) for key, cb in app.callback_map.items() if "callback" in cb]
    assert len(out) >= 6  # the gate and the five data callbacks at least
    return out


CUSTOM = {
    ("filter-applied-preset", "data"): "custom",
    ("filter-applied-start", "data"): "2026-11-01",
    ("filter-applied-end", "data"): "2026-11-30",
}


def payload(key: str, cb: dict, token: str, replace: tuple | None = None, value=None) -> dict:
    """The request the renderer would send, with one (id, property) set to value (dates are
    read only with Personalizado: a forged date comes with a custom window)."""
    base = {**VALID, **CUSTOM} if replace and replace[0] in ("filter-applied-start", "filter-applied-end") else VALID

    def entry(dep):
        k = (dep["id"], dep["property"])
        v = value if k == replace else (token if k == ("session-token", "data") else base[k])
        if dep["id"].startswith("{"):  # pattern-matching (ALL): the renderer sends the list of matches
            pattern = json.loads(dep["id"])
            return [{"id": {**pattern, "index": 0}, "property": dep["property"], "value": v}]
        return {"id": dep["id"], "property": dep["property"], "value": v}

    outputs = cb["output"] if isinstance(cb["output"], list) else [cb["output"]]
    spec = [{"id": o.component_id, "property": o.component_property} for o in outputs]
    return {
        "output": key,
        # As dash-renderer sends it: a list for a multi-output callback ("..a.b...c.d.."), one object otherwise.
        "outputs": spec if key.startswith("..") else spec[0],
        "inputs": [entry(d) for d in cb["inputs"]],
        "state": [entry(d) for d in cb["state"]],
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in cb["inputs"]],
    }


def post(client, body):
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def cases(app):
    for key, cb in server_callbacks(app):
        for dep in cb["inputs"] + cb["state"]:
            yield key, cb, (dep["id"], dep["property"])


def test_well_formed_requests_answer(app, token):
    client = app.server.test_client()
    for key, cb in server_callbacks(app):
        r = post(client, payload(key, cb, token))
        assert r.status_code == 200, (key, r.status_code, r.get_data(as_text=True)[:500])
        assert "Filtros no válidos" not in r.get_data(as_text=True)


def _figures(value) -> list[dict]:
    """Every plotly figure (a dict with data and layout) inside a callback's answer."""
    if isinstance(value, dict):
        if "data" in value and isinstance(value.get("layout"), dict):
            return [value]
        return [f for v in value.values() for f in _figures(v)]
    if isinstance(value, list):
        return [f for v in value for f in _figures(v)]
    return []


@pytest.mark.parametrize("lang, separators", [("es", ",."), ("en", ".,")])
def test_every_chart_writes_numbers_in_the_page_language(app, token, lang, separators):
    """Every figure any callback answers carries the page language's separators (English
    «$0.8», Spanish «US$ 0,8»): Avanzado's cache chart, built outside theme.figure(), kept the
    template's Spanish ones and wrote «$0,8» on the English page."""
    client = app.server.test_client()
    found, wrong = 0, []
    for key, cb in server_callbacks(app):
        r = client.post(
            "/_dash-update-component",
            data=json.dumps(payload(key, cb, token)),
            content_type="application/json",
            headers={"X-Dashboard-Lang": lang},
        )
        assert r.status_code in (200, 204), (key, r.status_code)
        for fig in _figures(r.get_json() if r.status_code == 200 else None):
            found += 1
            if fig["layout"].get("separators") != separators:
                wrong.append((key[:60], fig["layout"].get("separators")))
    assert found >= 8 and wrong == [], (found, wrong)


@pytest.mark.parametrize("theme_name", ["light", "dark"])
def test_every_figure_is_valid_plotly_and_laid_out_as_update_layouts(app, token, monkeypatch, theme_name):
    """The figures are plain data (layouts/plot.py), not plotly.py's graph objects: every figure
    any callback answers, in either theme, as the browser gets it, is a figure plotly.py
    validates (go.Figure raises on a property or value plotly.js would not take) and writes
    the same; and theme.relayout's merges are update_layout's: the answers are the same when
    every relayout goes through go.Figure.update_layout instead."""
    from datetime import UTC, datetime

    import plotly.graph_objects as go
    from support.figspec import sent

    from layouts import theme
    from web import context

    fixed = datetime.now(UTC)  # one clock for both runs: the projection's figures follow it
    monkeypatch.setitem(app.server.extensions[context.KEY], "clock", lambda: fixed)
    monkeypatch.setitem(VALID, ("session-theme", "data"), theme_name)
    monkeypatch.setitem(VALID, ("filter-slice", "data"), {"compare": "previous"})
    monkeypatch.setitem(VALID, ("slice-model", "value"), [])

    def figures():
        client = app.server.test_client()
        out = []
        for key, cb in server_callbacks(app):
            r = post(client, payload(key, cb, token))
            assert r.status_code in (200, 204), (key, r.status_code)
            out += [(key[:60], f) for f in _figures(r.get_json() if r.status_code == 200 else None)]
        return out

    def update_layout(fig, **props):
        laid_out = go.Figure(fig).update_layout(**props).to_plotly_json()["layout"]
        fig.layout.clear()
        fig.layout.update(laid_out)
        return fig

    assigned = figures()
    for key, fig in assigned:
        assert sent(fig) == sent(go.Figure(fig)), key
    monkeypatch.setattr(theme, "relayout", update_layout)
    updated = figures()
    drawn = {m for _, f in assigned for m in (f["layout"].get("meta") or {}) if f["data"]}
    # the trend's ghost line, the burn-down, the heatmap, the bubbles, the cache chart among them
    assert {"previous", "view", "log10", "scale", "partial"} <= drawn, drawn
    assert len(assigned) >= 9 and [(k, sent(f)) for k, f in assigned] == [(k, sent(f)) for k, f in updated]


def test_every_input_of_every_callback_survives_forged_values(engine, app, token, caplog):
    client = app.server.test_client()
    caplog.set_level(logging.INFO)
    failures, unflagged = [], []
    forged = FORGED if engine.dialect.name == "sqlite" else FORGED_TEXT
    for key, cb, target in cases(app):
        for value in forged + ([7, {"t": 1}, ["t"], True, "x" * 100_000] if target[0] == "session-token" else []):
            r = post(client, payload(key, cb, token, target, value))
            if r.status_code not in (200, 204):
                failures.append((key[:40], target, repr(value)[:40], r.status_code))
                continue
            text = r.get_data(as_text=True)
            assert len(text) < 2_000_000, (target, repr(value)[:40])  # a forged value is not echoed back in bulk
            if (
                target in FILTER_INPUTS
                and "kpi-cost" in key
                and value not in (None, "")
                and "Filtros no válidos" not in text
            ):
                unflagged.append((target, repr(value)[:40]))
    errors = [rec.getMessage()[:200] for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert failures == [] and errors == [], (failures[:40], errors[:5])
    # A forged filter never answers with data: the overview says «Filtros no válidos».
    # (A forged preset may read as a known one once trimmed and lowered: '30d\n'; an empty slice
    # store is no forgery: it is the page's own "no filter".)
    fine = {(("filter-applied-preset", "data"), repr("30d\n")), (("filter-slice", "data"), repr({}))}
    assert [u for u in unflagged if u not in fine] == []


@pytest.mark.parametrize("forged", [7, {"token": "x"}, ["a.b.c"], True, 1.5])
def test_a_forged_token_store_is_refused_without_a_query(app, forged):
    client = app.server.test_client()
    for key, cb in server_callbacks(app):
        r = post(client, payload(key, cb, forged))
        assert r.status_code == 200, (key, r.status_code)
        text = r.get_data(as_text=True)
        if "kpi-cost" in key:
            assert "Acceso no autorizado" in text
        if "dashboard.hidden" in key:
            assert json.loads(text)["response"]["dashboard"]["hidden"] is True


def _malformed(app, token):
    key, cb = next((k, c) for k, c in server_callbacks(app) if "kpi-cost" in k)
    good = payload(key, cb, token)
    short = {**good, "inputs": good["inputs"][:-1]}
    renamed = {**good, "inputs": [{**good["inputs"][0], "id": "agents-grid"}] + good["inputs"][1:]}
    return {
        "not an object": [1, 2],
        "a string": "x",
        "null": None,
        "no output": {k: v for k, v in good.items() if k != "output"},
        "unknown output": {**good, "output": "nope.children"},
        "output as a list": {**good, "output": [key]},
        "a clientside callback": {**good, "output": "filter-dates-wrap.hidden"},
        "no inputs": {k: v for k, v in good.items() if k != "inputs"},
        "inputs an int": {**good, "inputs": 7},
        "one input short": short,
        "inputs not objects": {**good, "inputs": [1] * len(good["inputs"])},
        "another component's input": renamed,
        "state a dict": {**good, "state": {"id": "session-token"}},
        "outputs short": {**good, "outputs": good["outputs"][:1]},
        "changedPropIds a dict": {**good, "changedPropIds": {"a": 1}},
    }


def test_a_malformed_request_is_a_400_not_a_traceback(app, token, caplog):
    client = app.server.test_client()
    caplog.set_level(logging.INFO)
    for name, body in _malformed(app, token).items():
        r = post(client, body)
        assert r.status_code == 400, (name, r.status_code)
        assert r.get_json()["error"] == "bad_callback_request", name
    r = client.post("/_dash-update-component", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert [rec for rec in caplog.records if rec.levelno >= logging.ERROR] == []
