"""Presupuesto: the budget panel, the projection card's budget lines, the editor, the save, and
the trend's «Acumulado» view (issue 10).

Who may edit is decided here, on the server, from the verified token in the TOKEN store
(`ai.agent:write` among its policies): the editor is rendered only for such a token, and
the save checks the token again before writing (a forged click from a reader's page writes
nothing). A save goes through the API's own validation (queries/budget.py parse_settings
with alerts/urls.py's webhook rule) and store (one transaction with its change row); a
refused field is shown inline, in the page's language, and nothing is written.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from alerts.urls import allow_hosts, check_url
from layouts import budget as view, figures, ids
from layouts.figures.budget import burn_down
from layouts.i18n import _
from queries import BadParameter, projection
from queries.budget import history, load_settings, parse_settings, probability_over_budget, save_settings
from queries.burndown import burn_down as burn_down_data
from queries.filters import zone
from storage import execute
from web import context
from web.auth import WRITE_POLICY, AuthError

from . import common, stale

log = logging.getLogger("ai_usage.dashboard")
VERSION = Input(ids.BUDGET_VERSION, "data")
MAX_TEXT = 2100  # the longest form value read (a webhook URL is at most 2000)


def register(app) -> None:
    app.callback(
        Output(ids.BUDGET_SUMMARY, "children"),
        Output(ids.BUDGET_HISTORY, "children"),
        Output(ids.KPI_BUDGET, "children"),
        Output(ids.SEC_BUDGET, "data-stamp"),
        *common.FILTERS,
        VERSION,
        common.TOKEN,
        common.CURRENCY,
    )(panel)
    app.callback(
        Output(ids.BUDGET_EDITOR, "hidden"),
        Output(ids.BUDGET_AMOUNT, "value"),
        Output(ids.BUDGET_THRESHOLDS, "value"),
        Output(ids.BUDGET_WEBHOOK, "value"),
        Input(ids.TOKEN, "data"),
        VERSION,
    )(editor)
    app.callback(
        Output(ids.BUDGET_STATUS, "children"),
        Output(ids.BUDGET_VERSION, "data"),
        Input(ids.BUDGET_SAVE, "n_clicks"),
        State(ids.BUDGET_AMOUNT, "value"),
        State(ids.BUDGET_THRESHOLDS, "value"),
        State(ids.BUDGET_WEBHOOK, "value"),
        State(ids.TOKEN, "data"),
        State(ids.TIMEZONE, "data"),
        State(ids.BUDGET_VERSION, "data"),
        prevent_initial_call=True,
    )(save)
    # A single output declared as a list: every server callback answers a list (callbacks/guard.py).
    # Choosing «Acumulado» runs it; while it is shown, its «stale» store does (callbacks/stale.py):
    # a filter change while «Por periodo» is shown sends it no request.
    app.callback(
        [Output(ids.TREND_CUMULATIVE, "figure")],
        Input(ids.TREND_CUMULATIVE_STALE, "data"),
        *[stale.as_state(d) for d in common.FILTERS],
        Input(ids.TREND_VIEW, "value"),
        stale.as_state(VERSION),
        common.TOKEN,
        stale.as_state(common.CURRENCY),
        stale.as_state(common.THEME),
    )(stale.skipping_first(common.themed(cumulative)))
    # Which of the trend's two views is shown: in the browser, no round trip.
    app.clientside_callback(
        "function(v) { var c = v === 'cumulative'; return [c, !c]; }",
        Output(ids.TREND_PERIOD_WRAP, "hidden"),
        Output(ids.TREND_CUMULATIVE_WRAP, "hidden"),
        Input(ids.TREND_VIEW, "value"),
    )


def cumulative_view() -> stale.View:
    """«Acumulado»'s «stale» store: bumped while that view is shown and its inputs move."""
    watched = [*common.FILTERS, VERSION, common.CURRENCY, common.THEME]
    return (ids.TREND_CUMULATIVE_STALE, watched, State(ids.TREND_VIEW, "value"), "cumulative")


def _month(scope):
    """Settings, change log and the window's projection (cached with the window's answers)."""
    f = scope.filters
    settings, changes = common.query(lambda conn: (load_settings(conn, f.org_id), history(conn, f.org_id)))
    p = common.query(lambda conn: projection(conn, f), "page:budget-projection", f)
    return settings, changes, p


