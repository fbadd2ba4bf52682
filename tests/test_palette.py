"""One meaning per colour on the page (issue 8, §3): a colour that says «cost» never says
«Sistema», the colour of an action type is no token type's, and so on."""

from __future__ import annotations

import copy
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from support.figspec import sent, valid

from layouts import figures, fmt, plot, skin, theme
from layouts.figures import ghost

TZ = "Europe/Madrid"


def hexify(colour: str) -> str:
    """'#4F46E5' or 'rgba(79, 70, 229, 0.4)' -> '#4f46e5'."""
    m = re.match(r"rgba?\((\d+),\s*(\d+),\s*(\d+)", colour)
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in m.groups())) if m else colour.lower()


def meanings_by_colour(mode: str = "light", built: list | None = None) -> dict[str, set[str]]:
    """colour -> the meanings it is drawn with across every chart of the page (in that theme);
    `built` (a list) receives each figure as its builder returned it."""

    def dressed(fig):  # a valid plotly figure (go.Figure validates every property)
        if built is not None:
            built.append(fig)
        return valid(skin.dress(fig, mode))

    pairs: list[tuple[str, str]] = []
    ts = pd.DataFrame(
        {
            "bucket": pd.date_range("2026-06-01", periods=5, freq="D", tz=TZ),
            "cost_usd": [1.0] * 5,
            "tokens": [10] * 5,
            "executions": [1] * 5,
        }
    )
    trend = dressed(figures.trend(ts, "day"))
    pairs += [(trend.data[0].line.color, "tokens"), (trend.data[1].line.color, "cost")]
    # The comparison's ghost line (the earlier window's cost): its own colour, not the cost's.
    aligned = ts.assign(previous_cost_usd=[0.5] * 5)
    ghosted = dressed(ghost.add_previous(figures.trend(ts, "day"), aligned, ts, "day", "Periodo anterior", fmt.USD))
    pairs += [(ghosted.data[1].line.color, "previous"), (ghosted.data[2].line.color, "cost")]
    rows = [
        {"bucket": b, "action_type": a, "cost_usd": 1.0, "tokens": 10, "executions": 1}
        for b in ts["bucket"]
        for a in list(theme.ACTIONS) + ["unknown"]
    ]
    acts = pd.DataFrame(rows)
    pairs += [(t.line.color, t.name) for t in dressed(figures.actions_area(acts, "cost_usd", "day")).data]
    pie = dressed(figures.actions_donut(acts, "cost_usd")).data[0]
    pairs += list(zip(pie.marker.colors, pie.labels))
    models = pd.DataFrame(
        [
            {
                "provider": "p",
                "model": f"m{i}",
                "cost_usd": 5.0 - i,
                "input_tokens": 100,
                "output_tokens": 50,
                "cache_read_tokens": 20,
                "executions": 3,
                "avg_latency_ms": 100.0 * (i + 1),
            }
            for i in range(3)
        ]
    )
    prices = {("p", "m0"): (Decimal(1), Decimal("0.1"), Decimal(4)), ("p", "m1"): None}
    for view in ("cost", "tokens"):
        pairs += [(t.marker.color, t.name) for t in dressed(figures.models_bars(models, view=view, prices=prices)).data]
    pairs.append((dressed(figures.models_bubble(models)).data[0].marker.line.color, "model"))
    split = pd.DataFrame({"source": ["system", "byok"], "cost_usd": [3.0, 1.0], "tokens": [1, 1], "executions": [1, 1]})
    pie = dressed(figures.source_split(split)).data[0]
    pairs += list(zip(pie.marker.colors, pie.labels))
    points = pd.DataFrame(
        {
            "bucket": ts["bucket"],
            "partial": [False] * 5,
            "cache_read_tokens": [1] * 5,
            "total_input_tokens": [2] * 5,
            "hit_rate": [0.5] * 5,
            "estimated_savings_usd": [1.0] * 5,
            "net_savings_usd": [0.5] * 5,
        }
    )
    bars, rate = dressed(figures.cache_timeline(points, "day")).data
    pairs += [(c, "savings") for c in bars.marker.color] + [(rate.line.color, "hit_rate")]
    out: dict[str, set[str]] = {}
    for colour, meaning in pairs:
        out.setdefault(hexify(colour), set()).add(meaning)
    return out


