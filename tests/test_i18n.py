"""Languages (contract §4): the catalogue is complete, numbers and dates per language, the
language choice (?lang=, the token's locale claim, es), and the page built in English with no
Spanish left. The browser half is tests/test_browser_i18n.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from support.figspec import valid

from layouts import fmt, i18n
from storage.settings import Settings
from web.auth import mint_token, verify_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "i18n-test-secret-0123456789-abcdefghij"


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="en" if "/en/" in str(path) else None)


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


# ------------------------------------------------------------------ the catalogue


def test_every_marked_string_is_in_the_template_and_the_english_catalogue(tmp_path):
    """Extracting the code again gives the committed messages.pot: no string was marked and
    left out (run `make messages`), none was removed and left behind."""
    pybabel = Path(sys.executable).with_name("pybabel")
    flags = re.search(r"^EXTRACT_FLAGS := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    out = tmp_path / "messages.pot"
    subprocess.run([str(pybabel), "-q", "extract", *flags, "-o", str(out), "."], cwd=ROOT, check=True)
    fresh = _ids(_catalog(out))
    assert fresh == _ids(_catalog(ROOT / "layouts/locale/messages.pot"))
    assert fresh == _ids(_catalog(i18n.po_path("en")))
    assert len(fresh) > 200  # the whole page, not a sample


def test_every_english_message_is_translated_and_keeps_its_placeholders():
    catalog = _catalog(i18n.po_path("en"))
    problems = []
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(s and s.strip() for s in strings):
            problems.append(("untranslated", ids[0]))
            continue
        for msgid, msgstr in zip(ids, strings):
            for pattern in (r"\{[a-z_]+\}", r"%\{[^}]+\}"):  # str.format names, plotly's %{…}
                if set(re.findall(pattern, msgid)) - {"{n}"} != set(re.findall(pattern, msgstr)) - {"{n}"}:
                    problems.append(("placeholders", msgid))
    assert problems == []


def test_the_javascript_messages_reach_the_browser_in_english():
    messages = i18n.js_messages("en")
    assert messages["Mes anterior"] == "Previous month" and messages["hasta hoy"] == "until today"
    assert messages and all(messages.values())
    assert i18n.js_messages("es") == {}


def test_a_missing_or_stale_mo_is_compiled_from_the_po(tmp_path, monkeypatch):
    """A fresh clone has no .mo (never committed): the .po is compiled in memory."""
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "layouts/locale", locale, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    i18n.translations.cache_clear()
    try:
        assert not any(locale.rglob("*.mo"))
        with i18n.use("en"):
            assert i18n._("Costo total") == "Total cost"
            assert i18n.ngettext("{n} fila", "{n} filas", 1) == "{n} row"
    finally:
        i18n.translations.cache_clear()


# ------------------------------------------------------------------ choosing the language


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("en_US", "en"),
        ("es", "es"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_language_values(value, expected):
    assert i18n.normalize(value) == expected
    assert i18n.choose(value) == (expected or "es")


def test_the_language_comes_from_lang_then_the_token_locale_then_spanish():
    from app import create_app
    from callbacks.language import page_language

    app = create_app(Settings(database_url="sqlite://", secret=SECRET))
    english = mint_token(SECRET, "org-1", locale="en")
    plain = mint_token(SECRET, "org-1")
    with app.server.app_context():
        assert page_language({"token": english}) == "en"
        assert page_language({"token": english, "lang": "es"}) == "es"
        assert page_language({"token": plain}) == "es"
        assert page_language({"token": plain, "lang": "en"}) == "en"
        assert page_language({"token": plain, "lang": "xx"}) == "es"
        assert page_language({"token": "forged", "lang": "en"}) == "en"
        assert page_language({"token": mint_token("another-secret-0123456789-abcdefghij", "o", locale="en")}) == "es"
    client = app.server.test_client()
    page = client.get(f"/?token={english}").get_data(as_text=True)
    assert '<html lang="en">' in page and "<title>AI usage</title>" in page
    assert '"Mes anterior": "Previous month"' in page  # the browser's messages
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="es">' in page and "<title>Consumo de IA</title>" in page


def test_the_token_carries_the_locale_claim_and_the_cli_mints_it(monkeypatch, capsys):
    assert verify_token(mint_token(SECRET, "o", locale="en"), SECRET).locale == "en"
    assert verify_token(mint_token(SECRET, "o"), SECRET).locale is None
    from ai_usage import cli

    monkeypatch.setenv("AI_USAGE_SECRET", SECRET)
    assert cli.main(["token", "--org", "o", "--locale", "en"]) == 0
    assert verify_token(capsys.readouterr().out.strip(), SECRET).locale == "en"


def test_every_dash_request_answers_in_the_language_of_its_header():
    from app import create_app

    app = create_app(Settings(database_url="sqlite://", secret=SECRET))
    client = app.server.test_client()
    english = client.get("/_dash-layout", headers={"X-Dashboard-Lang": "en"})
    spanish = client.get("/_dash-layout")
    assert "Total cost" in english.get_data(as_text=True) and "Costo total" not in english.get_data(as_text=True)
    assert "Costo total" in spanish.get_data(as_text=True)
    assert "X-Dashboard-Lang" in english.headers.get("Vary", "")
    assert i18n.current() == "es"  # nothing leaks out of a request


# ------------------------------------------------------------------ numbers and dates per language

CASES = [  # (call, es, en)
    (lambda: fmt.usd(1234.56), "US$ 1.234,56", "$1,234.56"),
    (lambda: fmt.usd(-5), "-US$ 5,00", "-$5.00"),
    (lambda: fmt.usd(0.001), "< US$ 0,01", "< $0.01"),
    (lambda: fmt.usd(None), "—", "—"),
    (lambda: fmt.signed_usd(41.2), "+US$ 41,20", "+$41.20"),
    (lambda: fmt.signed_usd(-20), "−US$ 20,00", "−$20.00"),
    (lambda: fmt.signed_usd(-0.004), "−< US$ 0,01", "−< $0.01"),  # a fall under a cent: never «< −US$ 0,01»
    (lambda: fmt.signed_usd(0.004), "+< US$ 0,01", "+< $0.01"),
    (lambda: fmt.percent(0.124), "12,4 %", "12.4%"),
    (lambda: fmt.percent(None), "N/A", "N/A"),
    (lambda: fmt.share(1, 100000), "< 0,1 %", "< 0.1%"),
    (lambda: fmt.compact(950), "950", "950"),
    (lambda: fmt.compact(820_000), "820K", "820K"),
    (lambda: fmt.compact(1_400_000), "1,4M", "1.4M"),
    (lambda: fmt.compact(2_000_000), "2M", "2M"),
    (lambda: fmt.compact(2_300_000_000), "2,3 mil M", "2.3B"),
    (lambda: fmt.integer(1234), "1.234", "1,234"),
    (lambda: fmt.number(1412345.5, 1), "1.412.345,5", "1,412,345.5"),
    (lambda: fmt.day(date(2026, 12, 1)), "1 dic 2026", "Dec 1, 2026"),
    (lambda: fmt.month(date(2026, 12, 1)), "diciembre de 2026", "December 2026"),
    (lambda: fmt.long_day(date(1970, 1, 1)), "1 de enero de 1970", "January 1, 1970"),
    (lambda: fmt.bucket(datetime(2026, 12, 1, 14), "hour"), "mar 1 dic 2026, 14:00", "Tue, Dec 1, 2026, 14:00"),
    (lambda: fmt.bucket(datetime(2026, 11, 30), "week"), "Semana del 30 nov 2026", "Week of Nov 30, 2026"),
    (lambda: fmt.bucket(datetime(2026, 12, 6), "day"), "dom 6 dic 2026", "Sun, Dec 6, 2026"),
    (lambda: fmt.window(date(2026, 6, 1), date(2026, 6, 30)), "1 jun 2026 – 30 jun 2026", "Jun 1, 2026 – Jun 30, 2026"),
    (lambda: fmt.days()[1], "lunes", "Monday"),
    (lambda: fmt.short_months()[8], "sept", "Sep"),
]


@pytest.mark.parametrize(("call", "es", "en"), CASES)
def test_numbers_and_dates_per_language(call, es, en):
    assert call() == es  # Spanish by default
    with i18n.use("en"):
        assert call() == en
    with i18n.use("es"):
        assert call() == es


def test_charts_use_the_language_separators_and_locale():
    from layouts import plotly_config, theme

    assert valid(theme.figure()).layout.separators == ",."
    assert plotly_config.graph_config()["locale"] == "es"
    with i18n.use("en"):
        assert valid(theme.figure()).layout.separators == ".,"
        assert plotly_config.graph_config()["locale"] == "en"


# ------------------------------------------------------------------ the page built in English


def _strings(component) -> list[str]:
    """Every string in a Dash component tree (children and props), recursively."""
    out: list[str] = []

    def walk(v):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif hasattr(v, "to_plotly_json"):
            walk(v.to_plotly_json())

    walk(component)
    return out


def test_the_layout_in_english_holds_no_spanish_text_of_the_catalogue():
    from test_browser_i18n import spanish_fragments, untranslated

    from layouts import page

    with i18n.use("en"):
        text = " | ".join(_strings(page.layout()))
    assert "Total cost" in text and "Breakdown by action" in text and "Rows per page" in text
    assert untranslated(text, spanish_fragments()) == []
    spanish = " | ".join(_strings(page.layout()))
    assert "Costo total" in spanish and "Desglose por acción" in spanish


def test_the_figures_in_english_name_weekdays_axes_and_hovers_in_english():
    import pandas as pd
    from test_browser_i18n import spanish_fragments, untranslated

    from layouts import figures

    heat = pd.DataFrame(
        {"dow": [1, 3], "hour": [9, 14], "tokens": [1200, 50], "cost_usd": [0.5, 0.1], "executions": [3, 1]}
    )
    with i18n.use("en"):
        fig = figures.heatmap(heat, "Europe/Madrid")
        empty = figures.empty()
    text = json.dumps([valid(fig).to_plotly_json(), valid(empty).to_plotly_json()], default=str, ensure_ascii=False)
    assert '"Monday"' in text and "Local hour (Europe/Madrid)" in text and "No data in this period" in text
    assert "Cost: %{customdata[3]}" in text
    assert untranslated(text, spanish_fragments()) == []


@pytest.mark.parametrize(
    "lang, eur, tiny, negative, axis, usd, note",
    [
        (
            "es",
            "1.135,80 €",
            "< 0,01 €",
            "-2,76 €",
            {"ticksuffix": " €"},
            "US$ 1.234,56",
            "Importes en EUR a 0,92 por USD (tasa del 1 dic 2026).",
        ),
        (
            "en",
            "€1,135.80",
            "< €0.01",
            "-€2.76",
            {"tickprefix": "€"},
            "$1,234.56",
            "Amounts in EUR at 0.92 per USD (rate of Dec 1, 2026).",
        ),
    ],
)
def test_money_follows_the_language_and_the_display_currency(lang, eur, tiny, negative, axis, usd, note):
    """fmt.Money (firstrun's display currency) in i18n's conventions: the symbol where the language
    writes it, its separators; USD exactly as usd() writes it without a display currency."""
    from decimal import Decimal

    money = fmt.Money("EUR", Decimal("0.92"), date(2026, 12, 1))
    with i18n.use(lang):
        assert fmt.usd(1234.56, money=money) == eur
        assert fmt.usd(0.001, money=money) == tiny
        assert fmt.usd(-3, money=money) == negative
        assert money.axis() == axis
        assert money.note() == note
        assert fmt.usd(1234.56, money=fmt.USD) == fmt.usd(1234.56) == fmt.USD.format(1234.56) == usd
        assert fmt.USD.axis() == {"tickprefix": fmt.money_prefix()}


@pytest.mark.parametrize(
    ("lang", "code", "amount", "unit", "tiny"),
    [
        ("es", "JPY", "7.222 JPY", "0,62 JPY", "< 1 JPY"),
        ("en", "JPY", "JPY 7,222", "JPY 0.62", "< JPY 1"),
        ("es", "BHD", "17,939 BHD", "0,00154 BHD", "< 0,001 BHD"),
        ("en", "BHD", "BHD 17.939", "BHD 0.00154", "< BHD 0.001"),
    ],
)
def test_money_keeps_the_currency_minor_units(lang, code, amount, unit, tiny):
    """An amount has the currency's decimals (JPY 0, BHD 3), a unit cost two more; the dollar's
    and the euro's stay 2 and 4."""
    from decimal import Decimal

    rate = {"JPY": Decimal("151.37"), "BHD": Decimal("0.376")}[code]
    money = fmt.Money(code, rate, date(2026, 12, 1))
    with i18n.use(lang):
        assert fmt.usd(47.71, money=money) == amount
        assert fmt.usd(0.0041, 4, money=money) == unit
        assert fmt.usd(0.0001, money=money) == tiny
        assert money.places() == money.minor_units and fmt.Money("EUR").places(4) == 4
