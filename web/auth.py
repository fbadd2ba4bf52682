"""Tokens: HS256 JWTs carrying org_id, policies and exp (PyJWT).

verify_token is the one check behind the API, the page gate and every data callback:
whatever a token carries, it answers Claims or raises AuthError (401/403), never another
exception.

A token's signature is checked once per process: the claims of a token that verified are
kept (an LRU of SIGNED_MAX tokens, keyed by token and secret) and only its time claims
(exp, nbf, iat, against now and the leeway, as PyJWT checks them) and everything after
the decode are checked again on each use. An admin's page and API calls carry the same
token again and again; HMAC and base64 of it cost more than the rest of a cached answer.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

REQUIRED_POLICY = "ai.agent:read"
WRITE_POLICY = "ai.agent:write"  # contract §3.4: may change its org's budget
MIN_SECRET_BYTES = 32
# Clock skew allowed between the token issuer's clock and ours, on iat, nbf and exp:
# a token minted by a clock 1 s ahead is not "issued in the future".
LEEWAY_SECONDS = 30
# A NumericDate past this (9999-12-31) has no datetime: refused rather than a crash.
LATEST_INSTANT = datetime(9999, 12, 31, tzinfo=UTC).timestamp()
SIGNED_MAX = 4096  # tokens whose signature verified, kept per process
_SIGNED: OrderedDict[tuple[str, str], dict] = OrderedDict()
_SIGNED_LOCK = threading.Lock()


class AuthError(Exception):
    """401 (bad or missing token) or 403 (valid token, not allowed).

    `english`: the API's message when the code's generic one would hide the reason."""

    def __init__(self, status: int, code: str, message: str, english: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.english = status, code, message, english


@dataclass(frozen=True)
class Claims:
    org_id: str
    policies: tuple[str, ...]
    exp: datetime
    # contract §4: the page's default language ('es' | 'en'); None when the token names none.
    # A value the page does not speak is kept as sent: the page falls back to Spanish.
    locale: str | None = None
    # The token's subject (who), for the budget's change log; None when absent or not a short string.
    sub: str | None = None

    def may(self, policy: str) -> bool:
        return policy in self.policies


def mint_token(
    secret: str,
    org_id: str,
    ttl: timedelta = timedelta(hours=1),
    policies=(REQUIRED_POLICY,),
    now: datetime | None = None,
    locale: str | None = None,
    sub: str | None = None,
) -> str:
    """Sign a token for org_id that expires after ttl (with `locale` and `sub` claims when given)."""
    now = now or datetime.now(UTC)
    payload = {
        "org_id": org_id,
        "policies": list(policies),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if locale:
        payload["locale"] = locale
    if sub:
        payload["sub"] = sub
    return jwt.encode(payload, secret, algorithm="HS256")


def _instant(claims: dict, name: str) -> float | None:
    """A time claim as seconds since the epoch: a JSON number (not a bool, a string or NaN)
    that a datetime can hold. PyJWT alone takes "123" or 1e20, which broke the answer."""
    v = claims.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and 0 <= v <= LATEST_INSTANT):
        raise AuthError(401, "invalid_token", f"El token lleva un {name} mal formado.")
    return float(v)


def _ttl_text(ttl: timedelta) -> str:
    s = int(ttl.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


APP_SETTING = object()


def _app_max_ttl() -> timedelta | None:
    """The running app's AI_USAGE_MAX_TOKEN_TTL (None outside an app)."""
    import flask

    if not flask.has_app_context():
        return None
    from . import context

    try:
        return context.settings().max_token_ttl
    except KeyError:  # a Flask app that is not ours
        return None


