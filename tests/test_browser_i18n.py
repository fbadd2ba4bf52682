"""The page in Spanish and in English, in real Chromium (contract §4: `lang`, the token's `locale`).

Screenshots of both languages go to test-artifacts/ (and to $I18N_SHOTS when set). In English,
a walk over everything the page shows — visible text, titles, aria labels, placeholders, every
figure's JSON (trace names, hovers, axis titles, annotations, heatmap weekdays), the «Ver datos»
tables, the grid and the open date picker — finds no text of the Spanish catalogue whose
English differs: no string is left untranslated.
"""

from __future__ import annotations

import csv
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from test_browser import ORG, SECRET, TZ, chromium, page_factory, served, stamp, wait_sections  # noqa: F401

from layouts import fmt, i18n
from web.auth import mint_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SHOTS = [ARTIFACTS] + ([Path(os.environ["I18N_SHOTS"])] if os.environ.get("I18N_SHOTS") else [])

# Everything the page shows, as one string: text, attributes a person meets (tooltips, screen
# reader names, placeholders) and each chart's own JSON (what plotly draws and hovers).
PAGE_TEXT = """() => {
  const attrs = [...document.querySelectorAll('[title],[aria-label],[placeholder],[alt]')].flatMap(el =>
    ['title', 'aria-label', 'placeholder', 'alt'].map(a => el.getAttribute(a) || ''));
  const charts = [...document.querySelectorAll('.js-plotly-plot')].map(gd =>
    JSON.stringify([gd.data, gd.layout]) + [...gd.querySelectorAll('text')].map(t => t.textContent).join(' | '));
  return [document.title, document.body.innerText, attrs.join(' | '), charts.join(' | ')].join(' \\n ');
}"""


def spanish_fragments() -> set[str]:
    """The fixed Spanish text of every catalogue message whose English differs, cut at its
    placeholders and markup; only fragments long enough to be unmistakable (a word of 5+
    letters, or several words) and that no English translation contains."""
    with i18n.po_path("en").open("rb") as f:
        catalog = read_po(f, locale="en")
    english = " ".join(" ".join(m.string) if isinstance(m.string, tuple) else m.string for m in catalog if m.id)
    out = set()
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid in ids:
            if msgid in strings:
                continue
            for part in re.split(r"%\{[^}]*\}|\{[^}]*\}|<[^>]+>|%-?[a-zA-Z]", msgid):
                part = part.strip(" .,:;()«»·–-÷×=+")
                if len(part) >= 5 and re.search(r"[a-záéíóúñ]{4}", part, re.I) and part not in english:
                    out.add(part)
    # Spanish month and weekday names (the picker, ticks, hovers, heatmap), whole words only.
    out |= {n for n in fmt.MONTHS + fmt.DAYS if len(n) >= 5}
    return out


def open_everything(page) -> None:
    """Avanzado open and every «Ver datos» table open, so their text is on the page too."""
    page.locator("#advanced-toggle").click()
    wait_sections(page, stamp(), ["section-advanced"])
    page.wait_for_timeout(400)  # the collapse animation
    # One table at a time, each open with its content before the next click: the seven at
    # once (seven callbacks and queries together) once left one closed past 30 s in a full
    # CI run on a loaded 2-core machine.
    for button in page.locator(".data-toggle-btn").all():
        region = button.get_attribute("aria-controls")
        button.click()
        page.wait_for_function(
            "r => document.querySelector(`[aria-controls='${r}']`).getAttribute('aria-expanded') === 'true'"
            " && document.getElementById(r).querySelector('table, .chart-note')",
            arg=region,
        )
    page.wait_for_function(
        "() => [...document.querySelectorAll('.data-toggle-btn')].every(b => b.getAttribute('aria-expanded') === 'true')"
        " && [...document.querySelectorAll('.data-region')].every(r => r.querySelector('table, .chart-note'))"
    )


def shoot(page, name: str) -> None:
    for folder in SHOTS:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name), full_page=True)


