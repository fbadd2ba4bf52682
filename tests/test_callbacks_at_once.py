"""A process computes at most callbacks.at_once.AT_ONCE of the page's callbacks at once;
the others wait their turn, and a request refused before it computes takes none."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dash
from dash import Input, Output, dcc, html

from callbacks import at_once, guard


def _app(at_once_limit: int):
    app = dash.Dash(__name__)
    app.layout = html.Div([dcc.Input(id="x"), html.Div(id="y")])
    running, seen = [0], [0]
    lock = threading.Lock()

    @app.callback(Output("y", "children"), Input("x", "value"))
    def slow(value):
        with lock:
            running[0] += 1
            seen[0] = max(seen[0], running[0])
        time.sleep(0.15)
        with lock:
            running[0] -= 1
        return f"got {value}"

    guard.register(app)
    turns = at_once.register(app, at_once_limit)
    return app, turns, seen


def _post(client, body):
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


BODY = {
    "output": "y.children",
    "outputs": {"id": "y", "property": "children"},
    "inputs": [{"id": "x", "property": "value", "value": "a"}],
    "changedPropIds": ["x.value"],
}


def test_callbacks_past_the_limit_wait_their_turn():
    app, turns, seen = _app(2)
    client = app.server.test_client()
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: _post(client, BODY), range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert all("got a" in a.get_data(as_text=True) for a in answers)
    assert seen[0] == 2  # never more than two computing at once
    assert turns.acquire(blocking=False) and turns.acquire(blocking=False)  # every turn given back
    assert not turns.acquire(blocking=False)


def test_other_requests_and_refused_callbacks_take_no_turn():
    app, turns, _seen = _app(1)
    client = app.server.test_client()
    assert turns.acquire(blocking=False)  # the only turn taken: a callback would wait
    try:
        assert client.get("/").status_code == 200  # the page is not limited
        refused = _post(client, {**BODY, "output": "nothing.children"})
        assert refused.status_code == 400  # callbacks/guard.py answered: no turn waited for
    finally:
        turns.release()
    assert _post(client, BODY).status_code == 200
    assert turns.acquire(blocking=False)  # and given back


def test_a_turn_is_given_back_when_the_callback_fails():
    app, turns, _seen = _app(1)

    @app.callback(Output("x", "placeholder"), Input("x", "n_submit"))
    def broken(_n):
        raise RuntimeError("boom")

    client = app.server.test_client()
    body = {
        "output": "x.placeholder",
        "outputs": {"id": "x", "property": "placeholder"},
        "inputs": [{"id": "x", "property": "n_submit", "value": 1}],
        "changedPropIds": ["x.n_submit"],
    }
    assert _post(client, body).status_code == 500
    assert _post(client, BODY).status_code == 200  # the failed one did not keep its turn


def test_the_page_registers_the_limit(tmp_path):
    from app import create_app
    from storage.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", secret="s" * 40)
    server = create_app(settings).server
    names = [f.__name__ for f in server.before_request_funcs.get(None, [])]
    assert "_take_a_turn" in names
    assert names.index("_refuse_malformed_callback") < names.index("_take_a_turn")
