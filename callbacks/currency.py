"""The display currency: `?currency=` into a store at page load, and the note that says at what rate.

Every data callback takes the store as its last Input (common.CURRENCY) and gets the rate in
force from common.resolve (Scope.money); amounts are summed in USD and converted only when
they are formatted. This module writes what the page says about it: «Importes en EUR a 0,92
por USD (tasa del 1 dic 2026)», or why the page stays in USD (an unknown code, no rate).
"""

from __future__ import annotations

from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from layouts import fmt, ids, states
from layouts.i18n import _
from web.auth import AuthError

from . import common

# In the browser, from the URL the page was opened with (like the token): no round trip.
FROM_URL = """function (_search, old) {
    var code = new URLSearchParams(window.location.search || "").get("currency");
    return code === old ? window.dash_clientside.no_update : code;
}"""


def register(app) -> None:
    app.clientside_callback(
        FROM_URL, Output(ids.CURRENCY, "data"), Input(ids.URL, "search"), State(ids.CURRENCY, "data")
    )
    app.callback(
        Output(ids.CURRENCY_NOTE, "children"),
        Output(ids.FOOT_CURRENCY, "children"),
        Input(ids.CURRENCY, "data"),
        Input(ids.TIMEZONE, "data"),
        common.TOKEN,
    )(note)


def note(currency, tz, token):
    """The note above the cards (rate and date, or why USD) and the footer's currency line."""
    if tz is None or tz == "":
        raise PreventUpdate
    try:
        common.claims_of(token)
    except AuthError:
        return None, fmt.USD.note()
    scope = common.resolve("7d", None, None, "all", "auto", tz, token)
    if scope.filters is None:  # a timezone the page would not send: the sections say so
        return None, fmt.USD.note()
    money, problem = common.display_money(currency, scope.filters.today)
    if problem:
        return states.banner(problem, "warning", _("Moneda no disponible.")), money.note()
    if money.is_usd:
        return None, money.note()
    return states.currency_note(money.note()), money.note()
