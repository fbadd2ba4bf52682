"""Tokens (every defect is a 401, a missing policy or another org a 403) and the security headers."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from support.api import BASE, ROUTES, SECRET, WINDOW, auth, b64, check, claims, dataset, make_app, raw_token
from support.db import insert_logs

from api import security


def hs256(header: dict, payload: dict, secret: str = SECRET) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    sig = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{b64(sig)}"


def call(client, header_value=None, route="summary", **headers):
    if header_value is not None:
        headers["Authorization"] = header_value
    return client.get(f"{BASE}/{route}", query_string=WINDOW, headers=headers)


def _rs256_token(org):
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:  # a hand-made RS256 header with a bogus signature says the same
        return raw_token({"alg": "RS256", "typ": "JWT"}, claims(org), b"\x01" * 256)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims(org), key, algorithm="RS256")


# exp values that are no NumericDate, or one no calendar holds (each was a 500 before).
MALFORMED_EXP = {
    "numeric_string": "99999999999",
    "small_numeric_string": "123",
    "1e20": 1e20,
    "huge_int": 10**30,
    "list": [9999999999],
    "dict": {"t": 9999999999},
    "bool": True,
    "nan": float("nan"),
    "infinity": float("inf"),
    "null": None,
}

DEFECTS = {
    "alg_none": lambda org: raw_token({"alg": "none", "typ": "JWT"}, claims(org), b""),
    "alg_none_no_sig": lambda org: f"{b64({'alg': 'none'})}.{b64(claims(org))}.",
    "alg_None_case": lambda org: raw_token({"alg": "None", "typ": "JWT"}, claims(org), b""),
    "hs384_same_secret": lambda org: jwt.encode(claims(org), SECRET, algorithm="HS384"),
    "hs512_same_secret": lambda org: jwt.encode(claims(org), SECRET, algorithm="HS512"),
    "rs256": _rs256_token,
    "rs256_hand_made": lambda org: raw_token({"alg": "RS256", "typ": "JWT"}, claims(org), b"\x01" * 256),
    "forged_other_secret": lambda org: jwt.encode(claims(org), "another-secret-" + "y" * 32, algorithm="HS256"),
    "tampered_payload": lambda org: (
        lambda t: ".".join([t.split(".")[0], b64(claims("someone-else")), t.split(".")[2]])
    )(jwt.encode(claims(org), SECRET)),
    # Past the 30 s clock-skew leeway (auth.LEEWAY_SECONDS): 5 s late is still accepted.
    "expired": lambda org: jwt.encode(claims(org, ttl=timedelta(seconds=-60)), SECRET, algorithm="HS256"),
    "missing_exp": lambda org: hs256({"alg": "HS256", "typ": "JWT"}, claims(org, exp=None)),
    "exp_not_a_number": lambda org: hs256({"alg": "HS256"}, {**claims(org), "exp": "tomorrow"}),
    "missing_org_id": lambda org: hs256({"alg": "HS256"}, {k: v for k, v in claims(org).items() if k != "org_id"}),
    "org_id_not_a_string": lambda org: hs256({"alg": "HS256"}, {**claims(org), "org_id": 42}),
    "org_id_empty": lambda org: hs256({"alg": "HS256"}, {**claims(org), "org_id": ""}),
    "org_id_blank": lambda org: hs256({"alg": "HS256"}, {**claims(org), "org_id": "  "}),
    "missing_policies": lambda org: hs256({"alg": "HS256"}, claims(org, policies=None)),
    "policies_a_string": lambda org: hs256({"alg": "HS256"}, {**claims(org), "policies": "ai.agent:read"}),
    "garbage": lambda org: "not-a-jwt",
    "two_parts": lambda org: "abc.def",
    "bad_base64": lambda org: "!!!.@@@.###",
    "header_not_json": lambda org: f"{b64(b'nope')}.{b64(claims(org))}.{b64(b'sig')}",
    **{
        f"exp_{name}": (lambda org, v=v: jwt.encode({**claims(org), "exp": v}, SECRET, algorithm="HS256"))
        for name, v in MALFORMED_EXP.items()
    },
    "iat_far_future": lambda org: jwt.encode({**claims(org), "iat": 10**20}, SECRET, algorithm="HS256"),
    "nbf_a_string": lambda org: jwt.encode({**claims(org), "nbf": "soon"}, SECRET, algorithm="HS256"),
    # Signed, but not storable: a NUL (PostgreSQL text holds none) or a lone surrogate (no UTF-8)
    # in the org or the sub (the budget's history stores it) was a 500.
    "org_id_with_nul": lambda org: jwt.encode({**claims(org), "org_id": org + "\x00"}, SECRET, algorithm="HS256"),
    "org_id_lone_surrogate": lambda org: jwt.encode({**claims(org), "org_id": "\ud800"}, SECRET, algorithm="HS256"),
    "sub_with_nul": lambda org: jwt.encode({**claims(org), "sub": "a\x00b"}, SECRET, algorithm="HS256"),
    "sub_lone_surrogate": lambda org: jwt.encode({**claims(org), "sub": "x\udfff"}, SECRET, algorithm="HS256"),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_token_defects_are_401(client, org_id, defect):
    token = DEFECTS[defect](org_id)
    for route in ROUTES:
        body = check(call(client, f"Bearer {token}", route), route, 401)
        assert body["error"]["code"] in ("invalid_token", "token_expired"), (defect, body)
        assert body["error"]["parameter"] is None


def test_expired_token_says_so(client, org_id):
    token = jwt.encode(claims(org_id, ttl=timedelta(seconds=-60)), SECRET, algorithm="HS256")
    resp = call(client, f"Bearer {token}")
    assert check(resp, "summary", 401)["error"]["code"] == "token_expired"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "value", ["", "   ", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer a b", "Bearer\tx y"]
)
def test_malformed_or_missing_authorization_is_401(client, value):
    resp = call(client, value)
    body = check(resp, "summary", 401)
    assert body["error"]["code"] in ("missing_token", "invalid_token")
    assert "WWW-Authenticate" in resp.headers


def test_no_authorization_header_is_401_missing_token(client):
    for route in ROUTES:
        assert check(call(client, None, route), route, 401)["error"]["code"] == "missing_token"


def test_scheme_is_case_insensitive(client, org_id):
    token = auth(org_id)["Authorization"].split()[1]
    check(call(client, f"bearer {token}"), "summary")
    check(call(client, f"BEARER  {token}"), "summary")


@pytest.mark.parametrize("policies", [[], ["ai.agent:write"], ["AI.AGENT:READ"], ["ai.agent:read "]])
def test_token_without_the_policy_is_403(client, org_id, policies):
    for route in ROUTES:
        body = check(call(client, auth(org_id, policies=policies)["Authorization"], route), route, 403)
        assert body["error"]["code"] == "forbidden"


def test_x_org_id_must_match_the_token(client, org_id):
    header = auth(org_id)["Authorization"]
    for route in ROUTES:
        body = check(call(client, header, route, **{"x-org-id": "another-org"}), route, 403)
        assert body["error"]["code"] == "org_mismatch"
    check(call(client, header, "summary", **{"x-org-id": org_id}), "summary")


def test_org_query_parameters_never_widen_scope(client, engine, org_id):
    other = f"{org_id}-other"
    insert_logs(engine, dataset(other)[0])
    header = auth(org_id)["Authorization"]
    for name in ("org_id", "orgId", "org"):
        resp = client.get(f"{BASE}/summary", query_string={**WINDOW, name: other}, headers={"Authorization": header})
        body = check(resp, "summary", 403)
        assert body["error"] == {"code": "org_mismatch", "parameter": name, "message": body["error"]["message"]}
        # Naming one's own org is harmless: still only that org's rows.
        resp = client.get(f"{BASE}/summary", query_string={**WINDOW, name: org_id}, headers={"Authorization": header})
        assert check(resp, "summary")["executions"] == 0
    assert check(call(client, auth(other)["Authorization"]), "summary")["executions"] == 5


def test_secret_less_server_refuses_every_token(engine, org_id):
    app = make_app(engine)
    from dataclasses import replace

    from web import context

    context.attach(app.server, replace(context.settings(app.server), secret=""), engine)
    resp = app.server.test_client().get(f"{BASE}/summary", headers=auth(org_id))
    assert check(resp, "summary", 401)["error"]["code"] == "invalid_token"


# ------------------------------------------------------------------ headers

EXPECTED = {
    "Content-Security-Policy": "frame-ancestors 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _assert_security_headers(resp, csp=EXPECTED["Content-Security-Policy"]):
    assert resp.headers["Content-Security-Policy"] == csp
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in resp.headers


def test_security_headers_on_page_api_errors_and_assets(client, org_id):
    page = client.get(f"/?token={auth(org_id)['Authorization'].split()[1]}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    _assert_security_headers(page)
    _assert_security_headers(client.get("/_dash-layout"))
    _assert_security_headers(client.get(f"{BASE}/summary", headers=auth(org_id)))
    _assert_security_headers(client.get(f"{BASE}/summary"))  # 401
    _assert_security_headers(client.get(f"{BASE}/summary", query_string={"source": "x"}, headers=auth(org_id)))
    _assert_security_headers(client.get(f"{BASE}/nope"))
    _assert_security_headers(client.get(f"{BASE}/openapi.json"))


def test_frame_ancestors_come_from_the_setting(engine):
    origins = "https://panel.example.com https://*.example.org"
    app = make_app(engine, frame_ancestors=origins)
    c = app.server.test_client()
    for path in ("/", f"{BASE}/openapi.json", f"{BASE}/summary"):
        _assert_security_headers(c.get(path), f"frame-ancestors {origins}")


@pytest.mark.parametrize(
    "raw,value",
    [
        ("", "'self'"),
        ("'self'", "'self'"),
        ("https://a.test, https://b.test", "https://a.test https://b.test"),
        ("  'self'\thttps://a.test  ", "'self' https://a.test"),
        ("'none'", "'none'"),
        ("https://a.test\r\nhttps://b.test", "https://a.test https://b.test"),  # no header splitting
    ],
)
def test_frame_ancestors_value(raw, value):
    assert security.frame_ancestors_value(raw) == value


@pytest.mark.parametrize("raw", ["https://a.test; script-src *", "https://a.test\x00", "https://á.test", "'self';"])
def test_frame_ancestors_refuses_injection(raw):
    with pytest.raises(ValueError):
        security.frame_ancestors_value(raw)


# ------------------------------------------------------------------ malformed claims, clock skew, lifetime


def _signed(payload: dict) -> str:
    return jwt.encode(payload, SECRET, algorithm="HS256")


@pytest.mark.parametrize("name", list(MALFORMED_EXP))
def test_malformed_exp_is_401_on_the_page_gate_and_the_data_callbacks(app, org_id, name):
    """verify_token is the one check behind the API, the page gate and every data callback."""
    import callbacks.common
    import callbacks.session

    token = _signed({**claims(org_id), "exp": MALFORMED_EXP[name]})
    with app.server.app_context():
        dashboard_hidden, access_hidden, detail, _, org = callbacks.session.gate(token, "Europe/Madrid")
        scope = callbacks.common.resolve("30d", None, None, "all", "auto", "Europe/Madrid", token)
    assert (dashboard_hidden, access_hidden, org) == (True, False, "") and detail
    assert scope.filters is None and scope.problem == "auth"


def _at(seconds: float) -> int:
    return int(datetime.now(UTC).timestamp() + seconds)


@pytest.mark.parametrize("extra", [{"iat": 1}, {"nbf": 1}, {"iat": 20, "nbf": 20}])
def test_a_token_from_a_clock_slightly_ahead_is_accepted(client, org_id, extra):
    """Up to LEEWAY_SECONDS (30 s) of skew between the issuer's clock and ours."""
    token = _signed({**claims(org_id), **{k: _at(v) for k, v in extra.items()}})
    check(call(client, f"Bearer {token}"), "summary")


