"""The page's language (contract §4): `?lang=` on the page URL, else the token's `locale`
claim, else Spanish; an unknown value falls back to Spanish.

Chosen once, when the page (`GET /`) is served, and then carried by every Dash request:

1. the page: `<html lang="…">` (screen readers, hyphenation) and, for the browser's own
   messages, the translations of assets/*.js (`<script id="i18n-messages">`);
2. the browser: assets/i18n.js sends the page's language in the header `X-Dashboard-Lang`
   with every Dash request (`_dash-layout`, `_dash-update-component`) and keeps the date
   picker's date-fns locale to it;
3. the server: before each Dash request, `layouts.i18n` is set to that header's language,
   so the layout and every callback build, word and format their answer in it, with no
   callback taking the language as an argument.

Changing the language is a new page load (the panel reloads the iframe with another `lang`).
"""

from __future__ import annotations

import html
import json

import flask

from layouts import i18n
from web import context
from web.auth import AuthError, verify_token

HEADER = "X-Dashboard-Lang"
TITLE = i18n.N_("Consumo de IA")  # the page's <title> (app.py gives Dash the Spanish one)


def page_language(args) -> str:
    """The language of a page load from its query string: lang, else the verified token's locale."""
    asked = i18n.normalize(args.get("lang"))
    if asked:
        return asked
    try:
        claims = verify_token(args.get("token"), context.settings().secret)
    except AuthError:
        return i18n.DEFAULT  # no valid token: its claims are not to be trusted, not even the locale
    return i18n.choose(claims.locale)


def index_html(page: str, lang: str) -> str:
    """The served page in `lang`: <html lang> and the JS messages' translations."""
    page = page.replace("<html>", f'<html lang="{lang}">', 1).replace('<html lang="es">', f'<html lang="{lang}">', 1)
    # Inside <script>, "</" could close the tag: JSON allows "<\/" for it.
    messages = json.dumps(i18n.js_messages(lang), ensure_ascii=False).replace("</", "<\\/")
    tag = f'<script id="i18n-messages" type="application/json">{messages}</script>'
    with i18n.use(lang):
        title = html.escape(i18n._(TITLE))
    page = page.replace(f"<title>{TITLE}</title>", f"<title>{title}</title>", 1)
    return page.replace("</head>", tag + "</head>", 1)


def register(app) -> None:
    original = app.interpolate_index
    prefix = app.config.requests_pathname_prefix

    def interpolate_index(**kwargs):
        return index_html(original(**kwargs), page_language(flask.request.args))

    app.interpolate_index = interpolate_index  # Dash's documented hook for the page's HTML

    @app.server.before_request
    def _request_language():
        if flask.request.path.startswith(prefix + "_dash-"):
            flask.g.i18n_token = i18n.activate(flask.request.headers.get(HEADER))

    @app.server.teardown_request
    def _reset_language(_exc):
        token = flask.g.pop("i18n_token", None)
        if token is not None:
            try:
                i18n.deactivate(token)
            except ValueError:  # set in another context (a server that switches contexts): nothing to undo
                pass

    @app.server.after_request
    def _vary(resp: flask.Response) -> flask.Response:
        if flask.request.path.startswith(prefix + "_dash-"):
            resp.vary.add(HEADER)  # the layout and the answers differ by language
        return resp
