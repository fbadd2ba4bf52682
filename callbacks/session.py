"""Session: token and timezone into memory stores, the access gate, small browser-only toggles."""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State
from dash.exceptions import PreventUpdate

from ai_usage.auth import AuthError
from layouts import ids
from queries import BadParameter
from queries.filters import zone

from . import common


def register(app) -> None:
    # In the browser: ?token= and Intl's timezone into memory-only stores (no cookie, no storage).
    app.clientside_callback(ClientsideFunction("dashboard", "session"),
                            Output(ids.TOKEN, "data"), Output(ids.TIMEZONE, "data"),
                            Input(ids.URL, "search"), State(ids.TOKEN, "data"), State(ids.TIMEZONE, "data"))
    app.clientside_callback(ClientsideFunction("dashboard", "toggleDates"),
                            Output(ids.DATES_WRAP, "hidden"), Input(ids.PRESET, "value"))
    app.callback(
        Output(ids.DASHBOARD, "hidden"), Output(ids.ACCESS, "hidden"), Output(ids.ACCESS_DETAIL, "children"),
        Output(ids.TZ_LABEL, "children"), Output(ids.ORG_LABEL, "children"),
        Input(ids.TOKEN, "data"), Input(ids.TIMEZONE, "data"),
    )(gate)


def gate(token, tz):
    """Show the dashboard for a valid token, the access message otherwise."""
    if tz is None or tz == "":
        raise PreventUpdate
    try:
        claims = common.claims_of(token)
    except AuthError as exc:
        return True, False, exc.message, "", ""
    # A zone the page would never send is not echoed: the sections say what is wrong with it.
    label = f"Zona horaria: {tz}" if common.is_plain(tz) and is_zone(tz) else "Zona horaria no válida"
    return False, True, "", label, f"Organización: {claims.org_id}"


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except BadParameter:
        return False
    return True
