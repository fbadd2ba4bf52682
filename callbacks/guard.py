"""Refuse a malformed callback request (400) before Dash reads it.

The renderer POSTs {output, outputs, inputs, state, changedPropIds} to
/_dash-update-component. Dash trusts that shape: an unknown output, inputs that are not
a list of {id, property, value}, or one input too few raise inside Dash (500 and a
traceback in the log). Here the shape is checked against the callback's own
declaration in `app.callback_map`; the values inside are the callbacks' to validate
(callbacks/common.py). A dependency is one {id, property} pair, except a pattern-matching
one (ALL; none of the page's server callbacks has one today), which the renderer sends as the
list of the components it matched, each id a dict fitting the declared pattern.
"""

from __future__ import annotations

import json
import logging

from flask import jsonify, request

log = logging.getLogger("ai_usage.dashboard")


def _fits(sent_id, pattern: dict) -> bool:
    """A matched component's id against a pattern ({"type": "x", "index": ["ALL"]})."""
    return (
        isinstance(sent_id, dict)
        and set(sent_id) == set(pattern)
        and all(v == ["ALL"] or sent_id[k] == v for k, v in pattern.items())
    )


def _dep_match(s, d) -> bool:
    # An Output(allow_duplicate=True) travels as "prop@<hash of the inputs>".
    prop = str(d["property"]).split("@", 1)[0]
    did = d["id"]
    if isinstance(did, str) and did.startswith("{"):  # pattern-matching: the list of the matches
        pattern = json.loads(did)
        return isinstance(s, list) and all(
            isinstance(x, dict) and _fits(x.get("id"), pattern) and x.get("property") == prop for x in s
        )
    return isinstance(s, dict) and s.get("id") == did and str(s.get("property")).split("@", 1)[0] == prop


def _deps_match(sent, declared) -> bool:
    if isinstance(declared, dict):  # a callback with a single Output: the renderer sends one object
        sent, declared = [sent], [declared]
    return (
        isinstance(sent, list) and len(sent) == len(declared) and all(_dep_match(s, d) for s, d in zip(sent, declared))
    )


def _outputs(cb) -> list | dict:
    out = cb["output"]
    spec = [{"id": o.component_id, "property": o.component_property} for o in (out if isinstance(out, list) else [out])]
    return spec if isinstance(out, list) else spec[0]


def problem(app, body) -> str | None:
    """Why body is no request this app's renderer would send, or None."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    key = body.get("output")
    cb = app.callback_map.get(key) if isinstance(key, str) else None
    if cb is None or "callback" not in cb:
        return "unknown output"
    if not _deps_match(body.get("inputs"), cb["inputs"]):
        return "inputs do not match the callback"
    if not _deps_match(body.get("state", []), cb["state"]):
        return "state does not match the callback"
    if "outputs" in body and not _deps_match(body["outputs"], _outputs(cb)):
        return "outputs do not match the callback"
    changed = body.get("changedPropIds", [])
    if not (isinstance(changed, list) and all(isinstance(c, str) for c in changed)):
        return "changedPropIds is not a list of strings"
    return None


def is_callback_request(app) -> bool:
    """The request in flight is a POST of one of app's callbacks (the renderer's update)."""
    return request.method == "POST" and request.path == app.config.routes_pathname_prefix + "_dash-update-component"


def register(app) -> None:
    @app.server.before_request
    def _refuse_malformed_callback():
        if not is_callback_request(app):
            return None
        why = problem(app, request.get_json(silent=True))
        if why is None:
            return None
        log.info("callback request refused (400): %s", why)  # no value of the request is logged
        return jsonify(error="bad_callback_request", message=f"Malformed callback request: {why}."), 400
