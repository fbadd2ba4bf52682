"""Security: response headers on every answer, and the bearer-token check of the API.

The org a request may read comes only from its verified token: no query parameter or
header can name another one (a different `x-org-id`, `org_id` or `orgId` is a 403).
"""

from __future__ import annotations

import flask

from storage.settings import csp_sources
from web.auth import REQUIRED_POLICY, AuthError, Claims, verify_token

from .errors import ApiError

ORG_PARAMS = ("org_id", "orgId", "org")
# The API speaks English (like its parameter errors); auth.py's Spanish messages serve the page.
MESSAGES = {
    "missing_token": "Missing access token: send 'Authorization: Bearer <token>'.",
    "invalid_token": "The token is not valid (signature, algorithm or claims).",
    "token_expired": "The token has expired: ask the panel for a new one.",
    "forbidden": f"The token does not grant the {REQUIRED_POLICY} policy.",
    "org_mismatch": "The x-org-id header does not match the token's organization.",
}


def frame_ancestors_value(raw: str) -> str:
    """The `frame-ancestors` source list from the setting (space or comma separated).

    A `;` or a control character would let the setting inject other CSP directives or
    break the header: refuse it at start-up rather than send a wrong policy.
    """
    try:
        sources = csp_sources(raw)
    except ValueError as e:
        raise ValueError(f"AI_USAGE_FRAME_ANCESTORS: {e}") from None
    return " ".join(sources) if sources else "'self'"


def install(server: flask.Flask, settings) -> None:
    """Add the security headers to every response of the server (page, assets, API)."""
    csp = f"frame-ancestors {frame_ancestors_value(settings.frame_ancestors)}"

    @server.after_request
    def _security_headers(resp: flask.Response) -> flask.Response:
        resp.headers["Content-Security-Policy"] = csp
        resp.headers["Referrer-Policy"] = "no-referrer"  # the page URL carries the token
        resp.headers["X-Content-Type-Options"] = "nosniff"
        # frame-ancestors governs embedding; an X-Frame-Options would forbid the panel's iframe.
        resp.headers.pop("X-Frame-Options", None)
        return resp


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when absent; ApiError if malformed."""
    if header is None or not header.strip():
        return None
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise ApiError(
            401,
            "invalid_token",
            "The Authorization header must be 'Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="ai-usage", error="invalid_request"'},
        )
    return parts[1]


def _names_another_org(value: str, org_id: str) -> bool:
    """True unless a header value names the token's org: exactly, or as a list of it
    (a proxy or WSGI server joins repeated headers with commas: 'demo, demo-2')."""
    return value != org_id and any(part.strip() != org_id for part in value.split(","))


def authenticate(request: flask.Request, secret: str) -> Claims:
    """Verify the request's bearer token into Claims, else raise ApiError 401/403.

    Every value of a repeated org parameter (?org_id=a&org_id=b) or x-org-id header must
    be the token's org: the first one matching is not enough."""
    token = bearer_token(request.headers.get("Authorization"))
    try:
        claims = verify_token(token, secret)
    except AuthError as e:
        headers = {}
        if e.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="ai-usage"' + (', error="invalid_token"' if token else "")
        raise ApiError(e.status, e.code, e.english or MESSAGES.get(e.code, e.message), headers=headers) from None
    if any(_names_another_org(v, claims.org_id) for v in request.headers.getlist("x-org-id")):
        raise ApiError(403, "org_mismatch", MESSAGES["org_mismatch"])
    for name in ORG_PARAMS:
        if any(value != claims.org_id for value in request.args.getlist(name)):
            raise ApiError(
                403,
                "org_mismatch",
                "The organization comes from the token; another one cannot be asked for.",
                parameter=name,
            )
    return claims