def test_no_colour_means_two_things_across_the_charts():
    shared = {c: m for c, m in meanings_by_colour().items() if len(m) > 1}
    assert not shared, shared  # e.g. indigo = the cost line AND Sistema, slate = token volume AND Salida


def test_the_palette_gives_each_meaning_its_own_colour_and_the_charts_use_only_it():
    colours = [hexify(c) for c in theme.PALETTE.values()]
    assert len(colours) == len(set(colours)), theme.PALETTE
    assert set(meanings_by_colour()) <= set(colours)
    ramp = {hexify(c) for _, c in theme.HEATMAP_SCALE}
    assert not ramp & (set(colours) - {hexify(theme.TOKENS)})  # the heatmap ramp is token volume only
    assert np.all([c.startswith("#") and len(c) == 7 for c in colours])


def test_slice_text_reads_on_every_slice_colour():
    """Donut percentages sit on the slice's fill: ≥ 4.5:1 on every action and source colour."""

    def ratio(a: str, b: str) -> float:
        hi, lo = sorted([theme._luminance(a), theme._luminance(b)], reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    fills = [c for _, c in theme.ACTIONS.values()] + [theme.OTHER_ACTION[1]] + [c for _, c in theme.SOURCES.values()]
    assert all(ratio(theme.text_on(c), c) >= 4.5 for c in fills), {c: ratio(theme.text_on(c), c) for c in fills}


def test_avatars_use_no_data_colour():
    """Initials avatars are identity, not data: none of their colours is a data colour, and the
    grid's renderer uses exactly theme.AVATAR_COLOURS."""
    import json
    import re
    from pathlib import Path

    assert not set(theme.AVATAR_COLOURS) & set(theme.PALETTE.values())
    js = (Path(__file__).resolve().parent.parent / "assets" / "dashAgGridComponentFunctions.js").read_text()
    assert tuple(json.loads(re.search(r"var COLOURS = (\[[^\]]*\])", js).group(1))) == theme.AVATAR_COLOURS


# ---- The dark theme (?theme=dark): the same meanings, each with its dark variant ----


def ratio(a: str, b: str) -> float:
    hi, lo = sorted([theme._luminance(a), theme._luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_every_meaning_has_one_dark_colour_legible_on_the_dark_card():
    assert set(theme.DARK_PALETTE) == set(theme.PALETTE)
    dark = [c.lower() for c in theme.DARK_PALETTE.values()]
    assert len(dark) == len(set(dark)) and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in dark)
    neutrals = {theme.DARK_INK, theme.DARK_MUTED, theme.DARK_GRID, theme.DARK_BORDER, theme.DARK_SURFACE}
    assert not neutrals & (set(dark) - {theme.DARK_PALETTE["model"]})  # a bubble is neutral (light: MODEL == MUTED)
    assert theme.MODEL == theme.MUTED and theme.DARK_PALETTE["model"] == theme.DARK_MUTED
    # WCAG 1.4.11: graphics at 3:1 against the card; «Sin desglose» is hatched (as in light).
    low = {m: ratio(c, theme.DARK_SURFACE) for m, c in theme.DARK_PALETTE.items() if m != "token:unsplit"}
    assert min(low.values()) >= 3, low
    for text in (theme.DARK_INK, theme.DARK_MUTED):  # chart text, ticks and legends
        assert ratio(text, theme.DARK_SURFACE) >= 4.5


def test_dark_charts_keep_one_meaning_per_colour_and_use_only_dark_colours():
    dark = meanings_by_colour("dark")
    shared = {c: m for c, m in dark.items() if len(m) > 1}
    assert not shared, shared
    assert set(dark) <= {hexify(c) for c in theme.DARK_PALETTE.values()}, set(dark)
    # the same meanings as in light, colour for colour
    light = meanings_by_colour("light")
    assert sorted(map(sorted, dark.values())) == sorted(map(sorted, light.values()))


def test_dress_changes_colours_only():
    ts = pd.DataFrame(
        {
            "bucket": pd.date_range("2026-06-01", periods=5, freq="D", tz=TZ),
            "cost_usd": [1.0, 2.0, 3.0, 4.0, 5.0],
            "tokens": [10] * 5,
            "executions": [1] * 5,
            "partial": [False] * 4 + [True],
            "in_progress": [False] * 4 + [True],
        }
    )
    fig = figures.trend(ts, "day")
    assert skin.dress(fig, "light") is fig and skin.dress(fig, "<b>") is fig  # light, or anything unknown
    light = sent(fig)
    dark = valid(skin.dress(fig, "dark"))
    assert sent(fig) == light  # the light figure is left as it was
    before, after = valid(fig).to_plotly_json()["data"], dark.to_plotly_json()["data"]
    for key in ("x", "y", "customdata", "hovertemplate", "name", "mode", "yaxis"):
        assert [str(t.get(key)) for t in after] == [str(t.get(key)) for t in before], key
    assert dark.layout.meta == valid(fig).layout.meta and dark.layout.template.layout.font.color == theme.DARK_INK
    assert dark.layout.yaxis2.gridcolor == theme.DARK_GRID
    hollow = [t for t in dark.data if t.mode == "markers" and t.showlegend][0]
    assert hollow.marker.color == theme.DARK_SURFACE and hollow.marker.line.color == theme.DARK_PALETTE["cost"]
    assert skin.colour("rgba(79, 70, 229, 0.14)") == "rgba(139, 147, 255, 0.14)"  # the projection band
    assert skin.colour("#123456") == "#123456"  # not a theme colour: as it is


def test_dark_donut_text_and_empty_states_read_on_dark():
    acts = pd.DataFrame(
        [
            {
                "bucket": pd.Timestamp("2026-06-01", tz=TZ),
                "action_type": a,
                "cost_usd": 1.0,
                "tokens": 1,
                "executions": 1,
            }
            for a in theme.ACTIONS
        ]
    )
    pie = valid(skin.dress(figures.actions_donut(acts, "cost_usd"), "dark")).data[0]
    assert all(ratio(t, f) >= 4.5 for t, f in zip(pie.insidetextfont.color, pie.marker.colors))
    empty = valid(skin.dress(figures.empty("Sin datos", 200, "Un detalle"), "dark")).layout.annotations[0]
    assert empty.font.color == theme.DARK_INK and f"color:{theme.DARK_MUTED}" in empty.text


def test_dark_heatmap_ramp_is_token_volume_and_legible():
    ramp = [c for _, c in theme.DARK_HEATMAP_SCALE]
    assert not {hexify(c) for c in ramp} & (
        {hexify(c) for c in theme.DARK_PALETTE.values()} - {theme.DARK_PALETTE["tokens"]}
    )
    # light to dark on a light card, dark to light on a dark one: more tokens always stand out more
    assert [ratio(c, theme.DARK_SURFACE) for c in ramp] == sorted(ratio(c, theme.DARK_SURFACE) for c in ramp)
    assert ratio(ramp[-1], theme.DARK_SURFACE) >= 4.5


def test_html_swatches_carry_both_themes():
    style = theme.swatch(theme.SOURCES["byok"][1])
    assert style == {"--swatch": "#7c2d12", "--swatch-dark": theme.DARK_PALETTE["source:byok"]}


def test_the_templates_are_plotly_templates():
    """theme.TEMPLATE and theme.DARK_TEMPLATE are plain data that plotly.py takes as a template
    (it raises on a property it would not know), with nothing dropped or changed."""
    for template in (theme.TEMPLATE, theme.DARK_TEMPLATE):
        checked = go.layout.Template(template)
        assert sent(checked) == sent(template)
    assert theme.TEMPLATES == {"light": theme.TEMPLATE, "dark": theme.DARK_TEMPLATE}


def test_every_figure_carries_the_light_template_whatever_plotlys_default(monkeypatch):
    """Nothing registers our template as plotly's default: every figure carries theme.TEMPLATE in
    its layout (a dark one, theme.DARK_TEMPLATE), and theme.figure() plus a trace is the figure
    plotly.py builds with template=theme.TEMPLATE and update_layout, whatever plotly's default."""
    import plotly.io as pio

    built: list = []
    meanings_by_colour("light", built)
    heat = pd.DataFrame(
        {"dow": [0, 3], "hour": [1, 2], "tokens": [5, 50], "cost_usd": [1.0, 2.0], "executions": [1, 1]}
    )
    built += [figures.heatmap(heat, TZ), figures.empty(), figures.empty("Sin datos", 200, "Un detalle")]
    assert len(built) >= 12
    for fig in built:
        assert isinstance(fig, plot.Figure) and fig.layout["template"] == theme.TEMPLATE, fig.layout.get("template")
        assert valid(fig).layout.template == go.layout.Template(theme.TEMPLATE)
        assert skin.dress(fig, "dark")["layout"]["template"] == theme.DARK_TEMPLATE

    def built_one():
        fig = theme.figure(height=300, hovermode="x unified")
        fig.add_trace(plot.scatter(x=[1, 2], y=[3, 4]))
        return sent(valid(fig))

    def passed():
        fig = go.Figure(layout={"template": theme.TEMPLATE, "separators": theme.separators()})
        fig.update_layout(height=300, hovermode="x unified")
        fig.add_scatter(x=[1, 2], y=[3, 4])
        return sent(fig)

    assert built_one() == passed()
    assert built_one()["layout"]["template"] == sent(theme.TEMPLATE)
    monkeypatch.setattr(pio.templates, "default", "plotly_dark")
    assert built_one() == passed()
    assert built_one()["layout"]["template"] == sent(theme.TEMPLATE)


NOTE = dict(text="a", x=0, y=0, showarrow=False)


@pytest.mark.parametrize(
    ("start", "props"),
    [
        ({}, dict(margin=dict(l=8), xaxis=dict(title=dict(text="x")), yaxis2=dict(overlaying="y", side="right"))),
        ({"xaxis": {"range": [0, 1], "title": {"text": "t"}}}, dict(xaxis=dict(title=dict(font=dict(size=9))))),
        ({"annotations": [NOTE]}, dict(annotations=[dict(text="b"), dict(text="c")])),
        ({"annotations": [NOTE, dict(text="z", x=1)]}, dict(annotations=[dict(text="b"), dict(text="c")])),
        ({"annotations": [NOTE, dict(text="z", x=1)]}, dict(annotations=[dict(text="b", y=1)])),
        ({"meta": {"a": 1, "b": 2}}, dict(meta={"c": 3}, height=300, hovermode="x unified")),
        ({"height": 300, "xaxis": {"range": [0, 1]}}, dict(height=None, xaxis=dict(range=[1, 2]))),
    ],
    ids=[
        "assign-new",
        "merge-into-axis",
        "annotations-longer",
        "annotations-same-length",
        "annotations-shorter",
        "meta-replaced",
        "none-unsets",
    ],
)
def test_relayout_is_update_layout(start, props):
    """theme.relayout on a plain figure gives the JSON update_layout gives: it assigns where
    update_layout would (a property not set yet, a plain value, meta) and merges where it does
    (into an axis already set; into annotations already there)."""
    a = theme.figure(**copy.deepcopy(start)).add_trace(plot.scatter(x=[1], y=[2]))
    b = go.Figure(layout={"template": theme.TEMPLATE, "separators": theme.separators(), **copy.deepcopy(start)})
    b.add_scatter(x=[1], y=[2])
    relaid = theme.relayout(a, **copy.deepcopy(props))
    assert relaid is a
    assert sent(valid(relaid)) == sent(b.update_layout(**copy.deepcopy(props))), props
