"""The Usuario select searches every user of the window (issue 9: an org has tens of thousands).

The page is sent the first callbacks.slice.USER_OPTIONS users by cost; what a person types
in the select is searched here among all of the window's users (org, period, source; no
slice), case-insensitively anywhere in the id («Sin usuario» by its label), the
SEARCH_LIMIT costliest matches listed. The values already chosen stay listed, so the select
never drops them. An empty search lists the first users again. Writes only the select's
options: nothing leads from here to the slice (docs/filters.md, the input loop).
"""

from __future__ import annotations

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from layouts import ids, slice as slice_layout
from queries.filters import MAX_VALUES

from . import common
from .slice import USER_OPTIONS, listed, window_users
from .slice_inputs import texts

SEARCH_LIMIT = 50  # matches listed for one search
MAX_SEARCH = 200  # characters of a search read (contract §3.1's longest value)


def register(app) -> None:
    app.callback(
        Output(ids.SLICE_USER, "options"),
        Input(ids.SLICE_USER, "search_value"),
        State(ids.SLICE_USER, "value"),
        State(ids.SLICE_USER, "options"),
        *(State(i.component_id, i.component_property) for i in common.FILTERS),
        common.TOKEN,
        State(ids.CURRENCY, "data"),
        prevent_initial_call=True,
    )(search)


def search(text, chosen, shown, preset, start, end, source, granularity, tz, token, currency=None):
    """The select's options for `text`: the costliest users matching it (all of the window's
    users searched), or the first USER_OPTIONS without text; the chosen values always listed."""
    if text is not None and not isinstance(text, str):
        raise PreventUpdate
    needle = (text or "").strip().casefold()
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency)
    if scope.problem or scope.filters is None:
        return []  # no access (the sections say why): nothing to list
    f = scope.filters
    try:
        everyone = window_users(f)
    except common.Unavailable:
        return no_update
    if not needle:
        found = everyone.iloc[:USER_OPTIONS]
    elif len(needle) > MAX_SEARCH:
        found = everyone.iloc[:0]
    else:
        none_label = slice_layout.value_label("userId", slice_layout.NONE).casefold()
        hit = [(needle in none_label) if v is None else (needle in str(v).casefold()) for v in everyone["value"]]
        found = everyone[hit].iloc[:SEARCH_LIMIT]
    options = listed(found, "userId", scope.money)
    values = {o["value"] for o in options}
    # The slice holds at most MAX_VALUES values of one filter: a forged value list is cut there.
    wanted = [v for v in dict.fromkeys(texts(chosen)) if v not in values][:MAX_VALUES]
    if wanted:  # chosen values outside the matches: their own option (with their cost, if any)
        keyed = {slice_layout.NONE if v is None else str(v): i for i, v in enumerate(everyone["value"])}
        rows = [keyed[v] for v in wanted if v in keyed]
        options += listed(everyone.iloc[rows], "userId", scope.money)
        options += [
            {
                "label": slice_layout.value_label("userId", v),
                "value": v,
                "search": slice_layout.value_label("userId", v),
            }
            for v in wanted
            if v not in keyed
        ]
    return no_update if options == shown else options