def untranslated(text: str, fragments: set[str]) -> list[str]:
    return sorted(f for f in fragments if re.search(r"(?<![\w])" + re.escape(f) + r"(?![\w])", text))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_page_speaks_the_language_asked_for(page_factory, served, lang):
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}&lang={lang}")
    wait_sections(page, stamp())
    assert page.evaluate("document.documentElement.lang") == lang
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, f"dashboard-{lang}.png")
    open_everything(page)
    text = page.evaluate(PAGE_TEXT)
    if lang == "es":
        assert "Costo total" in text and "Sin agente" in text and "lunes" in text
        assert "US$" in text and "Total cost" not in text
    else:
        assert "Total cost" in text and "No agent" in text and "Monday" in text and "Cache hit rate" in text
        assert re.search(r"\$\d[\d,]*\.\d\d", text)  # $1,234.56
        assert untranslated(text, spanish_fragments()) == []
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, f"dashboard-{lang}-open.png")


SELECTS = """() => [...document.querySelectorAll('.slice-group')].map(g => {
    const value = g.querySelector('.dash-dropdown-value'), select = g.querySelector('.slice-select');
    return {label: g.querySelector('.filter-label').textContent, text: value.textContent,
            whole: value.scrollWidth <= value.clientWidth, width: select.getBoundingClientRect().width};
})"""


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_filter_selects_show_their_placeholder_whole_at_every_width(page_factory, served, lang):
    """«Todos los modelos» / «All models» reads whole in every select of the slice row, from a
    wide panel to a phone. In English the row fits on one line at 1280–1440 px, and the long
    «Provider/Model» label left its select ~90 px: «All mo…»."""
    for width in (1440, 1280, 1024, 390):
        page = page_factory(width=width, height=700)
        page.goto(f"{served.app_url}?token={served.token}&lang={lang}")
        wait_sections(page, stamp(), ["section-kpis"])
        selects = page.evaluate(SELECTS)
        assert len(selects) == 4 and all(s["whole"] and s["width"] >= 170 for s in selects), (width, selects)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.close()


def test_the_date_picker_names_months_and_buttons_in_the_page_language(page_factory, served):
    page = page_factory()  # a Spanish browser (es-ES) asked for English: the page's language wins
    page.goto(f"{served.app_url}?token={served.token}&lang=en")
    wait_sections(page, stamp())
    page.locator("#filter-preset label", has_text="Custom").click()
    page.locator("#filter-dates-wrap input.dash-datepicker-input").first.click()
    calendar = page.locator(".dash-datepicker-content")
    calendar.wait_for(state="visible")
    month = fmt.convention("en").months[datetime.now(ZoneInfo(TZ)).month - 1]
    shown = calendar.inner_text()
    assert month in shown and not any(n in shown.lower() for n in fmt.MONTHS)
    labels = calendar.locator("[aria-label]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert "Previous month" in labels and "Mes anterior" not in labels
    shoot(page, "datepicker-en.png")


def test_the_token_locale_claim_is_the_default_and_lang_wins(page_factory, served):
    page = page_factory()
    english_token = mint_token(SECRET, ORG, locale="en")
    for query, lang in (
        (f"token={english_token}", "en"),
        (f"token={english_token}&lang=es", "es"),
        (f"token={served.token}&lang=fr", "es"),  # unknown: Spanish
        ("lang=en", "en"),  # no token: the access message, in English
    ):
        page.goto(f"{served.app_url}?{query}")
        assert page.evaluate("document.documentElement.lang") == lang
        if "token" not in query:
            page.locator("#access-denied").wait_for(state="visible")
            assert "AI usage cannot be shown" in page.locator("#access-denied").inner_text()
            shoot(page, "access-denied-en.png")
        else:
            wait_sections(page, stamp())
            expected = "Total cost" if lang == "en" else "Costo total"
            assert expected in page.locator("#section-kpis").inner_text()


def test_the_csv_export_in_english_names_its_columns_and_file_in_english(page_factory, served, tmp_path):
    page = page_factory()
    page.goto(f"{served.app_url}?token={served.token}&lang=en")
    wait_sections(page, stamp())
    page.wait_for_function("() => document.getElementById('agents-count').textContent === '4 rows'")
    with page.expect_download() as dl:
        page.locator("#agents-export").click()
    today = datetime.now(ZoneInfo(TZ)).date()
    assert dl.value.suggested_filename == f"usage-by-agent_{today - timedelta(days=29)}_{today}_all.csv"
    path = tmp_path / "agents.csv"
    dl.value.save_as(path)
    lines = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert lines[0] == [
        "Agent",
        "Agent ID",
        "Cost (USD)",
        "Tokens",
        "Executions",
        "Cost/exec. (USD)",
        "Cost/1K tokens (USD)",
    ]
    assert "No agent" in [r[0] for r in lines[1:]]
