"""What every data callback shares: the filter inputs, the token check, the database guard.

A data callback takes the filter bar and the browser's timezone as Inputs and the token
as State (memory store, never a cookie). `resolve()` verifies the token — the org comes
only from it — checks that every filter input is what the page sends (None or a short
string: a client can POST anything to /_dash-update-component) and parses the filters
with `queries.parse_filters`; when any of it fails the callback shows a message and runs
no query.

The comparison (contract §3.2, «Comparar con») rides in the view store ids.FILTER_SLICE
beside the slice, under the key `compare` (a string: previous | year): every section that
passes its slice to `resolve()` gets `scope.filters.compare` with no input of its own, and
a value the page would not send (a hand-edited URL) is the usual bad-filter message. `query()` turns database failures into `Unavailable`, which the sections show
as a state, never as a crash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from dash import Input, State
from dash.exceptions import PreventUpdate

from layouts import fmt, ids, skin
from layouts.i18n import N_, _
from layouts.states import DB_DOWN, DB_TIMEOUT, access_reason
from queries import BadParameter, Filters, freshness, parse_filters
from queries.filters import (
    MAX_DATE,
    MAX_HOURLY_DAYS,
    MAX_VALUE_CHARS,
    MAX_VALUES,
    MAX_YEARS,
    MIN_DATE,
    SLICE as SLICE_FIELDS,
)
from queries.rates import rate_in_force
from storage import execute
from storage.currencies import BASE, is_currency
from web import context
from web.auth import AuthError, verify_token

log = logging.getLogger("ai_usage.dashboard")

# The period comes from the applied stores, not the picker: the browser validates a typed range
# first (applyFilters in assets/dashboard.js), and a click that changes nothing queries nothing.
FILTERS = [
    Input(ids.APPLIED_PRESET, "data"),
    Input(ids.APPLIED_START, "data"),
    Input(ids.APPLIED_END, "data"),
    Input(ids.SOURCE, "value"),
    Input(ids.GRANULARITY, "value"),
    Input(ids.TIMEZONE, "data"),
]
TOKEN = State(ids.TOKEN, "data")
# The page's theme ('light' | 'dark', resolved in the browser from ?theme=, `auto` following
# prefers-color-scheme): an Input, so a live change of the system's scheme redraws the charts.
THEME = Input(ids.THEME, "data")
# The display currency (?currency=, put in a store at page load): an Input, so that the first
# round of callbacks waits for it. Callbacks list it after TOKEN and take it as `currency=None`.
CURRENCY = Input(ids.CURRENCY, "data")
# The slice (issue 9; ids.FILTER_SLICE): listed after CURRENCY (before THEME), taken as `sl=None`.
SLICE = Input(ids.FILTER_SLICE, "data")

MAX_INPUT = 64  # the longest filter value the page sends (IANA zone names reach 32)


NO_ACCESS = N_("Acceso no autorizado")
BAD_FILTERS = N_("Ajusta los filtros")
PARAM_MESSAGES = {  # BadParameter.code -> what the filter bar says (msgids; message() words them)
    "invalid_timezone": N_("La zona horaria del navegador no es válida; se necesita un nombre IANA."),
    "invalid_date": N_("Elige una fecha de inicio y una de fin."),
    "incomplete_window": N_("Elige una fecha de inicio y una de fin."),
    "invalid_window": N_("La fecha de inicio es posterior a la de fin."),
    "window_too_long": N_("El periodo máximo es de {years} años."),
    "date_out_of_range": N_("Las fechas deben estar entre el {first} y el {last}."),
    "zone_offset_out_of_range": N_(
        "Tu zona horaria no tenía entonces un desfase exacto de cuartos de hora con UTC: elige fechas más recientes."
    ),
    "too_many_buckets": N_(
        "La resolución por hora está disponible para periodos de hasta {days} días; se muestra por día."
    ),
    "invalid_input": N_("La página recibió filtros con un formato inesperado. Vuelve a elegirlos o recarga la página."),
    "too_many_values": N_("Demasiados valores en un filtro (máximo {values})."),
    "value_too_long": N_("Un valor de filtro es demasiado largo (máximo {chars} caracteres)."),
    "invalid_actionType": N_("Uno de los tipos de acción filtrados no existe."),
    "invalid_compare": N_("Esa comparación no existe: elige «Periodo anterior» o «Mismo periodo del año pasado»."),
}


def message(code: str) -> str:
    """PARAM_MESSAGES[code] in the page's language, its limits filled in."""
    text = _(PARAM_MESSAGES.get(code, N_("Los filtros no son válidos.")))
    return text.format(
        years=MAX_YEARS,
        first=fmt.long_day(MIN_DATE),
        last=fmt.long_day(MAX_DATE),
        days=MAX_HOURLY_DAYS,
        values=MAX_VALUES,
        chars=MAX_VALUE_CHARS,
    )


