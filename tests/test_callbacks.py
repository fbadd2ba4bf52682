"""Callbacks, called directly: the token gate, bad filters, an unreachable database, data."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from dash.exceptions import PreventUpdate
from support import dashboard_data
from support.figspec import valid

import callbacks.actions
import callbacks.advanced
import callbacks.agents
import callbacks.common
import callbacks.models
import callbacks.overview
import callbacks.session
import queries
from app import create_app
from layouts import figures, textdom
from storage.engine import QueryTimeout
from storage.settings import Settings
from web.auth import mint_token

SECRET = "callback-test-secret-0123456789-abcdef"
TZ = "Europe/Madrid"


def filters(preset="30d", start=None, end=None, source="all", granularity="auto", tz=TZ):
    return [preset, start, end, source, granularity, tz]


def outputs(app, fn) -> list[str]:
    """The Outputs `fn` is registered with, as "component-id.property", in order."""

    def wraps_fn(f) -> bool:  # Dash's wrapper, then callbacks.common.themed's, then fn
        while f is not None and f is not fn:
            f = getattr(f, "__wrapped__", None)
        return f is fn

    keys = [k for k, v in app.callback_map.items() if wraps_fn(getattr(v.get("callback"), "__wrapped__", None))]
    assert len(keys) == 1, f"{fn.__module__}.{fn.__name__} is registered {len(keys)} times"
    key = keys[0]
    return key[2:-2].split("...") if key.startswith("..") else [key]  # Dash's key of a multi-output callback


def named(app, fn, *args) -> dict:
    """Call a callback as Dash would and name what it returns: {"component-id.property": value}."""
    result = fn(*args)
    names = outputs(app, fn)
    if len(names) == 1:
        return {names[0]: result}
    assert len(result) == len(names), (names, result)
    return dict(zip(names, result))


def run_all(app, token, *args):
    """Every data callback for the same filters: {"component-id.property": value}."""
    f = filters(*args) if args else filters()
    with app.server.app_context():
        return {
            **named(app, callbacks.overview.update, *f, token),
            **named(app, callbacks.agents.update, *f, token),
            **named(app, callbacks.actions.update, *f, "cost_usd", token),
            **named(app, callbacks.models.update, *f, "cost", "linear", "avg", token),
            **named(app, callbacks.advanced.update, *f, True, token),
        }


def gate(app, token, tz):
    with app.server.app_context():
        return named(app, callbacks.session.gate, token, tz)


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
    stamp = f"30d|all|auto|{TZ}"
    assert out["section-kpis.data-stamp"] == out["section-trend.data-stamp"] == stamp
    assert out["status-banner.children"] is None and "Día (auto)" in out["window-label.children"]
    cost = str(out["kpi-cost.children"])
    assert "US$" in cost and "ejecuciones" in cost and "parcial" in str(out["kpi-cache.children"])
    fig = out["trend-graph.figure"]
    assert len(valid(fig).data) >= 2 and not figures.is_empty(fig) and "proyect" in out["trend-note.children"]
    rows, count = out["agents-grid.rowData"], out["agents-count.children"]
    options, export = out["agents-grid.dashGridOptions"], out["agents-grid.csvExportParams"]
    assert re.fullmatch(r"consumo-por-agente_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d_todos\.csv", export["fileName"])
    assert export["processCellCallback"] == {"function": "csvSafeCell(params)"}
    assert options.to_plotly_json()["operations"][0]["params"]["value"] == {"message": "Sin datos en este periodo"}
    assert {r["name"] for r in rows} >= {"Asistente de Ventas", "Soporte Técnico", "Revisión Legal", "Sin agente"}
    assert count == "4 filas"
    assert "text-embedding-3-small" in str(out["models-note.children"])  # never reports a latency: listed, not drawn
    # The bubbles' key: a textdom tree that assets/textdom.js draws, then stamps the section.
    key = out["models-key-view.data"]
    assert key["host"] == "models-key" and key["stamp"] == out["section-models.data-answered"] == stamp
    nums = [textdom.text(n) for n in textdom.by_class(key["tree"], "bubble-num")]
    assert nums and nums == [str(i) for i in range(1, len(nums) + 1)]
    assert "text-embedding-3-small" not in textdom.text(key["tree"])
    assert len(valid(out["advanced-heatmap.figure"]).data[0].z) == 24
    assert "BYOK" in str(out["advanced-source-split-table.children"])
    assert out["section-advanced.data-stamp"].startswith("30d|")


@pytest.mark.parametrize("bad", [None, "", "not-a-jwt", "forged", "expired", "no-policy"])
def test_without_a_valid_token_no_query_runs(app, engine, org_id, bad):
    token = {
        "forged": mint_token("another-secret-0123456789-0123456789", org_id),
        "expired": mint_token(SECRET, org_id, ttl=timedelta(seconds=-60)),
        "no-policy": mint_token(SECRET, org_id, policies=()),
    }.get(bad, bad)
    counter = Counter(engine)
    out = run_all(app, token)
    assert counter.n == 0
    assert "Acceso no autorizado" in str(out["kpi-cost.children"])
    assert "caducado" in str(out["status-banner.children"])
    assert out["agents-grid.rowData"] == []
    shown = gate(app, token, TZ)
    detail = shown["access-denied-detail.children"]
    assert shown["dashboard.hidden"] is True and shown["access-denied.hidden"] is False and detail
    assert shown["org-label.children"] == ""
    # Words for a person: what happened, never the HTTP header syntax.
    assert "Bearer" not in detail and "token" not in detail.lower() and "enlace" in detail
    if bad == "expired":
        assert "caducado" in detail


def test_gate_shows_the_org_and_timezone(app, token, org_id):
    assert gate(app, token, TZ) == {
        "dashboard.hidden": False,
        "access-denied.hidden": True,
        "access-denied-detail.children": "",
        "tz-label.children": f"Zona horaria: {TZ}",
        "org-label.children": f"Organización: {org_id}",
    }
    with app.server.app_context(), pytest.raises(PreventUpdate):
        callbacks.session.gate(token, None)  # the browser has not said its timezone yet


@pytest.mark.parametrize(
    "args,message",
    [
        (("custom", "2026-06-10", "2026-06-01"), "La fecha de inicio es posterior a la de fin."),
        (("custom", None, None), "Elige una fecha"),
        (("custom", "1960-01-01", "1960-01-31"), "entre el 1 de enero de 1970"),
        (("30d", None, None, "all", "auto", "Mars/Olympus"), "zona horaria"),
    ],
)
def test_bad_filters_explain_themselves_and_query_nothing(app, engine, token, args, message):
    counter = Counter(engine)
    out = run_all(app, token, *args)
    assert counter.n == 0
    assert message in str(out["status-banner.children"])
    assert figures.is_empty(out["trend-graph.figure"])


def test_an_unreachable_database_is_a_banner_not_a_crash(tmp_path, token):
    down = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2})
    app = create_app(Settings(database_url="sqlite://", secret=SECRET), engine=down)
    out = run_all(app, token)
    assert "Base de datos no disponible" in str(out["status-banner.children"])
    assert "Datos no disponibles" in str(out["kpi-cost.children"])
    fig = out["trend-graph.figure"]
    assert figures.is_empty(fig) and "Datos no disponibles" in valid(fig).layout.annotations[0].text
    assert out["agents-grid.rowData"] == [] and "base de datos" in out["agents-count.children"]
    # The empty grid says the data is unavailable, not 'Sin datos en este periodo'.
    patch = out["agents-grid.dashGridOptions"].to_plotly_json()["operations"][0]
    assert patch["location"] == ["noRowsOverlayComponentParams"] and patch["params"]["value"] == {
        "message": "Datos no disponibles"
    }


def test_a_database_without_tables_is_unavailable_like_the_api(tmp_path, token, caplog):
    """No migrations run: the page says "Datos no disponibles" (the API: 503 database_unavailable),
    and the log says it at ERROR, since it will not pass by itself."""
    import logging

    from storage.engine import make_engine

    empty = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    app = create_app(Settings(database_url=str(empty.url), secret=SECRET), engine=empty)
    with caplog.at_level(logging.WARNING, logger="ai_usage.dashboard"):
        out = run_all(app, token)
    assert "Datos no disponibles" in str(out["kpi-cost.children"])
    assert any(r.levelno == logging.ERROR and "schema_missing" in r.getMessage() for r in caplog.records)
    empty.dispose()


def test_a_query_past_the_time_limit_says_so(app, token, monkeypatch):
    def slow(conn, f):
        raise QueryTimeout("statement timeout")

    monkeypatch.setattr(queries, "summary", slow)
    banner = run_all(app, token)["status-banner.children"]
    assert "Consulta cancelada" in str(banner)


def test_advanced_runs_nothing_while_collapsed(app, engine, token):
    counter = Counter(engine)
    with app.server.app_context(), pytest.raises(PreventUpdate):
        callbacks.advanced.update(*filters(), False, token)
    assert counter.n == 0


def test_an_org_without_rows_shows_empty_states(engine, org_id):
    app = create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine)
    out = run_all(app, mint_token(SECRET, org_id))
    assert "Sin datos en este periodo" in str(out["kpi-cost.children"])
    assert "No hay uso registrado en este periodo" in str(out["status-banner.children"])
    assert "Datos insuficientes" in str(out["kpi-projection.children"])
    assert figures.is_empty(out["trend-graph.figure"]) and out["agents-grid.rowData"] == []


# ------------------------------------------------------------------ the clock (issue 8 §1)

FIRST_OF_MONTH = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # 10:30 in Madrid, Sunday 1 November


@pytest.fixture
def clocked(engine, org_id):
    """The app seen at FIRST_OF_MONTH, over 40 days of data up to that instant."""
    dashboard_data.seed(engine, org_id, now=FIRST_OF_MONTH)
    return create_app(
        Settings(database_url=str(engine.url), secret=SECRET), engine=engine, clock=lambda: FIRST_OF_MONTH
    )


def test_a_range_into_the_future_draws_nothing_after_now(clocked, token):
    out = run_all(clocked, token, "custom", "2026-10-20", "2026-11-15", "all", "day")
    fig = valid(out["trend-graph.figure"])
    cost = fig.data[1]
    assert str(pd.Timestamp(cost.x[-1]).date()) == "2026-11-01" and len(cost.x) == 13  # no zeros to come
    assert fig.layout.meta["partial"] == [12]  # today, in progress: hollow, dotted
    area = valid(out["actions-area.figure"])
    assert {str(pd.Timestamp(v).date()) for t in area.data for v in t.x if v is not None} <= {
        f"2026-10-{d}" for d in range(20, 32)
    } | {"2026-11-01"}
    assert {len(r["sparkline"]) for r in out["agents-grid.rowData"]} == {13}
    assert "US$" in str(out["kpi-projection.children"])  # a projection of November, not "Datos insuficientes"


def test_first_of_the_month_projection_is_compact_and_its_note_says_so(clocked, token):
    out = run_all(clocked, token)
    note, proj = out["trend-note.children"], out["kpi-projection.children"]
    drawn = valid(out["trend-graph.figure"]).layout.meta["projection"]
    assert drawn["mode"] == "band" and drawn["current"] and drawn["shown"] == 10 and drawn["hidden"] == 19
    assert "10 nov 2026" not in note and "11 nov 2026" in note and "Los 19 días siguientes" in note
    assert "Noviembre de 2026" in str(proj)


def test_a_past_month_is_closed_on_the_card_and_in_the_note(clocked, token):
    out = run_all(clocked, token, "custom", "2026-10-05", "2026-10-25")
    assert "Octubre de 2026 (cerrado): US$ " in str(out["kpi-projection.children"])
    assert out["trend-note.children"].startswith("Octubre de 2026 está cerrado: costó US$ ")
    assert valid(out["trend-graph.figure"]).layout.meta["projection"]["mode"] == "none"


def test_hora_on_a_long_window_answers_by_day_and_blanks_nothing(app, token):
    """A resolution problem is not a reason to blank the cards, the models or the heatmap."""
    today = date.today()  # the test data is the 40 days before now
    start, end = (today - timedelta(days=200)).isoformat(), (today + timedelta(days=1)).isoformat()
    out = run_all(app, token, "custom", start, end, "all", "hour")
    cost = str(out["kpi-cost.children"])
    assert "US$" in cost and "—" not in cost
    assert not figures.is_empty(out["trend-graph.figure"])
    assert not figures.is_empty(out["models-bars.figure"])
    assert not figures.is_empty(out["advanced-heatmap.figure"])
    assert "BYOK" in str(out["advanced-source-split-table.children"])
    assert (
        out["section-advanced.data-stamp"] == f"custom|{start}|{end}|all|hour|{TZ}"
    )  # the filter bar's key, answered by day
    with app.server.app_context():
        scope = callbacks.common.resolve("custom", start, end, "all", "hour", TZ, token)
    assert scope.filters.granularity == "day" and "92 días" in scope.notice
