"""Helpers of the API tests: the app, tokens, a small explicit data set, OpenAPI response checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import jsonschema_rs

from api import openapi
from storage.settings import Settings
from web.auth import mint_token

SECRET = "s3cret-for-tests-" + "x" * 47  # 64 bytes: long enough even for the HS512 test tokens
BASE = "/ai/org-usage"
ROUTES = [
    "summary",
    "cache-savings",
    "projection",
    "time-series",
    "model-efficiency",
    "by-agent",
    "by-user",
    "heatmap",
    "anomalies",
]
MORE_ROUTES = ["budget"]  # routes outside the window figures (their own parameters and methods)


def make_app(engine, clock=None, **settings):
    from app import create_app

    url = engine.url.render_as_string(hide_password=False)
    return create_app(Settings(database_url=url, secret=SECRET, **settings), engine=engine, clock=clock)


def auth(org_id: str, **kw) -> dict:
    return {"Authorization": f"Bearer {mint_token(SECRET, org_id, **kw)}"}


def b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw_token(header: dict, payload: dict, signature: bytes = b"sig") -> str:
    """A JWT assembled by hand (for algorithms and defects PyJWT will not sign)."""
    return f"{b64(header)}.{b64(payload)}.{b64(signature)}"


def claims(org_id: str, ttl=timedelta(hours=1), **extra) -> dict:
    now = datetime.now(UTC)
    c = {"org_id": org_id, "policies": ["ai.agent:read"], "exp": int((now + ttl).timestamp())}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


# ------------------------------------------------------------------ data


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def log(
    org_id,
    at,
    *,
    agent=None,
    action="user_interaction",
    source="system",
    provider="openai",
    model="gpt-4o-mini",
    inp=0,
    out=0,
    cr=0,
    cost=None,
    lat=None,
) -> dict:
    return {
        "org_id": org_id,
        "created_at": at,
        "agent_id": agent,
        "user_id": None,
        "action_type": action,
        "source": source,
        "provider": provider,
        "model": model,
        "input_tokens": inp,
        "output_tokens": out,
        "cache_read_tokens": cr,
        "cache_write_tokens": 0,
        "cost_usd": None if cost is None else Decimal(str(cost)),
        "latency_ms": lat,
    }


# The window 2026-10-30 .. 2026-11-02 in America/New_York holds the fall-back day (25 hours):
# rows 3 and 4 are both at local 01:30, once in EDT and once in EST.
WINDOW = {"from": "2026-10-30", "to": "2026-11-02", "timezone": "America/New_York"}


def dataset(org_id: str) -> tuple[list[dict], list[dict]]:
    a1, a2 = f"{org_id}-a1", f"{org_id}-a2"
    logs = [
        log(
            org_id,
            utc(2026, 10, 30, 14),
            agent=a1,
            provider="anthropic",
            model="claude-sonnet-4-5",
            inp=1000,
            out=200,
            cr=500,
            cost="0.0123",
            lat=800,
        ),
        log(org_id, utc(2026, 10, 31, 3, 30), agent=a1, action="guardrail_check", source="byok", inp=300, out=20),
        log(
            org_id, utc(2026, 11, 1, 5, 30), agent=a2, action="title_generation", inp=50, out=10, cost="0.0004", lat=120
        ),
        log(
            org_id,
            utc(2026, 11, 1, 6, 30),
            action="document_indexing",
            model="text-embedding-3-small",
            inp=2000,
            cost="0.00004",
        ),
        log(
            org_id,
            utc(2026, 11, 2, 15),
            agent=a2,
            source="byok",
            provider="anthropic",
            model="claude-sonnet-4-5",
            inp=400,
            out=100,
            cr=1200,
            cost="0.5",
            lat=1000,
        ),
        # outside the window, on both sides
        log(org_id, utc(2026, 10, 30, 3, 59), inp=7, cost="1"),
        log(org_id, utc(2026, 11, 3, 5), inp=7, cost="1"),
    ]
    agents = [
        {"id": a1, "org_id": org_id, "name": "Asistente de ventas", "avatar_url": "https://x.test/a1.png"},
        {"id": a2, "org_id": org_id, "name": "Soporte", "avatar_url": None},
    ]
    return logs, agents


# ------------------------------------------------------------------ OpenAPI checks


@lru_cache(maxsize=1)
def spec() -> dict:
    return openapi.document()


def _deref(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = doc
        for p in parts:
            node = node[p]
    return node


@lru_cache(maxsize=64)
def _validator(path: str, status: str):
    doc = spec()
    responses = doc["paths"][path]["get"]["responses"]
    assert status in responses, f"{path} does not document status {status}"
    schema = _deref(doc, responses[status])["content"]["application/json"]["schema"]
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"], **schema}
    return jsonschema_rs.validator_for(root, validate_formats=True)


def check(resp, route: str, status: int = 200):
    """Assert the status, JSON type, no-store and that the body matches the documented schema."""
    body = resp.get_json()
    assert resp.status_code == status, (resp.status_code, body)
    assert resp.mimetype == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"
    errors = [e.message for e in _validator(f"{BASE}/{route}", str(status)).iter_errors(body)]
    assert not errors, (route, status, errors, body)
    return body
