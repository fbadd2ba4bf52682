"""Session: token and timezone into memory stores, the access gate, small browser-only toggles."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State
from dash.exceptions import PreventUpdate

from layouts import ids, states
from layouts.i18n import _
from queries import BadParameter
from queries.filters import zone
from web.auth import AuthError

from . import common


def register(app) -> None:
    # In the browser: ?token= and Intl's timezone into memory-only stores (no cookie, no storage).
    app.clientside_callback(
        ClientsideFunction("dashboard", "session"),
        Output(ids.TOKEN, "data"),
        Output(ids.TIMEZONE, "data"),
        Input(ids.URL, "search"),
        State(ids.TOKEN, "data"),
        State(ids.TIMEZONE, "data"),
    )
    # ?theme= resolved in the browser ('auto' follows prefers-color-scheme, live: assets/dashboard.js
    # sets the store again when the system's scheme changes); the charts are drawn in it.
    app.clientside_callback(
        ClientsideFunction("dashboard", "theme"),
        Output(ids.THEME, "data"),
        Input(ids.URL, "search"),
        State(ids.THEME, "data"),
    )
    # The filter bar's period, validated in the browser before any section queries (see ids.APPLIED_*):
    # Personalizado opens on the dates on screen, a reversed or future-starting range is refused
    # with a message beside the inputs, Hora is disabled (and left for Día) past 92 days.
    app.clientside_callback(
        ClientsideFunction("dashboard", "applyFilters"),
        Output(ids.APPLIED_PRESET, "data"),
        Output(ids.APPLIED_START, "data"),
        Output(ids.APPLIED_END, "data"),
        Output(ids.DATES, "start_date"),
        Output(ids.DATES, "end_date"),
        Output(ids.DATES_WRAP, "hidden"),
        Output(ids.DATES_HINT, "children"),
        Output(ids.FILTER_NOTICE, "children"),
        Output(ids.GRANULARITY, "value"),
        Output(ids.GRANULARITY, "options"),
        Input(ids.PRESET, "value"),
        Input(ids.DATES, "start_date"),
        Input(ids.DATES, "end_date"),
        # An Input so that choosing another resolution clears a stale notice.
        Input(ids.GRANULARITY, "value"),
        State(ids.APPLIED_PRESET, "data"),
        State(ids.APPLIED_START, "data"),
        State(ids.APPLIED_END, "data"),
        State(ids.GRANULARITY, "options"),
    )
    app.callback(
        Output(ids.DASHBOARD, "hidden"),
        Output(ids.ACCESS, "hidden"),
        Output(ids.ACCESS_DETAIL, "children"),
        Output(ids.TZ_LABEL, "children"),
        Output(ids.ORG_LABEL, "children"),
        Input(ids.TOKEN, "data"),
        Input(ids.TIMEZONE, "data"),
    )(gate)


def gate(token, tz):
    """Show the dashboard for a valid token, the access message otherwise."""
    if tz is None or tz == "":
        raise PreventUpdate
    try:
        claims = common.claims_of(token)
    except AuthError as exc:
        return True, False, states.access_reason(exc.code), "", ""
    # A zone the page would never send is not echoed: the sections say what is wrong with it.
    label = (
        _("Zona horaria: {zone}").format(zone=tz)
        if common.is_plain(tz) and is_zone(tz)
        else _("Zona horaria no válida")
    )
    return False, True, "", label, _("Organización: {org}").format(org=claims.org_id)


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except BadParameter:
        return False
    return True