@dataclass(frozen=True)
class Scope:
    """The question a callback answers, or why it answers none (problem + message in the page's language)."""

    filters: Filters | None
    stamp: str
    problem: str | None = None  # auth | params
    message: str = ""
    notice: str = ""  # answered, with a caveat (Hora on a long window: shown by day)
    money: fmt.Money = fmt.USD  # the display currency (USD when none, unknown or without a rate)


class Unavailable(Exception):
    """The database could not answer (unreachable, failing, or past the time limit)."""

    def __init__(self, timeout: bool = False):
        super().__init__("timeout" if timeout else "unavailable")
        self.timeout = timeout
        self.message = _("Consulta cancelada por tiempo") if timeout else _("Datos no disponibles")
        self.detail = _(DB_TIMEOUT) if timeout else _(DB_DOWN)


def is_plain(value) -> bool:
    """A filter input as the page sends it: None or a string of at most MAX_INPUT characters."""
    return value is None or (isinstance(value, str) and len(value) <= MAX_INPUT)


COMPARE = "compare"  # the comparison's key in the view store (ids.FILTER_SLICE): a string


def slice_params(sl) -> dict[str, list[str]] | None:
    """The slice store's value as parse_filters parameters (API names -> lists of strings);
    None when it is not what the page writes (a client can POST anything). The comparison
    (key COMPARE) is not part of the slice: compare_param() reads it."""
    if sl is None or sl == {}:
        return {}
    if not isinstance(sl, dict) or not set(sl) <= {api for _f, api, _c in SLICE_FIELDS} | {COMPARE}:
        return None
    if not (sl.get(COMPARE) is None or is_plain(sl.get(COMPARE))):
        return None
    out = {}
    for api, values in sl.items():
        if values is None or api == COMPARE:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        if values:
            out[api] = values
    return out


def compare_param(sl) -> str | None:
    """The view store's comparison (None: none) as written; parse_filters checks its value."""
    value = sl.get(COMPARE) if isinstance(sl, dict) else None
    return value if isinstance(value, str) and value and is_plain(value) else None


def slice_key(sl) -> str:
    """The slice as it reads in a stamp: 'agentId=a,b;model=m' (sorted, distinct; '?' if forged).
    Values are percent-escaped where they could be mistaken for the separators."""
    params = slice_params(sl)
    if params is None:
        return "?"

    def esc(v: str) -> str:
        return v.replace("%", "%25").replace(",", "%2C").replace(";", "%3B").replace("|", "%7C").replace("=", "%3D")

    return ";".join(f"{api}={','.join(esc(v) for v in sorted(set(vs)))}" for api, vs in sorted(params.items()))


def stamp(preset, start, end, source, granularity, tz, sl=None) -> str:
    """The filter key a section shows, e.g. '30d|all|auto|Europe/Madrid' (dates only when custom),
    then '|agentId=a' with a slice, '|compare=previous' with a comparison; a value the page
    would never send reads '?' (nothing forged is echoed back)."""
    parts = [
        v if isinstance(v, str) and is_plain(v) else ("" if v is None else "?")
        for v in (preset, source, granularity, tz)
    ]
    if preset == "custom":
        parts[1:1] = [v if isinstance(v, str) and is_plain(v) else ("" if v is None else "?") for v in (start, end)]
    key = slice_key(sl)
    if key:
        parts.append(key)
    compare = compare_param(sl)
    if compare:
        parts.append(f"{COMPARE}={compare.replace('%', '%25').replace('|', '%7C')}")
    return "|".join(parts)


def claims_of(token):
    """The token's claims, or AuthError; a store holding no string (forged) is an invalid token."""
    if token is not None and not isinstance(token, str):
        raise AuthError(401, "invalid_token", "El token no es válido.")
    return verify_token(token, context.settings().secret)


