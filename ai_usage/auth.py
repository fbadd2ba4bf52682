"""Tokens: HS256 JWTs carrying org_id, policies and exp (PyJWT)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

REQUIRED_POLICY = "ai.agent:read"
MIN_SECRET_BYTES = 32


class AuthError(Exception):
    """401 (bad or missing token) or 403 (valid token, not allowed)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Claims:
    org_id: str
    policies: tuple[str, ...]
    exp: datetime


def mint_token(secret: str, org_id: str, ttl: timedelta = timedelta(hours=1),
               policies=(REQUIRED_POLICY,), now: datetime | None = None) -> str:
    """Sign a token for org_id that expires after ttl."""
    now = now or datetime.now(timezone.utc)
    payload = {"org_id": org_id, "policies": list(policies), "iat": int(now.timestamp()),
               "exp": int((now + ttl).timestamp())}
    return jwt.encode(payload, secret, algorithm="HS256")


def verify_token(token: str | None, secret: str, x_org_id: str | None = None) -> Claims:
    """Return the claims of a valid token that may read AI usage, else raise AuthError."""
    if not token:
        raise AuthError(401, "missing_token", "Falta el token de acceso (Authorization: Bearer <token>).")
    if not secret:
        raise AuthError(401, "invalid_token", "El servidor no tiene secreto configurado para validar tokens.")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "org_id", "policies"]})
    except jwt.ExpiredSignatureError:
        raise AuthError(401, "token_expired", "El token ha caducado.") from None
    except jwt.PyJWTError:
        raise AuthError(401, "invalid_token", "El token no es válido.") from None
    org_id, policies = claims.get("org_id"), claims.get("policies") or []
    if not isinstance(org_id, str) or not org_id:
        raise AuthError(401, "invalid_token", "El token no lleva un org_id válido.")
    if not isinstance(policies, list) or not all(isinstance(p, str) for p in policies):
        raise AuthError(401, "invalid_token", "El token lleva policies mal formadas.")
    if REQUIRED_POLICY not in policies:
        raise AuthError(403, "forbidden", f"El token no tiene el permiso {REQUIRED_POLICY}.")
    if x_org_id is not None and x_org_id != org_id:
        raise AuthError(403, "org_mismatch", "La cabecera x-org-id no coincide con la organización del token.")
    return Claims(org_id=org_id, policies=tuple(policies),
                  exp=datetime.fromtimestamp(claims["exp"], timezone.utc))
