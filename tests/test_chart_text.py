"""Data text in charts is printed, never interpreted: plotly's pseudo-HTML must not see a tag
from a model, provider or action name (issue 8, §4.3). Pure figure tests over every builder."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from support.figspec import valid

from layouts import figures, fmt

LINK = '<a href="https://evil.invalid">m</a>'
BIG = '<span style="font-size:90px">GRANDE</span>'
IMG = "<img src=x onerror=alert(1)>"
ENTITY = "x&lt;b&gt;y"  # plotly decodes entities: this must print as typed, not as '<b>'
HOSTILE = [LINK, BIG, IMG, ENTITY]
TZ = "Europe/Madrid"

# The markup the builders write themselves (bold, line breaks, hover's <extra>, our muted spans).
OWN = re.compile(r"</?b>|<br>|<extra></extra>|<span style='[^'<>\"]*'>|</span>")


def strings(node):
    """Every string anywhere in a figure's JSON (labels, ticks, hovers, names, annotations…)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, (list, tuple, np.ndarray)):
        for v in node:
            yield from strings(v)


def assert_inert(fig):
    found = list(strings(valid(fig).to_plotly_json()))
    bad = [s for s in found if "<" in OWN.sub("", s)]
    assert not bad, bad[:3]
    assert not [s for s in found if "&lt;b&gt;" in s and "&amp;lt;b&amp;gt;" not in s], "entity decoded"
    return found


def model_frame():
    rows = []
    for i, name in enumerate(HOSTILE + ["normal"]):
        rows.append(
            {
                "provider": IMG if i == 0 else "openai",
                "model": name,
                "cost_usd": 10.0 - i,
                "input_tokens": 1000 * (i + 1),
                "output_tokens": 500,
                "cache_read_tokens": 200 * i,
                "executions": 10 + i,
                "avg_latency_ms": 100.0 * (i + 1),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("view", ["cost", "tokens"])
def test_models_bars_print_hostile_names(view):
    df = model_frame()
    prices = {(p, m): (Decimal("2.5"), Decimal("1.25"), Decimal("10")) for p, m in zip(df["provider"], df["model"])}
    prices[(df.at[1, "provider"], df.at[1, "model"])] = None  # one unpriced: the «sin desglose» segment
    found = assert_inert(figures.models_bars(df, view=view, prices=prices))
    assert any(fmt.text(LINK) in s for s in found)  # shown, literally


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_models_bubbles_print_hostile_names(scale):
    found = assert_inert(figures.models_bubble(model_frame(), scale=scale))
    assert any(fmt.text(BIG) in s for s in found)


def test_actions_print_hostile_action_types():
    rows = []
    for b in pd.date_range("2026-06-01", periods=3, freq="D", tz=TZ):
        for action in ["user_interaction", LINK, BIG]:
            rows.append({"bucket": b, "action_type": action, "cost_usd": 1.0, "tokens": 10, "executions": 1})
    df = pd.DataFrame(rows)
    for metric in ("cost_usd", "tokens"):
        assert_inert(figures.actions_area(df, metric, "day"))
        assert_inert(figures.actions_donut(df, metric))


def test_heatmap_split_and_trend_carry_no_raw_tags():
    heat = pd.DataFrame(
        {"dow": [0, 1], "hour": [0, 13], "tokens": [10, 1000], "cost_usd": [0.01, 1.5], "executions": [1, 4]}
    )
    assert_inert(figures.heatmap(heat, TZ))
    split = pd.DataFrame(
        {"source": ["system", "byok"], "cost_usd": [3.0, 1.0], "tokens": [10, 90], "executions": [1, 1]}
    )
    assert_inert(figures.source_split(split))
    ts = pd.DataFrame(
        {
            "bucket": pd.date_range("2026-06-01", periods=5, freq="D", tz=TZ),
            "cost_usd": [1.0] * 5,
            "tokens": [10] * 5,
            "executions": [1] * 5,
        }
    )
    assert_inert(figures.trend(ts, "day"))


def test_text_escapes_what_plotly_interprets():
    assert fmt.text(LINK) == '&lt;a href="https://evil.invalid"&gt;m&lt;/a&gt;'
    assert fmt.text(ENTITY) == "x&amp;lt;b&amp;gt;y" and fmt.text(None) == "" and fmt.text("a & b") == "a &amp; b"


LONG = "byok-custom-" + "".join(chr(0x1F300 + i) for i in range(300))  # 312 characters
TWIN = LONG[:100] + "-other"  # the same first 100 characters: another model


@pytest.mark.parametrize("view", ["cost", "tokens"])
def test_models_bars_clip_long_names_but_keep_each_bar(view):
    """A 300-character model name as a tick squeezed the bars to nothing: the axis prints it
    clipped, each model keeps its own bar (its category is the whole name), and the hover
    names it clipped too."""
    df = model_frame()
    df.loc[0, "model"], df.loc[1, "model"] = LONG, TWIN
    fig = valid(figures.models_bars(df, view=view))
    axis = fig.layout.yaxis
    assert list(axis.tickvals) == list(fig.data[0].y) and len(set(fig.data[0].y)) == len(df)
    assert all(len(html.unescape(t)) <= figures.models.TICK_CHARS for t in axis.ticktext)  # as printed
    assert fmt.short_text(LONG, figures.models.TICK_CHARS) in axis.ticktext
    hovers = [cd[0] for cd in fig.data[0].customdata]
    assert all(len(html.unescape(h)) <= fmt.NAME_CHARS for h in hovers)
    bubbles = valid(figures.models_bubble(df))
    assert all(len(html.unescape(cd[0])) <= fmt.NAME_CHARS + 4 for cd in bubbles.data[0].customdata)  # «12. » + name


def test_clip_keeps_short_names_and_marks_the_cut():
    assert fmt.clip("gpt-4o-mini") == "gpt-4o-mini" and fmt.clip(None) == ""
    assert fmt.clip("x" * fmt.NAME_CHARS) == "x" * fmt.NAME_CHARS
    cut = fmt.clip(LONG)
    assert len(cut) == fmt.NAME_CHARS and cut.endswith("…") and LONG.startswith(cut[:-1])
    assert fmt.short_text("<b>" + "y" * 100) == fmt.text("<b>" + "y" * (fmt.NAME_CHARS - 4) + "…")


def test_an_anomaly_names_a_long_model_clipped():
    from datetime import date

    from layouts.anomalies import explain
    from queries.anomalies import Anomaly, Contributor

    a = Anomaly(date(2026, 12, 4), 37.56, 2.06, 9.0, "up", (Contributor("model", LONG, 36.0),))
    text = explain(a, {})
    assert fmt.clip(LONG) in text and LONG not in text
