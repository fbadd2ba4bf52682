"""The page in another currency (?currency=EUR): summed in USD, converted once when formatted.

On both engines: the cost card equals the pandas reference's USD total × the rate in force,
rounded once (half-even, to the cent); an unknown code or one without a rate leaves the page in
USD with a message; the agents grid keeps cost_usd (for the CSV) beside the converted cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
import sqlalchemy as sa
from support import dashboard_data, reference
from support.figspec import valid

import callbacks.agents
import callbacks.common
import callbacks.currency
import callbacks.overview
from app import create_app
from ingest.rates import write_rates
from layouts import fmt
from storage.currencies import Rate
from storage.schema import currency_rates
from storage.settings import Settings
from web.auth import mint_token

SECRET = "currency-test-secret-0123456789-abcdefgh"
TZ = "Europe/Madrid"
ARGS = ("30d", None, None, "all", "auto", TZ)


@pytest.fixture
def page(engine, org_id):
    dashboard_data.seed(engine, org_id)
    today = datetime.now(UTC).date()
    with engine.begin() as conn:
        conn.execute(sa.delete(currency_rates))
        write_rates(
            conn,
            [
                Rate("EUR", Decimal("0.5"), date(2020, 1, 1)),
                Rate("EUR", Decimal("0.9237"), today - timedelta(days=2)),  # in force
                Rate("EUR", Decimal("7"), today + timedelta(days=3)),  # future: waits
                Rate("JPY", Decimal("151.37"), today - timedelta(days=1)),  # no minor units
            ],
        )
    app = create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine)
    yield app, org_id, mint_token(SECRET, org_id)
    with engine.begin() as conn:
        conn.execute(sa.delete(currency_rates))


def _text(component) -> str:
    """The text of a Dash component tree, children joined."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


def test_converted_totals_equal_usd_totals_times_the_rate_rounded_once(engine, page):
    app, org_id, token = page
    with app.server.app_context():
        out = callbacks.overview.update(*ARGS, token, "EUR")
        f = callbacks.common.resolve(*ARGS, token).filters
    with engine.connect() as conn:
        ref = reference.summary(reference.load_rows(conn, org_id), reference.Window.of(f))
    usd = Decimal(ref["total_cost_e8"]) / Decimal(10**8)
    eur = (usd * Decimal("0.9237")).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert eur > 0
    card = _text(out[0])
    assert fmt.number(eur, 2) + " €" in card
    assert "US$" not in card
    # The trend's cost axis is in EUR too.
    fig = valid(out[4])
    assert fig.layout.yaxis2.ticksuffix == " €" and fig.layout.yaxis2.title.text == "Costo (EUR)"


def test_the_note_says_the_rate_and_its_date(page):
    app, _, token = page
    day = fmt.day(datetime.now(UTC).date() - timedelta(days=2))
    with app.server.app_context():
        note, foot = callbacks.currency.note("EUR", TZ, token)
    assert _text(note) == f"Importes en EUR a 0,9237 por USD (tasa del {day})." == foot


@pytest.mark.parametrize(
    ("code", "says"),
    [("XYZ", "no es un código de moneda ISO 4217"), ("MXN", "No hay una tasa de cambio de MXN vigente")],
)
def test_an_unknown_currency_or_one_without_a_rate_stays_in_usd(page, code, says):
    app, _, token = page
    with app.server.app_context():
        note, foot = callbacks.currency.note(code, TZ, token)
        card = _text(callbacks.overview.update(*ARGS, token, code)[0])
    assert says in _text(note) and "dólares (US$)" in _text(note)
    assert foot == "Importes en dólares estadounidenses (US$)."
    assert card.startswith("Costo total US$ ")


def test_the_agents_grid_keeps_usd_for_the_csv(page):
    app, _, token = page
    with app.server.app_context():
        rows, _, _, _, export, columns = callbacks.agents.update(*ARGS, token, "EUR")
    assert export["columnKeys"][2:4] == ["cost_usd", "cost_display"]
    shown = {c["field"]: c for c in columns if not c.get("hide")}
    assert shown["cost_display"]["headerName"] == "Costo (EUR)" and "cost_usd" not in shown
    for r in rows:
        assert r["cost_display"] == float(round(Decimal(str(r["cost_usd"])) * Decimal("0.9237"), 8))


def test_a_currency_without_cents_shows_whole_units_and_unit_costs_with_two_decimals(engine, page):
    """JPY has no minor units (ISO 4217): the card says «7.222 JPY», never «7.221,67 JPY»;
    the grid's cost column has no decimals and its cost per call two (the dollar's 4 − 2);
    the sparkline's hover is told the same (money_places)."""
    app, org_id, token = page
    with app.server.app_context():
        card = _text(callbacks.overview.update(*ARGS, token, "JPY")[0])
        f = callbacks.common.resolve(*ARGS, token).filters
        rows, _, _, _, _, columns = callbacks.agents.update(*ARGS, token, "JPY")
    with engine.connect() as conn:
        ref = reference.summary(reference.load_rows(conn, org_id), reference.Window.of(f))
    usd = Decimal(ref["total_cost_e8"]) / Decimal(10**8)
    yen = (usd * Decimal("151.37")).quantize(Decimal("1"), ROUND_HALF_EVEN)
    assert yen > 0 and fmt.number(yen, 0) + " JPY" in card, card
    shown = {c["field"]: c for c in columns if not c.get("hide")}
    assert shown["cost_display"]["valueFormatter"]["function"].endswith(", 0)")
    units = [c for f, c in shown.items() if f.endswith("_display") and f != "cost_display"]
    assert units and all(c["valueFormatter"]["function"].endswith(", 2)") for c in units)
    assert rows and all(r["money_places"] == 0 for r in rows)
