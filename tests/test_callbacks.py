"""Callbacks, called directly: the token gate, bad filters, an unreachable database, data."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from dash.exceptions import PreventUpdate

import callbacks.actions
import callbacks.advanced
import callbacks.agents
import callbacks.models
import callbacks.overview
import callbacks.session
import dashboard_data
import queries
from ai_usage.auth import mint_token
from ai_usage.db import QueryTimeout
from ai_usage.settings import Settings
from app import create_app
from layouts import figures

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
    rows, count, _, options = out["callbacks.agents"]
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


def test_gate_shows_the_org_and_timezone(app, token, org_id):
    with app.server.app_context():
        assert callbacks.session.gate(token, TZ) == (False, True, "", f"Zona horaria: {TZ}", f"Organización: {org_id}")
        with pytest.raises(PreventUpdate):
            callbacks.session.gate(token, None)  # the browser has not said its timezone yet


@pytest.mark.parametrize("args,message", [
    (("custom", "2026-06-10", "2026-06-01"), "La fecha de inicio es posterior a la de fin."),
    (("custom", "2024-01-01", "2025-12-31", "all", "hour"), "hasta 92 días"),
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
