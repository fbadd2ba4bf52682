"""The page's cost truth: the unpriced estimate under the cost KPI, net savings on the cache
card, the savings timeline and the per-model cache table (pure builders, no browser)."""

from __future__ import annotations

import pandas as pd
from support.figspec import valid
from test_layouts import SUMMARY, flat

from layouts import cache, figures, kpis, theme

CACHE = {
    "hit_rate": 0.3,
    "estimated_savings_usd": 12.0,
    "write_premium_usd": 2.5,
    "net_savings_usd": 9.5,
    "total_cache_read_tokens": 300_000,
    "total_input_tokens": 1_000_000,
    "skipped_models_count": 0,
}


def test_cost_card_shows_the_unpriced_estimate_apart():
    text = flat(kpis.cost_card({**SUMMARY, "unpriced_executions": 1204, "estimated_unpriced_cost_usd": 4.1}))
    assert "+ US$ 4,10 estimados en 1.204 llamadas sin precio" in text
    assert "US$ 1.234,50" in text  # the reported total is unchanged
    assert "sin precio" not in flat(
        kpis.cost_card({**SUMMARY, "unpriced_executions": 0, "estimated_unpriced_cost_usd": 0})
    )
    one = flat(kpis.cost_card({**SUMMARY, "unpriced_executions": 1, "estimated_unpriced_cost_usd": 0.01}))
    assert "en 1 llamada sin precio" in one


def test_cache_card_shows_net_savings_with_gross_and_premium_in_the_hover():
    text = flat(kpis.cache_card(CACHE, "Sistema"))
    assert "Ahorro neto US$ 9,50" in text
    assert "Ahorro bruto US$ 12,00 − prima de escritura en caché US$ 2,50 = ahorro neto US$ 9,50" in text


def _points(net, gross, rate, partial):
    n = len(net)
    return pd.DataFrame(
        {
            "bucket": pd.date_range("2026-06-01", periods=n, freq="D", tz="Asia/Kathmandu"),
            "partial": partial,
            "in_progress": [False] * (n - 1) + [partial[-1]],
            "cache_read_tokens": [10] * n,
            "total_input_tokens": [0 if r is None else 100 for r in rate],
            "hit_rate": rate,
            "estimated_savings_usd": gross,
            "net_savings_usd": net,
        }
    )


def test_timeline_draws_net_savings_and_the_hit_rate():
    fig = valid(
        figures.cache_timeline(
            _points([1.0, -0.5, 2.0], [1.5, 0.5, 2.5], [0.2, None, 0.4], [False, False, True]), "day"
        )
    )
    bars, line = fig.data
    assert list(bars.y) == [1.0, -0.5, 2.0]
    assert list(line.y) == [20.0, None, 40.0]  # a gap where a bucket has no prompt tokens
    assert list(bars.customdata[1]) == ["-US$ 0,50", "US$ 0,50", "US$ 1,00", ""]  # net, gross, premium
    assert line.line.color == theme.HIT_RATE and bars.marker.color[0] == theme.SAVINGS
    assert bars.marker.color[2] != theme.SAVINGS  # the bucket in progress is paler
    assert fig.layout.meta["partial"] == [2]
    assert figures.is_empty(figures.cache_timeline(_points([0.0], [0.0], [None], [False]), "day"))


def test_models_table_lists_premium_and_net_and_says_sin_precio():
    df = pd.DataFrame(
        [
            ("anthropic", "<b>claude</b>", 10, 5, 100, 0.1, 3.0, 1.0, 2.0, True, True),
            ("openai", "gpt-4o", 10, 5, 100, 0.1, 1.0, 0.0, 1.0, True, False),
            ("acme", "x", 0, 0, 0, None, 0.0, 0.0, 0.0, False, False),
        ],
        columns=[
            "provider",
            "model",
            "cache_read_tokens",
            "cache_write_tokens",
            "total_input_tokens",
            "hit_rate",
            "estimated_savings_usd",
            "write_premium_usd",
            "net_savings_usd",
            "priced",
            "write_priced",
        ],
    )
    text = flat(cache.models_table(df))
    assert "<b>claude</b>" in text  # a name is text, never markup
    assert "US$ 3,00" in text and "US$ 1,00" in text and "US$ 2,00" in text
    assert "sin precio" in text  # gpt-4o writes to the cache without a cache-write price
    assert "acme" not in text  # no prompt tokens: left out