def display_money(currency, today) -> tuple[fmt.Money, str | None]:
    """The display currency for `?currency=` on the page's `today` (local date): the rate in force
    (queries/rates.py), or USD and why not (an unknown code, no rate yet, the database down)."""
    if currency is None or currency == "" or currency == BASE:
        return fmt.USD, None
    if not (isinstance(currency, str) and len(currency) <= 16):
        return fmt.USD, _("La moneda pedida no es válida; los importes se muestran en dólares (US$).")
    code = currency.strip().upper()
    if code == BASE:
        return fmt.USD, None
    if not is_currency(code):
        return fmt.USD, _(
            "«{currency}» no es un código de moneda ISO 4217 (por ejemplo EUR o MXN); "
            "los importes se muestran en dólares (US$)."
        ).format(currency=currency)
    try:
        rate = query(lambda conn: rate_in_force(conn, code, today))
    except Unavailable:
        return fmt.USD, _("No se pudo leer la tasa de cambio; los importes se muestran en dólares (US$).")
    if rate is None:
        return fmt.USD, _(
            "No hay una tasa de cambio de {code} vigente: los importes se muestran en dólares (US$). "
            "La fija el operador del servidor (ai-usage rates set)."
        ).format(code=code)
    return fmt.Money(code, rate.units_per_usd, rate.as_of), None


def resolve(preset, start, end, source, granularity, tz, token, currency=None, sl=None) -> Scope:
    """Verify the token and parse the filters (the slice `sl` too); PreventUpdate until the
    browser's timezone is known."""
    if tz is None or tz == "":
        raise PreventUpdate
    key = stamp(preset, start, end, source, granularity, tz, sl)
    try:
        claims = claims_of(token)
    except AuthError as exc:
        # Worded for the person at the screen, by code (web/auth.py's messages are the server's).
        return Scope(None, key, "auth", _(NO_ACCESS) + ": " + access_reason(exc.code))
    sliced = slice_params(sl)
    if sliced is None or not all(is_plain(v) for v in (preset, start, end, source, granularity, tz)):
        return Scope(None, key, "params", message("invalid_input"))
    params: dict = {"timezone": tz, "source": source, "granularity": granularity, **sliced}
    params[COMPARE] = compare_param(sl)
    if preset == "custom" and not (start and end):
        return Scope(None, key, "params", message("incomplete_window"))
    if preset == "custom":
        params.update({"from": start, "to": end})
    else:
        params["preset"] = preset
    try:
        f = parse_filters(params, claims.org_id, now=context.now())
        return Scope(f, key, money=display_money(currency, f.today)[0])
    except BadParameter as exc:
        if exc.code == "too_many_buckets":
            # A resolution problem must not blank the cards, models or heatmap: answer by day.
            f = parse_filters({**params, "granularity": "day"}, claims.org_id, now=context.now())
            return Scope(f, key, notice=message(exc.code), money=display_money(currency, f.today)[0])
        return Scope(None, key, "params", message(exc.code))


def cache_row(frame) -> dict:
    """The cache_savings frame's one row as a dict, hit_rate None (not NaN) without input."""
    row = frame.iloc[0].to_dict()
    rate = row.get("hit_rate")
    row["hit_rate"] = None if rate is None or rate != rate else float(rate)
    return row


def query(fn, cache_as: str | None = None, f: Filters | None = None):
    """Run fn(connection) on the app's engine (storage.execute); database failures raise Unavailable.

    cache_as (with f): the section's data comes from the answer cache while the org's data
    has not moved (queries.freshness.cached_on); fn must depend on nothing but f then.

    A fault of the database (storage.execute.classify, as the API) shows its state; any
    other database error is a bug, logged with its traceback, and shows "unavailable" too:
    the page never crashes on a query."""
    try:
        if cache_as is None or f is None:
            return execute.execute(context.engine(), fn)
        return freshness.cached_on(context.engine(), context.cache(), cache_as, f, fn)[0]
    except execute.DatabaseFault as fault:
        log.log(fault.log_level, "dashboard query failed (%s): %s", fault.kind, fault.cause.__class__.__name__)
        raise Unavailable(fault.kind == execute.TIMEOUT) from fault
    except sa.exc.DBAPIError as exc:
        log.error("dashboard query failed (unexpected): %s", exc.__class__.__name__, exc_info=True)
        raise Unavailable(False) from exc


def themed(update):
    """`update` registered with common.THEME as its last input: its figures come back in the
    page's theme (layouts.skin), its own arguments and outputs unchanged."""

    def run(*args):
        *rest, theme_name = args
        return skin.dress_outputs(update(*rest), theme_name)

    run.__name__, run.__doc__, run.__wrapped__ = update.__name__, update.__doc__, update  # type: ignore[attr-defined]
    return run
