"""One meaning per word and one spelling per thing (issue 8, §3), scanned over the rendered
layout, the cards and notes with data, every figure's JSON and the «Ver datos» tables.

- token terms: «Entrada» only as «Entrada (sin caché)» (input_tokens) or «Entrada total»
  (every prompt token); «Lectura de caché»; «Salida»;
- month and weekday names lowercase in charts and tables (ticks, hovers, heatmap, cells);
  in cards and notes only a sentence's first word is capitalised;
- «Intervalo del 80 %», never «Intervalo 80 %»; «N/A» only as a whole value (a ratio without a
  denominator, e.g. the hit rate with no prompt tokens), never inside a sentence; no «Top 10».
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from support.figspec import valid
from test_chart_text import strings
from test_layouts import flat, texts

from layouts import advanced, datatables, figures, fmt, kpis, models, page, plotly_config, theme
from queries import Projection

TZ = "Europe/Madrid"
NAMES = fmt.MONTHS + fmt.SHORT_MONTHS + fmt.DAYS + fmt.SHORT_DAYS
CAPITALISED = re.compile(r"\b(" + "|".join(n.capitalize() for n in NAMES) + r")\b")
STRAY_ENTRADA = re.compile(r"\bEntrada\b(?! \(sin caché\)| total)")


def chart_strings() -> list[str]:
    ts = pd.DataFrame(
        {
            "bucket": pd.date_range("2026-11-30", periods=40, freq="D", tz=TZ),
            "cost_usd": [1.0] * 40,
            "tokens": [10] * 40,
            "executions": [1] * 40,
        }
    )
    proj = Projection(
        status="ok",
        daily_points=10,
        month_start=date(2027, 1, 1),
        month_end=date(2027, 1, 31),
        month_to_date_usd=4.0,
        projected_total_usd=9.0,
        lower80=8.0,
        upper80=10.0,
        forecast=pd.DataFrame(
            {"date": [date(2027, 1, 9), date(2027, 1, 10)], "yhat": [1.0, 1.0], "weight": [1.0, 1.0]}
        ),
        as_of=date(2027, 1, 8),
        fit=(date(2027, 1, 1), np.array([1.0, 0.0]), np.zeros((2, 2)), 1.0, 1.5),
    )
    acts = pd.DataFrame(
        [
            {"bucket": b, "action_type": a, "cost_usd": 1.0, "tokens": 10, "executions": 1}
            for b in ts["bucket"]
            for a in theme.ACTIONS
        ]
    )
    mods = pd.DataFrame(
        [
            {
                "provider": "p",
                "model": f"m{i}",
                "cost_usd": 2.0 + i,
                "input_tokens": 100,
                "output_tokens": 5,
                "cache_read_tokens": 50,
                "executions": 2,
                "avg_latency_ms": np.nan if i == 0 else 10.0 * i,
            }
            for i in range(12)
        ]
    )
    prices = {("p", f"m{i}"): (Decimal(1), Decimal("0.1"), Decimal(3)) for i in range(6)}
    heat = pd.DataFrame(
        {"dow": [0, 3], "hour": [1, 2], "tokens": [5, 50], "cost_usd": [1.0, 2.0], "executions": [1, 1]}
    )
    split = pd.DataFrame({"source": ["system", "byok"], "cost_usd": [3.0, 1.0], "tokens": [1, 1], "executions": [1, 1]})
    figs = [figures.heatmap(heat, TZ), figures.source_split(split)]
    for g in ("day", "week", "month"):
        figs.append(figures.trend(ts, g, proj))
        figs.append(figures.actions_area(acts, "cost_usd", g))
    for view in ("cost", "tokens"):
        figs.append(figures.models_bars(mods, view=view, prices=prices))
    figs += [
        figures.actions_donut(acts, "tokens"),
        figures.models_bubble(mods),
        figures.models_bubble(mods, scale="log"),
    ]
    out = [s for f in figs for s in strings(valid(f).to_plotly_json())]
    out += [s for s in strings(plotly_config.LOCALE)]
    tables = [
        datatables.trend_table(ts, "day"),
        datatables.trend_table(ts, "month"),
        datatables.actions_area_table(acts, "tokens", "week"),
        datatables.heatmap_table(heat, TZ),
        datatables.models_bars_table(mods, "cost", prices),
        datatables.bubbles_table(mods, "linear"),
    ]
    out += [flat(t) for t in tables]
    return out


def page_strings() -> list[str]:
    summary = {
        "total_cost_usd": 12.5,
        "total_tokens": 1_500,
        "total_input_tokens": 1_000,
        "total_output_tokens": 500,
        "total_cache_read_tokens": 300,
        "executions": 3,
    }
    cache = {
        "hit_rate": 0.3,
        "estimated_savings_usd": 1.0,
        "write_premium_usd": 0.25,
        "net_savings_usd": 0.75,
        "total_cache_read_tokens": 300,
        "total_input_tokens": 1_000,
        "skipped_models_count": 1,
    }
    p = Projection(
        status="ok",
        daily_points=9,
        month_start=date(2026, 6, 1),
        month_end=date(2026, 6, 30),
        month_to_date_usd=10.0,
        projected_total_usd=30.0,
        lower80=25.0,
        upper80=35.5,
    )
    split = pd.DataFrame({"source": ["system", "byok"], "cost_usd": [3.0, 1.0], "tokens": [1, 1], "executions": [1, 1]})
    parts = [
        texts(page.layout()),
        flat(kpis.cost_card(summary)),
        flat(kpis.tokens_card(summary)),
        flat(kpis.cache_card(cache, "Todos")),
        flat(kpis.cache_card({"hit_rate": None, "skipped_models_count": 0}, "Todos")),
        flat(kpis.projection_card(p)),
        flat(advanced.cache_detail(cache, "Todos")),
        flat(advanced.cache_detail({"hit_rate": None, "skipped_models_count": 0}, "Todos")),
        flat(advanced.split_table(split)),
        flat(models.models_note(["m0"], 3, 1)),
    ]
    return parts


def test_token_terms_mean_one_thing():
    everything = chart_strings() + page_strings()
    stray = [s for s in everything if STRAY_ENTRADA.search(s)]
    assert not stray, stray[:3]
    cards = "\n".join(page_strings())
    for term in (theme.INPUT, theme.CACHE_READ, theme.OUTPUT, theme.PROMPT_TOTAL):
        assert term in cards  # the KPI cards and Avanzado use the defined terms
    assert "Una llamada" not in cards and "cuenta como 0" not in cards  # footnotes that read as "one call"


def test_month_and_weekday_names_are_lowercase_in_charts_and_tables():
    bad = [s for s in chart_strings() if CAPITALISED.search(s)]
    assert not bad, bad[:3]


def test_in_cards_and_notes_a_capitalised_name_only_starts_a_sentence():
    for text in page_strings():
        for line in text.split("\n"):
            for m in CAPITALISED.finditer(line):
                before = line[: m.start()].rstrip()
                assert before == "" or before[-1] in ".:·", line


def test_one_spelling_for_the_interval_and_no_na_or_top_10():
    everything = "\n".join(chart_strings() + page_strings())
    intervals = re.findall(r"[Ii]ntervalo[^:<]{0,12}80\s?%", everything)
    assert intervals and set(intervals) <= {"Intervalo del 80 %", "intervalo del 80 %"}, set(intervals)
    assert not re.search(r"\b[Tt]op 10\b", everything)
    # N/A is a whole value (a ratio without a denominator), never words inside a sentence.
    assert all(line.strip() == "N/A" for line in everything.split("\n") if "N/A" in line)
    assert "N/A" in "\n".join(page_strings())  # the hit rate card without prompt tokens
