"""The «Alertas» list on the page: its words (Spanish, English), the org's events only, hostile text as text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from dash import dcc, html

import callbacks.alerts
from alerts import outbox
from app import create_app
from layouts import i18n
from storage.schema import alert_events
from storage.settings import Settings
from web.auth import mint_token

SECRET = "alerts-page-secret-0123456789-abcdef"
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def app(engine):
    return create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine)


def add(engine, org_id, key, type_, status, attempts=0, errors=(), body=None, at=None):
    eid = outbox.new_id()
    at = at or datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    with engine.begin() as c:
        c.execute(
            sa.insert(alert_events).values(
                id=eid,
                org_id=org_id,
                type=type_,
                month="2026-11",
                dedup_key=key,
                created_at=at,
                payload=outbox.payload(eid, org_id, type_, at, "2026-11", **(body or {})).decode(),
                webhook_url="https://hooks.example.com",
                status=status,
                attempts=attempts,
            )
        )
        for status_code, error in errors:
            outbox.record_attempt(c, eid, at, status_code, error)
    return eid


def texts(node) -> list[str]:
    """Every text the component tree shows, in order (strings are shown as text by React)."""
    if node is None:
        return []
    if isinstance(node, str | int | float):
        return [str(node)]
    if isinstance(node, list | tuple):
        return [t for n in node for t in texts(n)]
    assert not isinstance(node, dcc.Markdown), "no markup rendering in the alerts list"
    return texts(getattr(node, "children", None))


def run(app, token, tz="Europe/Madrid"):
    with app.server.app_context():
        return callbacks.alerts.update(token, tz)


def test_the_list_in_spanish_with_each_status(app, engine, org_id):
    add(engine, org_id, "0.5", "budget_threshold", "delivered", 1, [(200, None)], {"threshold": 0.5})
    add(
        engine,
        org_id,
        "0.8",
        "budget_threshold",
        "pending",
        2,
        [(500, None), (None, "timeout: no answer")],
        {"threshold": 0.8},
    )
    add(engine, org_id, "2026-11-19", "anomaly", "failed", 9, [(None, HOSTILE)], {"anomaly": {"date": "2026-11-19"}})
    add(
        engine,
        org_id,
        "0.8p",
        "projected_overrun",
        "undeliverable",
        0,
        [(None, outbox.NO_SECRET)],
        {"probability": 0.91},
    )
    add(engine, org_id + "-other", "0.5", "budget_threshold", "delivered", 1, [(200, None)], {"threshold": 0.5})
    out = run(app, mint_token(SECRET, org_id))
    shown = " | ".join(texts(out))
    assert shown.count("Umbral del presupuesto alcanzado") == 2  # not the other org's
    assert "50 % del presupuesto mensual" in shown and "Entregada" in shown
    assert "Reintentando (2 intentos)" in shown and "Último error: timeout: no answer" in shown
    assert "Anomalía de costo" in shown and "Día 19 nov 2026" in shown and "Fallida" in shown
    assert "Riesgo de superar el presupuesto" in shown and "Probabilidad de superarlo: 91 %" in shown
    assert "No se envió: el servidor no tiene clave de firma" in shown
    assert "vie 20 nov 2026, 10:30" in shown  # 09:30 UTC in Madrid
    # The hostile error is one text child, never a component: React shows it as characters.
    assert f"Último error: {HOSTILE}" in texts(out)


def test_the_list_in_english(app, engine, org_id):
    add(engine, org_id, "1.0", "budget_threshold", "pending", 1, [(503, None)], {"threshold": 1.0})
    with i18n.use("en"):
        shown = " | ".join(texts(run(app, mint_token(SECRET, org_id))))
    assert "Budget threshold reached" in shown and "100% of the monthly budget" in shown
    assert "Retrying (1 attempt)" in shown and "Last error: HTTP 503" in shown


def test_empty_and_refused(app, engine, org_id):
    assert "Todavía no hay alertas" in " ".join(texts(run(app, mint_token(SECRET, org_id))))
    refused = run(app, "not-a-token")
    assert isinstance(refused, str | html.Div | list) and "Alertas" not in " ".join(texts(refused))
    add(engine, org_id, "0.5", "budget_threshold", "delivered", 1, [(200, None)], {"threshold": 0.5})
    shown = " ".join(texts(run(app, mint_token(SECRET, org_id), tz="<b>Nope</b>")))
    assert "Horas en UTC" in shown and "<b>Nope</b>" not in shown
