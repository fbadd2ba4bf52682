"""The page's languages: gettext catalogues managed by Babel, and the language of the moment.

Spanish is the default and the source language: every message id (msgid) is the Spanish text
as the code writes it, so Spanish needs no catalogue and a string nobody translated still
reads in Spanish. English lives in `layouts/locale/en/LC_MESSAGES/messages.po`, extracted
from the code with `pybabel extract` (babel.cfg; see CONTRIBUTING.md, «Wording on the page»).

How code marks a string:

- `_("Costo total")` where the text is used (inside a function, so it runs in the
  language of the request);
- `N_("Costo total")` for a module-level constant (marks it for extraction, translates
  nothing), and `_(CONSTANT)` where the constant is shown;
- `ngettext("{n} modelo", "{n} modelos", n).format(n=n)` for plurals; placeholders are
  `str.format` names, never f-strings (an f-string's text is not a msgid);
- in assets/*.js, `T("…")` (window.aiUsageI18n.t): the server sends the browser the
  translations of the messages extracted from the JS files (`js_messages`).

The language of the moment is a context variable: callbacks/language.py sets it for each
Dash request from the page's language (header X-Dashboard-Lang), tests and scripts use
`with use("en"):`. layouts/fmt.py formats numbers and dates for it.

.mo files: compiled by `make` (`pybabel compile`, target `catalogues`), never committed.
When the .mo is missing or older than its .po (a fresh clone, a pip install, a `git pull`),
the .po is compiled in memory on first use, so the page always shows the committed text.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("es", "en")  # contract §4: `lang` is es (the default) or en
DEFAULT = "es"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_language: ContextVar[str] = ContextVar("ai_usage_language", default=DEFAULT)


def normalize(value) -> str | None:
    """A known language from what a URL, a header or a token says ('en', 'EN', 'en-GB',
    'en_US' -> 'en'); None for anything else (unknown, empty, not a string)."""
    if not isinstance(value, str) or not value or len(value) > 35:
        return None
    base = value.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def choose(*candidates) -> str:
    """The first candidate that names a known language, else Spanish."""
    for c in candidates:
        lang = normalize(c)
        if lang:
            return lang
    return DEFAULT


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of `lang` (Spanish: none, the msgids are the Spanish text)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return NullTranslations()
    po = po_path(lang)
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def current() -> str:
    """The language the page is being built in ('es' or 'en')."""
    return _language.get()


def gettext(message: str) -> str:
    """`message` (Spanish, as written in the code) in the current language."""
    return translations(current()).gettext(message) if message else message


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # the gettext convention's name for a no-op marker
    """Mark a module-level string for extraction; translate it with `_()` where it is shown."""
    return message


def activate(lang) -> Token[str]:
    """Make `lang` (normalized; unknown -> es) the current language; returns the token to reset it."""
    return _language.set(choose(lang))


def deactivate(token: Token[str]) -> None:
    _language.reset(token)


@contextmanager
def use(lang) -> Iterator[str]:
    """`with use("en"):` builds, formats and words everything inside in English."""
    token = activate(lang)
    try:
        yield current()
    finally:
        deactivate(token)


@functools.cache
def js_messages(lang: str) -> dict[str, str]:
    """The translations of the messages of assets/*.js (their .po entries cite a .js file),
    handed to the browser with the page; empty for Spanish (the msgids are the text)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return {}
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and any(loc.endswith(".js") for loc, _ in m.locations)
    }
