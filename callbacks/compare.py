"""«Comparar con» (contract §3.2): the control writes the comparison into the view store.

The comparison rides in ids.FILTER_SLICE beside the slice (key common.COMPARE), so every
section that reads the slice re-runs with `scope.filters.compare` set; the URL
(assets/view_url.js) restores both the control and the store, and a value the page would
not send reaches `common.resolve`, whose bad-filter banner names it.
"""

from __future__ import annotations

from dash import Input, Output, State, no_update

from layouts import ids

from . import common


def register(app) -> None:
    app.callback(
        Output(ids.FILTER_SLICE, "data", allow_duplicate=True),
        Input(ids.COMPARE, "value"),
        State(ids.FILTER_SLICE, "data"),
        prevent_initial_call=True,
    )(choose)


def choose(value, sl):
    """The store with the chosen comparison ('none': none), the slice as it is. The blank
    (''): no choice made — what the control shows for a URL's comparison it does not offer
    (assets/view_url.js), which stays in the store for the banner to name until one is chosen."""
    sl = sl if isinstance(sl, dict) else {}
    if value == "":
        return no_update
    want = value if isinstance(value, str) and value != "none" else None
    if sl.get(common.COMPARE) == want or (want is None and not sl.get(common.COMPARE)):
        return no_update
    out = {k: v for k, v in sl.items() if k != common.COMPARE}
    if want is not None:
        out[common.COMPARE] = want
    return out