def test_skew_beyond_the_leeway_is_refused_and_exp_has_the_same_leeway(client, org_id):
    for name in ("iat", "nbf"):
        token = _signed({**claims(org_id), name: _at(90)})
        assert check(call(client, f"Bearer {token}"), "summary", 401)["error"]["code"] == "invalid_token"
    check(call(client, f"Bearer {_signed({**claims(org_id), 'exp': _at(-10)})}"), "summary")
    body = check(call(client, f"Bearer {_signed({**claims(org_id), 'exp': _at(-45)})}"), "summary", 401)
    assert body["error"]["code"] == "token_expired"


def test_a_token_verified_before_still_expires_and_a_forged_twin_is_refused(monkeypatch, org_id):
    """The signature is checked once per process (web.auth's memo); exp, nbf and iat at every use."""
    from web import auth as web_auth

    token = _signed({**claims(org_id), "exp": _at(60), "nbf": _at(-5)})
    assert web_auth.verify_token(token, SECRET, max_ttl=None).org_id == org_id
    assert (token, SECRET) in web_auth._SIGNED
    later = datetime.now(UTC).timestamp() + 60 + web_auth.LEEWAY_SECONDS + 1
    monkeypatch.setattr(web_auth.time, "time", lambda: later)
    with pytest.raises(web_auth.AuthError) as e:
        web_auth.verify_token(token, SECRET, max_ttl=None)
    assert e.value.code == "token_expired"
    earlier = datetime.now(UTC).timestamp() - 5 - web_auth.LEEWAY_SECONDS - 10  # a clock set back
    monkeypatch.setattr(web_auth.time, "time", lambda: earlier)
    with pytest.raises(web_auth.AuthError) as e:
        web_auth.verify_token(token, SECRET, max_ttl=None)
    assert e.value.code == "invalid_token"
    monkeypatch.undo()
    head, payload, _sig = token.split(".")
    with pytest.raises(web_auth.AuthError) as e:  # same claims, another signature: not the memo's token
        web_auth.verify_token(f"{head}.{payload}.{b64(b'forged')}", SECRET, max_ttl=None)
    assert e.value.code == "invalid_token"
    with pytest.raises(web_auth.AuthError):  # the same token under another secret is checked anew
        web_auth.verify_token(token, "another secret of at least thirty-two bytes", max_ttl=None)


