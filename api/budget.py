"""GET and PUT /ai/org-usage/budget (contract §3.4): the org's budget, its month and its change log.

Reading needs ai.agent:read like every route; writing needs ai.agent:write as well (403
otherwise, before the body is read: a refused request changes nothing). A PUT body is a
JSON object of the settings; a field left out keeps its value, null clears it. Any bad
field is a 400 naming it, and nothing is written; an accepted one is stored with its
change row in one transaction (queries/budget.py, storage/budgets.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import flask

from alerts.urls import allow_hosts, check_url
from queries.bad_input import single
from queries.budget import (
    MAX_BODY_BYTES,
    BudgetSettings,
    history,
    load_settings,
    month_status,
    parse_body,
    parse_settings,
    save_settings,
)
from queries.filters import BadParameter, zone
from storage import execute
from web import context
from web.auth import WRITE_POLICY

from . import budget_answers as answers, security
from .bodies import estimate
from .errors import ApiError, json_response

ROUTE = "budget"
ALLOW = "GET, PUT, HEAD, OPTIONS"
FORBIDDEN_WRITE = f"The token does not grant the {WRITE_POLICY} policy: it may read the budget, not change it."


def mask_url(url: str | None) -> str | None:
    """A webhook URL as a reader without the write policy sees it: scheme and host only."""
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


def settings_body(s: BudgetSettings, full: bool = True) -> answers.BudgetSettingsBody:
    return answers.BudgetSettingsBody(
        monthly_budget_usd=None if s.monthly_budget_usd is None else float(s.monthly_budget_usd),
        thresholds=list(s.thresholds),
        webhook_url=s.webhook_url if full else mask_url(s.webhook_url),
        timezone=s.timezone,
    )


def url_checker():
    """alerts/urls.py's rule with the operator's allowed hosts (AI_USAGE_WEBHOOK_ALLOW_HOSTS)."""
    allowed = allow_hosts(context.settings().webhook_allow_hosts)
    return lambda url: check_url(url, allowed)


def get_budget():
    req = flask.request
    claims = security.authenticate(req, context.settings().secret)
    tz = single(req.args, "timezone") or "UTC"
    zone(tz)  # 400 naming `timezone` for anything but an IANA name
    full = claims.may(WRITE_POLICY)
    with execute.connect(context.engine()) as conn:
        s = load_settings(conn, claims.org_id)
        m = month_status(conn, claims.org_id, tz, context.now(), s.monthly_budget_usd)
        changes = history(conn, claims.org_id)
    body = answers.Budget.model_construct(
        **settings_body(s, full),
        month=answers.BudgetMonth.model_construct(
            month_start=m.month_start.isoformat(),
            month_end=m.month_end.isoformat(),
            status=m.status,
            month_to_date_usd=m.month_to_date_usd,
            projected_total_usd=estimate(m.projected_total_usd),
            lower80=estimate(m.lower80),
            upper80=estimate(m.upper80),
            probability_over_budget=estimate(m.probability_over_budget),
        ),
        history=[
            answers.BudgetChange.model_construct(
                changed_at=c.changed_at.isoformat(),
                changed_by=c.changed_by,
                from_=None if c.old is None else settings_body(c.old, full),
                to=settings_body(c.new, full),
            )
            for c in changes
        ],
    )
    return json_response(body)


def put_budget():
    req = flask.request
    claims = security.authenticate(req, context.settings().secret)
    if not claims.may(WRITE_POLICY):
        raise ApiError(403, "forbidden", FORBIDDEN_WRITE)
    if (req.content_length or 0) > MAX_BODY_BYTES:
        raise BadParameter("body", f"The body is longer than {MAX_BODY_BYTES} bytes.", "invalid_body")
    body = parse_body(req.get_data(cache=False))
    with execute.connect(context.engine()) as conn:
        current = load_settings(conn, claims.org_id)
    new = parse_settings(body, current, url_checker())
    stored = save_settings(context.engine(), claims.org_id, new, claims.sub, context.now())
    return json_response(answers.BudgetStored.model_construct(**settings_body(stored)))


def add_routes(bp: flask.Blueprint) -> None:
    bp.add_url_rule(f"/{ROUTE}", "budget", get_budget, methods=["GET"])
    bp.add_url_rule(f"/{ROUTE}", "budget_put", put_budget, methods=["PUT"])


# ------------------------------------------------------------------ OpenAPI

REQUEST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": (
        "The settings to change; a field left out keeps its value, null clears it (thresholds: back to "
        "[0.5, 0.8, 1.0]). Unknown fields are refused."
    ),
    "properties": {
        "monthlyBudgetUsd": {
            "anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000_000}, {"type": "null"}],
            "description": "USD, above 0 and at most 10⁹, at most 8 decimals.",
        },
        "thresholds": {
            "anyOf": [
                {"type": "array", "maxItems": 10, "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 10}},
                {"type": "null"},
            ],
            "description": "Fractions of the budget; repeats are dropped and the list sorted.",
        },
        "webhookUrl": {
            "anyOf": [{"type": "string", "minLength": 1, "maxLength": 2000}, {"type": "null"}],
            "description": (
                "https:// to a public address, or http:// only to a host listed in AI_USAGE_WEBHOOK_ALLOW_HOSTS; "
                "private, loopback and link-local addresses are refused unless listed."
            ),
        },
        "timezone": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "IANA zone (default UTC)."},
    },
    "example": {"monthlyBudgetUsd": 500, "thresholds": [0.5, 0.8, 1.0], "webhookUrl": "https://hooks.example.com/ai"},
}


def _responses(schema: str, forbidden: str) -> dict:
    return {
        "200": {
            "description": "The budget." if schema == "Budget" else "The settings as stored.",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        },
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {
            "description": forbidden,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
        "500": {"$ref": "#/components/responses/InternalError"},
        "503": {"$ref": "#/components/responses/Unavailable"},
    }


def openapi_paths(base: str) -> dict:
    """The path item of /budget for openapi.json."""
    params = [{"$ref": "#/components/parameters/xOrgId"}]
    return {
        f"{base}/{ROUTE}": {
            "get": {
                "operationId": "get_budget",
                "summary": "The org's monthly budget, its alert settings, the current month against it and the "
                "change log.",
                "parameters": [{"$ref": "#/components/parameters/timezone"}, *params],
                "responses": _responses("Budget", "The token lacks ai.agent:read, or names another org."),
            },
            "put": {
                "operationId": "put_budget",
                "summary": "Change the budget settings (needs ai.agent:write); every change is logged.",
                "parameters": params,
                "requestBody": {"required": True, "content": {"application/json": {"schema": REQUEST_SCHEMA}}},
                "responses": _responses(
                    "BudgetStored", "The token lacks ai.agent:write (nothing changes), or names another org."
                ),
            },
        }
    }
