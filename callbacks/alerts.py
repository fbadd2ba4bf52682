"""«Alertas»: the token's org's alert events (alerts.outbox), in the browser's timezone."""

from __future__ import annotations

from dash import Input, Output
from dash.exceptions import PreventUpdate

from alerts import outbox
from layouts import alerts as layout, ids, states
from layouts.i18n import _
from web.auth import AuthError

from . import common, session

LIMIT = 20  # the newest events shown; GET /ai/org-usage/alerts lists more


def register(app) -> None:
    # A list of one Output (as the other sections): the guard and the renderer speak lists then.
    app.callback(
        [Output(ids.ALERTS_LIST, "children")],
        Input(ids.TOKEN, "data"),
        Input(ids.TIMEZONE, "data"),
    )(lambda token, tz: [update(token, tz)])


def update(token, tz):
    if tz is None or tz == "":
        raise PreventUpdate
    try:
        claims = common.claims_of(token)
    except AuthError as exc:
        return states.access_reason(exc.code)
    zone = tz if common.is_plain(tz) and session.is_zone(tz) else "UTC"
    try:
        events = common.query(lambda conn: outbox.events(conn, claims.org_id, LIMIT))
    except common.Unavailable as u:
        return u.message
    if not events:
        return layout.alert_list([], zone)
    return [layout.alert_list(events, zone)] + (
        [] if zone == tz else [_("Horas en UTC: la zona horaria del navegador no es válida.")]
    )
