"""The page's callback graph as dash-renderer reads it (/_dash-dependencies): no section waits
for another server callback (docs/filters.md, «The slice callbacks' input loop»).

dash-renderer holds a requested callback while any pending callback may still change one of
its Inputs through a chain of callbacks (getReadyCallbacks, getAllSubsequentOutputsForCallback).
A loop through the slice (options -> selects -> slice -> options) made every section wait for
whatever else ran (the budget panel's queries) on each refresh. Checked here statically on the
registered graph; tests/test_browser.py::test_a_refresh_marks_every_section_at_once checks it
in Chromium.
"""

from __future__ import annotations

import json

import pytest

from app import create_app
from storage.settings import Settings


def _prop(text: str) -> tuple[str, str]:
    text = text.split("@")[0]  # allow_duplicate: "id.prop@hash"
    if text.startswith("{"):
        end = text.rindex("}")
        return text[: end + 1], text[end + 2 :]
    cid, prop = text.rsplit(".", 1)
    return cid, prop


def _dep(d: dict) -> tuple[str, str]:
    cid = d["id"]
    return (json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else cid), d["property"]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('graph') / 'g.sqlite3'}"
    app = create_app(Settings(database_url=url, secret="graph-test-secret-0123456789-abcdefgh"))
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    out = []
    for d in deps:
        o = d["output"]
        outs = (
            set() if d.get("no_output") else {_prop(p) for p in (o[2:-2].split("...") if o.startswith("..") else [o])}
        )
        out.append(
            {
                "name": o[:80],
                "outs": outs,
                "ins": {_dep(i) for i in d["inputs"]},
                "server": not d.get("clientside_function"),
            }
        )
    return out


def downstream(graph, cb) -> set:
    """Every (id, prop) a pending `cb` may still change, through any chain of callbacks."""
    seen, todo = set(), set(cb["outs"])
    while todo:
        o = todo.pop()
        if o in seen:
            continue
        seen.add(o)
        for other in graph:
            if o in other["ins"]:
                todo |= other["outs"] - seen
    return seen


def test_no_callback_waits_for_itself(graph):
    """A loop: the renderer holds the callback (and all that wait on it) until nothing else runs."""
    loops = [(cb["name"], sorted((cb["ins"] - cb["outs"]) & downstream(graph, cb))) for cb in graph]
    assert [x for x in loops if x[1]] == []


def test_what_one_change_triggers_never_waits_for_a_server_callback(graph):
    """For every property a person or the URL changes, the callbacks it triggers run together:
    one may wait only for a clientside callback of the same change (applyFilters turning the
    picked period into the applied stores: no round trip), never for a server one (a query)."""
    waits = []
    for prop in sorted({i for cb in graph for i in cb["ins"]}):
        triggered = [cb for cb in graph if prop in cb["ins"]]
        for a in triggered:
            if not a["server"]:
                continue
            reach = downstream(graph, a)
            for b in triggered:
                if b is not a and (b["ins"] - b["outs"]) & reach:
                    waits.append((prop, b["name"], a["name"]))
    assert waits == []


def test_the_slice_is_written_by_no_chain_from_the_options(graph):
    """The options query (and the names) lead to the chips and the dropdowns, never to the slice."""
    options = next(cb for cb in graph if ("slice-options", "data") in cb["outs"])
    assert ("filter-slice", "data") not in downstream(graph, options)
    # Every section reads the slice, and none of them can change it.
    readers = [cb for cb in graph if ("filter-slice", "data") in cb["ins"]]
    assert len(readers) >= 6
    assert [cb["name"] for cb in readers if ("filter-slice", "data") in downstream(graph, cb)] == []
