"""Views computed only while shown: the browser tells their server callbacks when to run.

A «Ver datos» table, the trend's «Acumulado» view and the Avanzado section cost a query
only while they are open. Their server callbacks take the filter bar as State, not as
Input, so a filter change does not send them a request while they are closed (a closed
view used to cost one request per change, answered by PreventUpdate, each holding one of
the browser's six connections and a round of Dash's callback bookkeeping). Each has a
«stale» store as its Input instead, and one clientside callback writes the open views'
stores when one of their own inputs moved: one callback per change for all of them.
Opening a view runs its server callback directly (its toggle is an Input of it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from dash import Input, Output, State

# A view: (its «stale» store's id, the inputs it follows, the prop that says it is open,
# and when it is open: "odd" for a toggle's clicks, else the value that prop holds then).
View = tuple[str, Sequence[Any], Any, Any]

STALE_JS = """function () {
    const ctx = window.dash_clientside.callback_context, nu = window.dash_clientside.no_update;
    const moved = new Set((ctx.triggered || []).map(t => t.prop_id));
    const now = Date.now();
    return %s.map(([watched, openProp, openWhen]) => {
        const v = ctx.states[openProp];
        const open = openWhen === "odd" ? typeof v === "number" && v %% 2 === 1 : v === openWhen;
        return open && watched.some(w => moved.has(w)) ? now : nu;
    });
}"""


def prop(dep) -> str:
    return f"{dep.component_id}.{dep.component_property}"


def as_state(dep) -> State:
    return State(dep.component_id, dep.component_property)


def register(app, views: Sequence[View]) -> None:
    """The one clientside callback that bumps the open views' «stale» stores."""
    listed = [([prop(d) for d in watched], prop(opened), when) for _store, watched, opened, when in views]
    inputs = list({prop(d): d for _s, watched, _o, _w in views for d in watched}.values())
    app.clientside_callback(
        STALE_JS % json.dumps(listed),
        *[Output(store, "data") for store, _w, _o, _when in views],
        *[Input(d.component_id, d.component_property) for d in inputs],
        *[as_state(opened) for _s, _w, opened, _when in views],
        prevent_initial_call=True,
    )


def skipping_first(update: Callable[..., Any]) -> Callable[..., Any]:
    """update without its first argument (a «stale» store's value: it only says when to run)."""

    def run(_stale, *rest):
        return update(*rest)

    run.__name__, run.__doc__, run.__wrapped__ = update.__name__, update.__doc__, update  # type: ignore[attr-defined]
    return run
