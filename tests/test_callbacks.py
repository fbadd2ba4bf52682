"""Callbacks, called directly: the token gate, bad filters, an unreachable database, data."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import dashboard_data
import pandas as pd
import pytest
import sqlalchemy as sa
from dash.exceptions import PreventUpdate

import callbacks.actions
import callbacks.advanced
import callbacks.agents
import callbacks.common
import callbacks.models
import callbacks.overview
import callbacks.session
import queries
from app import create_app
from layouts import figures
from storage.engine import QueryTimeout
from storage.settings import Settings
from web.auth import mint_token

SECRET = "callback-test-secret-0123456789-abcdef"
TZ = "Europe/Madrid"
SECTIONS = [callbacks.overview.update, callbacks.agents.update]


def filters(preset="30d", start=None, end=None, source="all", granularity="auto", tz=TZ):
    return [preset, start, end, source, granularity, tz]


def run_all(app, token, *args):
    """Every data callback for the same filters: {name: outputs}."""
    f = filters(*args) if args else filters()
    with app.server.app_context():
        out = {fn.__module__: fn(*f, token) for fn in SECTIONS}
        out["actions"] = callbacks.actions.update(*f, "cost_usd", token)
        out["callbacks.models"] = callbacks.models.update(*f, "cost", "linear", token)
        out["advanced"] = callbacks.advanced.update(*f, True, token)
    return out


class Counter:
    def __init__(self, engine):
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self)

    def __call__(self, *a, **k):
        self.n += 1


@pytest.fixture
def app(engine, org_id):
    dashboard_data.seed(engine, org_id)
    return create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine)


@pytest.fixture
def token(org_id):
    return mint_token(SECRET, org_id)


def test_a_valid_token_gets_every_section(app, token):
    out = run_all(app, token)
    cost, tokens, cache, proj, fig, note, banner, window, stamp, trend_stamp = out["callbacks.overview"]
    assert stamp == trend_stamp == f"30d|all|auto|{TZ}" and banner is None and "Día (auto)" in window
    assert "US$" in str(cost) and "ejecuciones" in str(cost) and "parcial" in str(cache)
    assert len(fig.data) >= 2 and not figures.is_empty(fig) and "proyect" in note
    rows, count, _, options, export = out["callbacks.agents"]
    assert re.fullmatch(r"consumo-por-agente_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d_todos\.csv", export["fileName"])
    assert export["processCellCallback"] == {"function": "csvSafeCell(params)"}
    assert options.to_plotly_json()["operations"][0]["params"]["value"] == {"message": "Sin datos en este periodo"}
    assert {r["name"] for r in rows} >= {"Asistente de Ventas", "Soporte Técnico", "Revisión Legal", "Sin agente"}
    assert count == "4 filas"
    bars, bubble, note, key, title, _ = out["callbacks.models"]
    assert "text-embedding-3-small" in str(note)  # never reports a latency: listed, not drawn
    heat, split, table, cache_detail, stamp = out["advanced"]
    assert len(heat.data[0].z) == 24 and "BYOK" in str(table) and stamp.startswith("30d|")


@pytest.mark.parametrize("bad", [None, "", "not-a-jwt", "forged", "expired", "no-policy"])
def test_without_a_valid_token_no_query_runs(app, engine, org_id, bad):
    token = {"forged": mint_token("another-secret-0123456789-0123456789", org_id),
             "expired": mint_token(SECRET, org_id, ttl=timedelta(seconds=-60)),
             "no-policy": mint_token(SECRET, org_id, policies=())}.get(bad, bad)
    counter = Counter(engine)
    out = run_all(app, token)
    assert counter.n == 0
    assert "Acceso no autorizado" in str(out["callbacks.overview"][0])
    assert "caducado" in str(out["callbacks.overview"][6])
    assert out["callbacks.agents"][0] == []
    with app.server.app_context():
        dashboard_hidden, access_hidden, detail, tz_label, org = callbacks.session.gate(token, TZ)
    assert dashboard_hidden is True and access_hidden is False and detail and org == ""
    # Words for a person: what happened, never the HTTP header syntax.
    assert "Bearer" not in detail and "token" not in detail.lower() and "enlace" in detail
    if bad == "expired":
        assert "caducado" in detail


def test_gate_shows_the_org_and_timezone(app, token, org_id):
    with app.server.app_context():
        assert callbacks.session.gate(token, TZ) == (False, True, "", f"Zona horaria: {TZ}", f"Organización: {org_id}")
        with pytest.raises(PreventUpdate):
            callbacks.session.gate(token, None)  # the browser has not said its timezone yet


@pytest.mark.parametrize("args,message", [
    (("custom", "2026-06-10", "2026-06-01"), "La fecha de inicio es posterior a la de fin."),
    (("custom", None, None), "Elige una fecha"),
    (("custom", "1960-01-01", "1960-01-31"), "entre el 1 de enero de 1970"),
    (("30d", None, None, "all", "auto", "Mars/Olympus"), "zona horaria"),
])
def test_bad_filters_explain_themselves_and_query_nothing(app, engine, token, args, message):
    counter = Counter(engine)
    out = run_all(app, token, *args)
    assert counter.n == 0
    assert message in str(out["callbacks.overview"][6])
    assert figures.is_empty(out["callbacks.overview"][4])


def test_an_unreachable_database_is_a_banner_not_a_crash(tmp_path, token):
    down = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2})
    app = create_app(Settings(database_url="sqlite://", secret=SECRET), engine=down)
    out = run_all(app, token)
    assert "Base de datos no disponible" in str(out["callbacks.overview"][6])
    assert "Datos no disponibles" in str(out["callbacks.overview"][0])
    fig = out["callbacks.overview"][4]
    assert figures.is_empty(fig) and "Datos no disponibles" in fig.layout.annotations[0].text
    assert out["callbacks.agents"][0] == [] and "base de datos" in out["callbacks.agents"][1]
    # The empty grid says the data is unavailable, not 'Sin datos en este periodo'.
    patch = out["callbacks.agents"][3].to_plotly_json()["operations"][0]
    assert patch["location"] == ["noRowsOverlayComponentParams"] and patch["params"]["value"] == {
        "message": "Datos no disponibles"}


def test_a_query_past_the_time_limit_says_so(app, token, monkeypatch):
    def slow(conn, f):
        raise QueryTimeout("statement timeout")

    monkeypatch.setattr(queries, "summary", slow)
    banner = run_all(app, token)["callbacks.overview"][6]
    assert "Consulta cancelada" in str(banner)


def test_advanced_runs_nothing_while_collapsed(app, engine, token):
    counter = Counter(engine)
    with app.server.app_context(), pytest.raises(PreventUpdate):
        callbacks.advanced.update(*filters(), False, token)
    assert counter.n == 0


def test_an_org_without_rows_shows_empty_states(engine, org_id):
    app = create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine)
    out = run_all(app, mint_token(SECRET, org_id))
    assert "Sin datos en este periodo" in str(out["callbacks.overview"][0])
    assert "No hay uso registrado en este periodo" in str(out["callbacks.overview"][6])
    assert "Datos insuficientes" in str(out["callbacks.overview"][3])
    assert figures.is_empty(out["callbacks.overview"][4]) and out["callbacks.agents"][0] == []


# ------------------------------------------------------------------ the clock (issue 8 §1)

FIRST_OF_MONTH = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # 10:30 in Madrid, Sunday 1 November


@pytest.fixture
def clocked(engine, org_id):
    """The app seen at FIRST_OF_MONTH, over 40 days of data up to that instant."""
    dashboard_data.seed(engine, org_id, now=FIRST_OF_MONTH)
    return create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine,
                      clock=lambda: FIRST_OF_MONTH)


def test_a_range_into_the_future_draws_nothing_after_now(clocked, token):
    out = run_all(clocked, token, "custom", "2026-10-20", "2026-11-15", "all", "day")
    fig = out["callbacks.overview"][4]
    cost = fig.data[1]
    assert str(pd.Timestamp(cost.x[-1]).date()) == "2026-11-01" and len(cost.x) == 13  # no zeros to come
    assert fig.layout.meta["partial"] == [12]  # today, in progress: hollow, dotted
    area = out["actions"][0]
    assert {str(pd.Timestamp(v).date()) for t in area.data for v in t.x if v is not None} <= {
        f"2026-10-{d}" for d in range(20, 32)} | {"2026-11-01"}
    assert {len(r["sparkline"]) for r in out["callbacks.agents"][0]} == {13}
    assert "US$" in str(out["callbacks.overview"][3])  # a projection of November, not "Datos insuficientes"


def test_first_of_the_month_projection_is_compact_and_its_note_says_so(clocked, token):
    cost, tokens, cache, proj, fig, note, *_ = run_all(clocked, token)["callbacks.overview"]
    drawn = fig.layout.meta["projection"]
    assert drawn["mode"] == "band" and drawn["current"] and drawn["shown"] == 10 and drawn["hidden"] == 19
    assert "10 nov 2026" not in note and "11 nov 2026" in note and "Los 19 días siguientes" in note
    assert "Noviembre de 2026" in str(proj)


def test_a_past_month_is_closed_on_the_card_and_in_the_note(clocked, token):
    cost, tokens, cache, proj, fig, note, *_ = run_all(clocked, token, "custom", "2026-10-05", "2026-10-25")[
        "callbacks.overview"]
    assert "Octubre de 2026 (cerrado): US$ " in str(proj)
    assert note.startswith("Octubre de 2026 está cerrado: costó US$ ")
    assert fig.layout.meta["projection"]["mode"] == "none"


def test_hora_on_a_long_window_answers_by_day_and_blanks_nothing(app, token):
    """A resolution problem is not a reason to blank the cards, the models or the heatmap."""
    today = date.today()  # the test data is the 40 days before now
    start, end = (today - timedelta(days=200)).isoformat(), (today + timedelta(days=1)).isoformat()
    out = run_all(app, token, "custom", start, end, "all", "hour")
    cost, tokens, cache, proj, fig, *_ = out["callbacks.overview"]
    assert "US$" in str(cost) and "—" not in str(cost)
    assert not figures.is_empty(fig)
    bars, bubble, *_ = out["callbacks.models"]
    assert not figures.is_empty(bars)
    heat, split, table, detail, stamp = out["advanced"]
    assert not figures.is_empty(heat) and "BYOK" in str(table)
    assert stamp == f"custom|{start}|{end}|all|hour|{TZ}"  # the filter bar's key, answered by day
    with app.server.app_context():
        scope = callbacks.common.resolve("custom", start, end, "all", "hour", TZ, token)
    assert scope.filters.granularity == "day" and "92 días" in scope.notice
