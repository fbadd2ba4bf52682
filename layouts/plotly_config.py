"""plotly.js's config for every graph, in the page's language (layouts/common.py hands it to each
dcc.Graph): no mode bar, responsive, and the locale: Spanish month and day names on date axes and
the decimal comma, or plotly's built-in English."""

from __future__ import annotations

from . import fmt, i18n

# plotly.js locale handed with every graph's config (no global script): Spanish month
# and day names on date axes, decimal comma.
LOCALE = {
    "es": {
        "dictionary": {},
        "format": {
            # Lowercase, as Spanish writes them inside text: «1 dic 2026», «mar 1 dic».
            "days": list(fmt.DAYS),
            "shortDays": list(fmt.SHORT_DAYS),
            "months": list(fmt.MONTHS),
            "shortMonths": list(fmt.SHORT_MONTHS),
            "date": "%d/%m/%Y",
            "decimal": ",",
            "thousands": ".",
            "grouping": [3],
            "currency": ["US$ ", ""],
        },
    }
}

GRAPH_CONFIG = {
    "displayModeBar": False,
    "responsive": True,
    "locale": "es",
    "locales": LOCALE,
    "scrollZoom": False,
    "doubleClick": "reset",
}


def graph_config() -> dict:
    """GRAPH_CONFIG in the page's language: plotly.js names months and days from this locale
    (Spanish: LOCALE above; English: plotly's built-in "en", no dictionary to send)."""
    lang = i18n.current()
    if lang == "es":
        return GRAPH_CONFIG
    return {k: v for k, v in GRAPH_CONFIG.items() if k != "locales"} | {"locale": lang}