def panel(preset, start, end, source, granularity, tz, _version, token, currency=None):
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency)
    if scope.problem:
        return scope.message, "", "", scope.stamp
    try:
        settings, changes, p = _month(scope)
    except common.Unavailable as u:
        return u.message, "", "", scope.stamp
    claims = common.claims_of(token)
    assert scope.filters is not None  # resolve() gives filters whenever there is no problem
    budget = settings.monthly_budget_usd
    prob = probability_over_budget(p, budget)
    line = view.kpi_line(None if budget is None else float(budget), p.projected_total_usd, prob, p.status, scope.money)
    return (
        view.summary(settings, claims.may(WRITE_POLICY), scope.money),
        view.history(changes, scope.filters.tz, scope.money),
        line,
        scope.stamp,
    )


def _writer(token):
    """The verified claims of a token that may change the budget, else None."""
    try:
        claims = common.claims_of(token)
    except AuthError:
        return None
    return claims if claims.may(WRITE_POLICY) else None


def editor(token, _version):
    """The form shown and filled for a writer; hidden and empty for anyone else."""
    claims = _writer(token)
    if claims is None:
        return True, "", "", ""  # a reader (or no valid token): no editor, no values
    try:
        settings = common.query(lambda conn: load_settings(conn, claims.org_id))
    except common.Unavailable:
        return True, "", "", ""
    return (False, *view.editor_values(settings))


def _form_value(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadParameter("body", "not a form value")
    text = str(value).replace("\u00a0", " ").strip()
    if len(text) > MAX_TEXT:
        raise BadParameter("body", "too long")
    return text


def _number(text: str):
    """A number as typed on a Spanish or English page: 1500 · 1500,5 · 1.500,50 · 1,500.50.
    What does not read as one is passed on as text, for the validation to refuse."""
    t = text.replace(" ", "")
    if "," in t and "." in t:
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    elif "," in t:
        t = t.replace(",", ".")
    try:
        return Decimal(t) if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", t) else text
    except InvalidOperation:
        return text


def form_body(amount, thresholds, webhook, tz) -> dict:
    """The form as the PUT body the API would receive (thresholds typed in %, sent as fractions)."""
    a, t, w = _form_value(amount), _form_value(thresholds), _form_value(webhook)
    body: dict = {"monthlyBudgetUsd": None if not a else _number(a), "webhookUrl": w or None}
    if t is not None:
        parts = [p for p in re.split(r"[\s;]+", t) if p]
        values = [_number(p) for p in parts]
        body["thresholds"] = [v / 100 if isinstance(v, Decimal) else v for v in values]
    if isinstance(tz, str) and len(tz) <= common.MAX_INPUT:
        try:
            zone(tz)
            body["timezone"] = tz
        except BadParameter:
            pass
    return body


def save(n_clicks, amount, thresholds, webhook, token, tz, version):
    if not n_clicks:
        raise PreventUpdate
    claims = _writer(token)
    if claims is None:
        return view.refused_access(), no_update
    try:
        body = form_body(amount, thresholds, webhook, tz)
        current = common.query(lambda conn: load_settings(conn, claims.org_id))
        allowed = allow_hosts(context.settings().webhook_allow_hosts)
        new = parse_settings(body, current, lambda url: check_url(url, allowed))
    except BadParameter as e:
        return view.refused(e.parameter), no_update
    except common.Unavailable as u:
        return u.message, no_update
    try:
        save_settings(context.engine(), claims.org_id, new, claims.sub, context.now())
    except (execute.DatabaseFault, sa.exc.DBAPIError) as exc:
        log.warning("budget save failed: %s", exc.__class__.__name__)
        return _("No se pudo guardar el presupuesto: la base de datos no responde. Inténtalo de nuevo."), no_update
    return view.saved(), (version if isinstance(version, int) and not isinstance(version, bool) else 0) + 1


def cumulative(preset, start, end, source, granularity, tz, trend_view, _version, token, currency=None):
    """The «Acumulado» figure, drawn only while that view is chosen."""
    if trend_view != "cumulative":
        raise PreventUpdate
    scope = common.resolve(preset, start, end, source, granularity, tz, token, currency)
    if scope.problem:
        return [figures.empty(scope.message, view.HEIGHT)]
    f = scope.filters
    assert f is not None  # resolve() gives filters whenever there is no problem
    try:
        settings, _changes, p = _month(scope)
        bd = common.query(lambda conn: burn_down_data(conn, f, p))
    except common.Unavailable as u:
        return [figures.empty(u.message, view.HEIGHT, u.detail)]
    budget = settings.monthly_budget_usd
    return [burn_down(bd, None if budget is None else float(budget), view.HEIGHT, scope.money)]