def test_max_token_ttl_refuses_tokens_that_live_too_long(engine, org_id):
    app = make_app(engine, max_token_ttl=timedelta(hours=1))
    c = app.server.test_client()
    check(call(c, auth(org_id, ttl=timedelta(minutes=59))["Authorization"]), "summary")
    check(call(c, auth(org_id, ttl=timedelta(hours=1, seconds=20))["Authorization"]), "summary")  # leeway
    body = check(call(c, auth(org_id, ttl=timedelta(hours=2))["Authorization"]), "summary", 401)
    assert body["error"]["code"] == "invalid_token" and "AI_USAGE_MAX_TOKEN_TTL" in body["error"]["message"]
    assert "1h" in body["error"]["message"]
    # Without the setting a long-lived token is fine (the CLI mints up to 3650 days).
    check(call(client_of(make_app(engine)), auth(org_id, ttl=timedelta(days=3000))["Authorization"]), "summary")


def client_of(app):
    return app.server.test_client()


@pytest.mark.parametrize(
    "raw,value",
    [
        ("", None),
        ("3600s", timedelta(hours=1)),
        ("90m", timedelta(minutes=90)),
        (" 12h ", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
    ],
)
def test_max_token_ttl_setting(raw, value):
    from storage.settings import Settings

    assert Settings.from_env({"AI_USAGE_MAX_TOKEN_TTL": raw}).max_token_ttl == value


@pytest.mark.parametrize("raw", ["3600", "1 hour", "0s", "-5m", "1.5h"])
def test_max_token_ttl_setting_refuses_other_forms(raw):
    from storage.settings import Settings

    with pytest.raises(ValueError, match="AI_USAGE_MAX_TOKEN_TTL"):
        Settings.from_env({"AI_USAGE_MAX_TOKEN_TTL": raw})


# ------------------------------------------------------------------ repeated org parameters and headers


@pytest.mark.parametrize("name", ["org_id", "orgId", "org"])
def test_every_value_of_a_repeated_org_parameter_must_match(client, org_id, name):
    header = auth(org_id)["Authorization"]
    for values in ([org_id, f"{org_id}-2"], [f"{org_id}-2", org_id], [org_id, ""]):
        resp = client.get(
            f"{BASE}/summary",
            query_string=[*WINDOW.items(), *((name, v) for v in values)],
            headers={"Authorization": header},
        )
        body = check(resp, "summary", 403)
        assert body["error"]["code"] == "org_mismatch" and body["error"]["parameter"] == name
    resp = client.get(
        f"{BASE}/summary",
        query_string=[*WINDOW.items(), (name, org_id), (name, org_id)],
        headers={"Authorization": header},
    )
    check(resp, "summary")


def test_every_value_of_a_repeated_x_org_id_header_must_match(client, org_id):
    header = auth(org_id)["Authorization"]
    for values in ([org_id, f"{org_id}-2"], [f"{org_id}-2", org_id], [org_id, " "]):
        resp = client.get(
            f"{BASE}/summary",
            query_string=WINDOW,
            headers=[("Authorization", header), *(("x-org-id", v) for v in values)],
        )
        assert check(resp, "summary", 403)["error"]["code"] == "org_mismatch"
    resp = client.get(
        f"{BASE}/summary",
        query_string=WINDOW,
        headers=[("Authorization", header), ("x-org-id", org_id), ("x-org-id", org_id)],
    )
    check(resp, "summary")


def test_max_token_ttl_applies_to_the_page_gate_and_the_data_callbacks(engine, org_id):
    import callbacks.common
    import callbacks.session

    app = make_app(engine, max_token_ttl=timedelta(hours=1))
    long_lived = auth(org_id, ttl=timedelta(hours=2))["Authorization"].split()[1]
    with app.server.app_context():
        assert callbacks.session.gate(long_lived, "Europe/Madrid")[:2] == (True, False)
        assert callbacks.common.resolve("30d", None, None, "all", "auto", "Europe/Madrid", long_lived).problem == "auth"
        short = auth(org_id)["Authorization"].split()[1]
        assert callbacks.session.gate(short, "Europe/Madrid")[:2] == (False, True)