def _storable(text: str) -> bool:
    """Text a database column and a UTF-8 log line can hold: no NUL (PostgreSQL text has none),
    no lone surrogate (JSON admits "\\ud800"; UTF-8 cannot encode it). A signed token is the
    platform's word, but a claim that cannot be stored is refused (401), not a 500."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def verify_token(token: str | None, secret: str, x_org_id: str | None = None, *, max_ttl=APP_SETTING) -> Claims:
    """Return the claims of a valid token that may read AI usage, else raise AuthError.

    max_ttl: refuse a token whose exp is further than that from now (beyond the leeway);
    by default the running app's AI_USAGE_MAX_TOKEN_TTL, so that the API, the page gate
    and the data callbacks, which all verify here, apply the same limit."""
    if not token:
        raise AuthError(401, "missing_token", "Falta el token de acceso (Authorization: Bearer <token>).")
    if not secret:
        raise AuthError(401, "invalid_token", "El servidor no tiene secreto configurado para validar tokens.")
    try:
        claims = _decoded(token, secret)
    except jwt.ExpiredSignatureError:
        raise AuthError(401, "token_expired", "El token ha caducado.") from None
    except jwt.PyJWTError:
        raise AuthError(401, "invalid_token", "El token no es válido.") from None
    if not isinstance(claims, dict):
        raise AuthError(401, "invalid_token", "El token no es válido.")
    exp = _instant(claims, "exp")
    assert exp is not None  # decode() above requires exp
    for name in ("iat", "nbf"):
        _instant(claims, name)
    max_ttl = _app_max_ttl() if max_ttl is APP_SETTING else max_ttl
    left = exp - datetime.now(UTC).timestamp()
    if max_ttl is not None and left > max_ttl.total_seconds() + LEEWAY_SECONDS:
        limit = _ttl_text(max_ttl)
        raise AuthError(
            401,
            "invalid_token",
            f"El token dura más de lo permitido en este servidor ({limit}).",
            english=f"The token expires too far in the future: this server accepts tokens that "
            f"expire within {limit} (AI_USAGE_MAX_TOKEN_TTL); ask for a shorter-lived one.",
        )
    org_id, policies = claims.get("org_id"), claims.get("policies") or []
    if not isinstance(org_id, str) or not org_id.strip() or not _storable(org_id):
        raise AuthError(401, "invalid_token", "El token no lleva un org_id válido.")
    sub = claims.get("sub")
    if isinstance(sub, str) and not _storable(sub):  # the budget's history stores it: never a 500
        raise AuthError(401, "invalid_token", "El token lleva un sub mal formado.")
    if not isinstance(policies, list) or not all(isinstance(p, str) for p in policies):
        raise AuthError(401, "invalid_token", "El token lleva policies mal formadas.")
    if REQUIRED_POLICY not in policies:
        raise AuthError(403, "forbidden", f"El token no tiene el permiso {REQUIRED_POLICY}.")
    if x_org_id is not None and x_org_id != org_id:
        raise AuthError(403, "org_mismatch", "La cabecera x-org-id no coincide con la organización del token.")
    locale = claims.get("locale")
    _note_org(org_id)
    return Claims(
        org_id=org_id,
        policies=tuple(policies),
        exp=datetime.fromtimestamp(exp, UTC),
        locale=locale if isinstance(locale, str) and 0 < len(locale) <= 35 and _storable(locale) else None,
        sub=sub if isinstance(sub, str) and 0 < len(sub) <= 200 else None,
    )


def _decoded(token: str, secret: str) -> dict:
    """jwt.decode's claims; a token whose signature verified before has only its time claims checked again."""
    key = (token, secret)
    with _SIGNED_LOCK:
        claims = _SIGNED.get(key)
        if claims is not None:
            _SIGNED.move_to_end(key)
    if claims is not None:
        _check_times(claims, time.time())
        return claims
    claims = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        leeway=LEEWAY_SECONDS,
        options={"require": ["exp", "org_id", "policies"]},
    )
    if isinstance(claims, dict):
        with _SIGNED_LOCK:
            _SIGNED[key] = claims
            while len(_SIGNED) > SIGNED_MAX:
                _SIGNED.popitem(last=False)
    return claims


def _check_times(claims: dict, now: float) -> None:
    """PyJWT's time checks of a decoded token (they passed at its decode; now may differ)."""
    if int(claims["exp"]) <= now - LEEWAY_SECONDS:
        raise jwt.ExpiredSignatureError("Signature has expired")
    for name in ("nbf", "iat"):
        if name in claims and int(claims[name]) > now + LEEWAY_SECONDS:
            raise jwt.ImmatureSignatureError(f"The token is not yet valid ({name})")


ORG_KEY = "ai_usage_org"  # flask.g: the org of the request's valid token, for the access log


def _note_org(org_id: str) -> None:
    import flask

    if flask.has_request_context():
        setattr(flask.g, ORG_KEY, org_id)


def request_org() -> str | None:
    """The org whose valid token the current request carried (None: none, or not verified)."""
    import flask

    return flask.g.get(ORG_KEY) if flask.has_request_context() else None
