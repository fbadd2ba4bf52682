"""Figure builders: a frame in, traces, axes and values out (pure: no database, no Dash)."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from support.figspec import valid

from layouts import figures, theme
from layouts.figures import actions as fa, advanced as fadv, bubble_labels as bl, models as fm, timeline as ft
from queries import Projection

TZ = "Europe/Madrid"


def series(days=10, start="2026-06-01", freq="D", cost=None, tokens=None):
    buckets = pd.date_range(start, periods=days, freq=freq, tz=TZ)
    cost = cost if cost is not None else [1.5 + i for i in range(days)]
    tokens = tokens if tokens is not None else [1000 * (i + 1) for i in range(days)]
    return pd.DataFrame({"bucket": buckets, "cost_usd": cost, "tokens": tokens, "executions": [3] * days})


def projection(
    start=date(2026, 6, 11),
    end=date(2026, 6, 30),
    slope=0.0,
    level=2.0,
    total=99.0,
    first_weight=1.0,
    origin=date(2026, 6, 1),
    sigma2=1.0,
    t=1.5,
    status="ok",
):
    """A fitted projection: ŷ = level + slope·(days since origin), σ̂² and t given, no
    coefficient uncertainty; forecast days start..end, the first with weight first_weight."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    yhat = [level + slope * (d - origin).days for d in days]
    weights = [first_weight] + [1.0] * (len(days) - 1)
    month_start = end.replace(day=1)
    return Projection(
        status=status,
        daily_points=10,
        month_start=month_start,
        month_end=end,
        month_to_date_usd=40.0,
        projected_total_usd=total,
        lower80=80.0,
        upper80=120.0,
        forecast=pd.DataFrame({"date": days, "yhat": yhat, "weight": weights}),
        as_of=start,
        fit=(origin, np.array([level - slope * 0, slope]), np.zeros((2, 2)), sigma2, t),
    )


def partial_series(days=10, start="2026-06-01", freq="D", first=False, last=True, cost=None):
    """series() with the contract's partial flags: the first cut by the window, the last in progress."""
    ts = series(days=days, start=start, freq=freq, cost=cost)
    ts["partial"] = [(first and i == 0) or (last and i == days - 1) for i in range(days)]
    ts["in_progress"] = [last and i == days - 1 for i in range(days)]
    return ts


def no_nan(fig) -> bool:
    for tr in fig.data:
        for attr in ("x", "y", "values"):
            vals = getattr(tr, attr, None)
            if vals is not None and any(isinstance(v, float) and math.isnan(v) for v in vals):
                return False
    return True


# ------------------------------------------------------------------ trend


def test_trend_cost_line_on_left_axis_tokens_area_on_right():
    fig = valid(figures.trend(series(), "day"))
    tokens, cost = fig.data[0], fig.data[1]
    assert tokens.name == "Tokens" and tokens.fill == "tozeroy" and tokens.yaxis == "y"
    assert cost.name == "Costo (USD)" and cost.yaxis == "y2"
    assert list(cost.y) == [1.5 + i for i in range(10)]
    assert list(tokens.y) == [1000 * (i + 1) for i in range(10)]
    assert fig.layout.yaxis2.side == "left" and fig.layout.yaxis.side == "right"
    assert fig.layout.yaxis2.title.text == "Costo (USD)" and fig.layout.yaxis.title.text == "Tokens"
    assert fig.layout.template.layout.separators == ",."
    assert "K" in "".join(fig.layout.yaxis.ticktext)  # tokens axis says 2K, not d3's 2k
    assert cost.customdata[0][0] == "US$ 1,50"
    assert no_nan(fig)


def test_trend_x_is_local_wall_time_without_offset():
    fig = valid(figures.trend(series(days=2, start="2026-03-29", freq="D"), "day"))
    assert str(pd.Timestamp(fig.data[1].x[1])) == "2026-03-30 00:00:00"


@pytest.mark.parametrize("granularity,fmt", [("hour", "%H:%M"), ("week", "Semana del"), ("month", "%B de %Y")])
def test_trend_hover_header_names_the_period(granularity, fmt):
    fig = valid(figures.trend(series(), granularity))
    assert fmt in fig.layout.xaxis.hoverformat and fig.layout.hovermode == "x unified"


HOUR_MS, DAY_MS = 3_600_000, 86_400_000
AVG_MONTH_MS = 2_629_746_000  # plotly.js' ONEAVGMONTH: how it reads "M<n>" in a dtickrange


def tick_label(axis, dtick_ms: int, at: pd.Timestamp) -> str:
    """The label plotly writes at `at` when it spaces ticks dtick_ms apart: the first
    tickformatstop whose dtickrange holds the spacing, like plotly.js' getTickFormat."""

    def ms(v):
        return int(v[1:]) * AVG_MONTH_MS if isinstance(v, str) else v

    for stop in axis.tickformatstops:
        lo, hi = stop.dtickrange
        if (lo is None or ms(lo) <= dtick_ms) and (hi is None or dtick_ms <= ms(hi)):
            return at.strftime(stop.value)
    raise AssertionError(f"no tick format for a spacing of {dtick_ms} ms")


@pytest.mark.parametrize(
    "dtick_ms",
    [
        60_000,
        HOUR_MS,
        6 * HOUR_MS,
        12 * HOUR_MS,
        DAY_MS,
        2 * DAY_MS,
        7 * DAY_MS,
        14 * DAY_MS,
        2 * AVG_MONTH_MS,
        3 * AVG_MONTH_MS,
        12 * AVG_MONTH_MS,
    ],
)
def test_hourly_tick_labels_say_as_much_as_their_spacing_needs(dtick_ms):
    """An hourly series zoomed in names the time and its day; zoomed out to days, the day
    and month without a meaningless 00:00; out to months, the month and year, no day."""
    at = pd.Timestamp("2026-06-05 14:00")
    label = tick_label(valid(figures.trend(series(), "hour")).layout.xaxis, dtick_ms, at)
    day, month, year = at.strftime("%-d"), at.strftime("%b"), "2026"
    if dtick_ms < DAY_MS:
        assert "14:00" in label and re.search(rf"\b{day}\b", label) and month in label, label
    elif dtick_ms < AVG_MONTH_MS:
        assert ":" not in label and re.search(rf"\b{day}\b", label) and month in label and year not in label, label
    else:
        assert ":" not in label and not re.search(rf"\b{day}\b", label) and month in label and year in label, label


@pytest.mark.parametrize(
    "granularity,periods,step_days",
    [
        ("day", 7, 1),
        ("day", 20, 2),
        ("day", 30, 7),
        ("day", 90, 14),
        ("week", 9, 7),
        ("week", 20, 14),
        ("week", 40, 28),
    ],
)
def test_weekly_ticks_fall_on_mondays(granularity, periods, step_days):
    """Weeks start on Monday on this page: a tick every 7+ days is a Monday, never plotly's Sunday."""
    freq = "W-MON" if granularity == "week" else "D"
    ts = series(days=periods, start="2026-01-05", freq=freq)
    for fig in (
        figures.trend(ts, granularity),
        figures.actions_area(
            action_frame({"user_interaction": [1.0] * periods}, days=periods), "cost_usd", granularity
        ),
    ):
        ax = valid(fig).layout.xaxis
        assert ax.dtick == step_days * 86_400_000 and ax.tickformat == "%-d %b"
        assert pd.Timestamp(ax.tick0).day_name() == "Monday"
        assert (
            len(
                pd.date_range(ax.tick0, periods=10_000, freq=f"{step_days}D").intersection(
                    pd.date_range("2026-01-05", periods=periods * (7 if granularity == "week" else 1))
                )
            )
            <= 10
        )


def test_a_year_of_weeks_ticks_months():
    ax = valid(figures.trend(series(days=52, start="2026-01-05", freq="W-MON"), "week")).layout.xaxis
    assert ax.dtick == "M2" and ax.tickformat == "%b %Y"


@pytest.mark.parametrize("months,dtick", [(2, "M1"), (8, "M1"), (11, "M2"), (36, "M5")])
def test_monthly_x_axis_ticks_months_never_days(months, dtick):
    ts = series(days=months, freq="MS")
    for fig in (
        valid(figures.trend(ts, "month")),
        valid(
            figures.actions_area(action_frame({"user_interaction": [1.0] * months}, days=months), "cost_usd", "month")
        ),
    ):
        assert fig.layout.xaxis.dtick == dtick and fig.layout.xaxis.tickformat == "%b %Y"
        assert not fig.layout.xaxis.tickformatstops  # no '%-d %b' day labels on a monthly series


def test_an_empty_state_hint_is_wrapped_to_fit_a_narrow_chart():
    hint = "No se puede consultar la base de datos en este momento. Los datos no están disponibles."
    text = valid(figures.empty("Datos no disponibles", 240, hint)).layout.annotations[0].text
    lines = text.split("<br>")
    assert len(lines) >= 3 and all(len(re.sub("<[^>]+>", "", line)) <= 44 for line in lines[1:])
    assert re.sub("<[^>]+>", "", " ".join(lines[1:])) == hint  # every word kept


def test_trend_without_rows_is_an_empty_state_not_a_zero_line():
    ts = series(cost=[0.0] * 10, tokens=[0] * 10).assign(executions=0)
    fig = figures.trend(ts, "day")
    assert figures.is_empty(fig) and not fig.data
    assert "Sin datos en este periodo" in valid(fig).layout.annotations[0].text
    assert figures.is_empty(figures.trend(ts.iloc[:0], "day"))


def test_trend_marks_partial_buckets_hollow_dotted_and_named():
    ts = partial_series(first=True, last=True)  # e.g. YTD weekly: cut by 1 January, and running
    fig = valid(figures.trend(ts, "day"))
    cost = fig.data[1]
    assert cost.name == "Costo (USD)" and cost.y[0] is None and cost.y[-1] is None  # the solid line skips them
    assert list(cost.y[1:-1]) == [1.5 + i for i in range(1, 9)]
    dotted = [t for t in fig.data if getattr(t.line, "dash", None) == "dot"]
    assert len(dotted) == 1 and dotted[0].hoverinfo == "skip"
    assert [v for v in dotted[0].y if v is not None] == [1.5, 2.5, 10.5, 9.5]  # into each partial point
    hollow = [t for t in fig.data if t.mode == "markers" and t.marker.color == theme.SURFACE][0]
    assert list(hollow.y) == [1.5, 10.5] and hollow.name == ft.PARTIAL_NAME and hollow.showlegend
    assert [c[2] for c in hollow.customdata] == [" (periodo incompleto)", " (periodo en curso)"]
    assert fig.layout.meta["partial"] == [0, 9]
    whole = valid(figures.trend(series(), "day"))
    assert list(whole.data[1].y) == [1.5 + i for i in range(10)] and len(whole.data) == 2


def projection_x(fig) -> set:
    return {
        str(pd.Timestamp(v).date())
        for t in fig.data
        if t.name == ft.PROJECTION_NAME or "Intervalo" in (t.name or "")
        for v in t.x
        if v is not None
    }


def actual_x(fig) -> set:
    return {str(pd.Timestamp(v).date()) for v in fig.data[1].x}


def test_overlay_day_completes_today_then_a_band_capped_to_a_quarter_of_the_axis():
    ts = partial_series()  # 1..10 June, the 10th is today (actual so far 10.5)
    proj = projection(start=date(2026, 6, 10), first_weight=0.5)  # today's rest + 11..30 June, ŷ = 2
    ov = ft.overlay(ts, "day", proj)
    cur = ov.frame.iloc[0]
    assert (cur["x"], cur["kind"]) == (date(2026, 6, 10), "current")
    assert cur["cost_usd"] == pytest.approx(10.5 + 0.5 * 2.0)
    assert cur["lower"] == pytest.approx(10.5 + 1.0 - 1.5 * 0.5) and cur["upper"] == pytest.approx(10.5 + 1.0 + 0.75)
    # 10 actual points: at most 3 forecast days keep the forecast under a quarter of the axis.
    assert (ov.mode, ov.shown, ov.hidden, ov.until) == ("band", 3, 17, date(2026, 6, 13))
    assert list(ov.frame["x"][1:]) == [date(2026, 6, 11), date(2026, 6, 12), date(2026, 6, 13)]
    assert list(ov.frame["cost_usd"][1:]) == [2.0] * 3 and list(ov.frame["lower"][1:]) == [0.5] * 3


def test_overlay_negative_forecast_counts_as_zero_but_band_keeps_its_width():
    ts = partial_series(days=10, start="2026-05-22", last=False)
    proj = projection(start=date(2026, 6, 1), level=-1.0)
    ov = ft.overlay(ts, "day", proj)
    assert ov.frame["kind"].tolist()[0] == "forecast" and (ov.frame["cost_usd"] == 0).all()
    assert (ov.frame["lower"] == 0).all() and ov.frame["upper"].tolist() == pytest.approx([-1.0 + 1.5] * 3)


def test_overlay_week_completes_the_current_week_and_drops_weeks_cut_by_month_end():
    # Window 18 May – 10 June (Wednesday) seen on the 10th; weekly buckets start on Mondays.
    ts = partial_series(days=4, start="2026-05-18", freq="W-MON", cost=[7.0, 8.0, 9.0, 4.0])
    proj = projection(start=date(2026, 6, 11))  # 2.0 a day from 11 June to 30 June
    ov = ft.overlay(ts, "week", proj)
    assert ov.frame.iloc[0]["x"] == date(2026, 6, 8) and ov.frame.iloc[0]["kind"] == "current"
    assert ov.frame.iloc[0]["cost_usd"] == pytest.approx(4.0 + 4 * 2.0)  # actual + Thu..Sun
    # 4 actual weeks allow 1 forecast week; 22 June is left out, 29 June crosses into July.
    assert (ov.shown, ov.hidden, ov.until) == (1, 1, date(2026, 6, 21))
    assert ov.frame["x"].tolist()[1:] == [date(2026, 6, 15)] and ov.frame["cost_usd"].tolist()[1:] == [14.0]


def test_overlay_month_is_the_projected_total_with_its_interval():
    ts = partial_series(days=3, start="2026-04-01", freq="MS", cost=[30.0, 35.0, 40.0])
    fig = valid(figures.trend(ts, "month", projection(start=date(2026, 6, 11), total=99.0)))
    marker = fig.data[-1]
    assert list(marker.y) == [99.0] and str(pd.Timestamp(marker.x[0]).date()) == "2026-06-01"
    assert list(marker.error_y.array) == [21.0] and list(marker.error_y.arrayminus) == [19.0]
    assert "80 %" in marker.hovertemplate
    assert fig.layout.meta["projection"]["mode"] == "month"


def test_first_of_the_month_forecast_takes_at_most_a_quarter_of_the_axis():
    """30 days seen on the 1st: the forecast must not take half the x axis."""
    ts = partial_series(days=30, start="2026-10-03")  # 3 Oct .. 1 Nov, the 1st in progress
    proj = projection(start=date(2026, 11, 1), end=date(2026, 11, 30), first_weight=0.6)
    fig = valid(figures.trend(ts, "day", proj))
    extra = projection_x(fig) - actual_x(fig)
    assert len(extra) / (len(extra) + 30) <= ft.MAX_SHARE
    assert len(extra) == 10 and fig.layout.meta["projection"]["hidden"] == 19


def test_hover_title_is_always_an_actual_bucket():
    """x unified: a hoverable trace at a forecast x would title the hover with the next
    day's date next to today's cost. Only actual x values may take part in the hover."""
    cases = [
        (partial_series(), "day", projection(start=date(2026, 6, 10), first_weight=0.5)),
        (partial_series(last=False), "day", projection(start=date(2026, 6, 11))),
        (partial_series(days=4, start="2026-05-18", freq="W-MON"), "week", projection(start=date(2026, 6, 11))),
        (partial_series(days=3, start="2026-04-01", freq="MS"), "month", projection(start=date(2026, 6, 11))),
    ]
    for ts, gran, proj in cases:
        fig = valid(figures.trend(ts, gran, proj))
        assert fig.layout.hovermode == "x unified"
        actual = actual_x(fig)
        for t in fig.data:
            if t.hoverinfo != "skip":
                assert {str(pd.Timestamp(v).date()) for v in t.x if v is not None} <= actual, (gran, t.name)
        assert projection_x(fig) - actual or gran == "month"  # the forecast is drawn, only not hovered


def _case(gran, status):
    start = {"hour": "2026-06-08", "day": "2026-06-01", "week": "2026-05-18", "month": "2026-04-01"}[gran]
    freq = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}[gran]
    ts = partial_series(days={"month": 3, "week": 4}.get(gran, 10), start=start, freq=freq)
    if status == "insufficient_data":
        return ts, Projection(status="insufficient_data", daily_points=4, as_of=date(2026, 6, 10))
    if status == "closed":
        return ts, Projection(
            status="closed",
            daily_points=20,
            month_start=date(2026, 5, 1),
            month_end=date(2026, 5, 31),
            month_to_date_usd=321.0,
            projected_total_usd=321.0,
            lower80=321.0,
            upper80=321.0,
            as_of=date(2026, 5, 31),
        )
    return ts, projection(start=date(2026, 6, 10), first_weight=0.5)


@pytest.mark.parametrize("gran", ["hour", "day", "week", "month"])
@pytest.mark.parametrize("status", ["ok", "closed", "insufficient_data"])
def test_note_says_exactly_what_the_figure_draws(gran, status):
    from layouts import trend as lt

    ts, proj = _case(gran, status)
    fig = valid(figures.trend(ts, gran, proj))
    drawn = fig.layout.meta["projection"]
    note = lt.projection_note(proj, gran, drawn)
    dashed = [t for t in fig.data if t.name == ft.PROJECTION_NAME and t.line.dash == "dash"]
    band = [t for t in fig.data if t.fill == "tonexty"]
    diamonds = [t for t in fig.data if t.mode and "markers" in t.mode and t.marker.symbol == "diamond-open"]
    assert ("línea discontinua" in note.lower()) == bool(band) == bool(dashed and drawn["mode"] == "band")
    assert bool(band) == (drawn["mode"] == "band" and drawn["shown"] > 0)
    assert ("Rombo hueco" in note) == bool(diamonds) == (drawn["mode"] == "month" or drawn["current"])
    assert bool(dashed) == (drawn["mode"] == "month" or drawn["shown"] > 0)
    if status == "closed":
        assert note.startswith("Mayo de 2026 está cerrado: costó US$ 321,00") and not dashed
    elif status == "insufficient_data":
        assert "Sin proyección" in note and "hay 4" in note and not dashed
    elif gran == "hour":
        assert "Día, Semana o Mes" in note and not dashed
    if drawn["hidden"]:
        assert (f"{drawn['hidden']} " in note or drawn["hidden"] == 1) and "no se dibuja" in note and "tarjeta" in note
    if drawn["until"] and drawn["shown"]:
        assert fmt_day(drawn["until"]) in note


def fmt_day(iso: str) -> str:
    from layouts import fmt

    return fmt.day(date.fromisoformat(iso))


# ------------------------------------------------------------------ actions


def action_frame(metric_by_action: dict[str, list[float]], days=3):
    rows = []
    for i, b in enumerate(pd.date_range("2026-06-01", periods=days, freq="D", tz=TZ)):
        for action in theme.ACTIONS:
            v = metric_by_action.get(action, [0.0] * days)[i]
            rows.append(
                {
                    "bucket": b,
                    "action_type": action,
                    "cost_usd": v,
                    "tokens": int(v * 1000),
                    "executions": 1 if v else 0,
                }
            )
    return pd.DataFrame(rows)


def test_actions_area_and_donut_share_spanish_labels_and_colours():
    df = action_frame({"user_interaction": [3, 4, 5], "guardrail_check": [1, 1, 1], "document_indexing": [0, 2, 0]})
    area = valid(figures.actions_area(df, "cost_usd", "day"))
    donut = valid(figures.actions_donut(df, "cost_usd"))
    assert [t.name for t in area.data] == [theme.action_label(a) for a in fa.action_order(theme.ACTIONS)]
    assert all(t.stackgroup == "one" for t in area.data)
    colour_of = {t.name: t.line.color for t in area.data}
    pie = donut.data[0]
    assert list(pie.labels) == ["Interacción de usuario", "Verificación de guardrails", "Indexación de documentos"]
    assert list(pie.values) == [12.0, 3.0, 2.0]  # zero actions are left out of the donut
    assert list(pie.marker.colors) == [colour_of[label] for label in pie.labels]
    assert {label for label, _ in theme.ACTIONS.values()} == {
        "Interacción de usuario",
        "Verificación de guardrails",
        "Generación de títulos",
        "Embeddings de consultas RAG",
        "Indexación de documentos",
    }
    assert "US$ 17,00" in donut.layout.annotations[0].text
    # Shares in Spanish format, inside the slices and in the hover ('70,6 %', not plotly's '70,6%').
    assert list(pie.text) == ["70,6 %", "17,6 %", "11,8 %"]
    assert pie.texttemplate == "%{text}" and "%{text} del total" in pie.hovertemplate
    assert "%{percent}" not in pie.hovertemplate


def test_actions_without_cost_but_with_usage_say_so():
    df = action_frame({"user_interaction": [1, 1, 1]}).assign(cost_usd=0.0)
    fig = figures.actions_donut(df, "cost_usd")
    assert figures.is_empty(fig) and fa.NO_COST in valid(fig).layout.annotations[0].text
    assert not figures.is_empty(figures.actions_donut(df, "tokens"))


def test_actions_empty_frame():
    df = action_frame({})
    assert figures.is_empty(figures.actions_area(df, "cost_usd", "day"))
    assert valid(figures.actions_donut(df, "tokens")).layout.meta["message"] == figures.NO_DATA


# ------------------------------------------------------------------ models


def model_frame(n=12, latency_missing=("m-3",)):
    rows = []
    for i in range(n):
        name = f"m-{i}"
        rows.append(
            {
                "provider": "p" if i % 2 else "q",
                "model": name,
                "cost_usd": float(100 - i),
                "input_tokens": 1000 * (i + 1),
                "output_tokens": 500,
                "cache_read_tokens": 200 * i,
                "executions": 10 + i,
                "avg_latency_ms": np.nan if name in latency_missing else 100.0 * (i + 1),
            }
        )
    return pd.DataFrame(rows)


def test_models_bars_tokens_view_stacks_tokens_by_type_ranked_by_tokens():
    fig = valid(figures.models_bars(model_frame(), view="tokens"))
    assert [t.name for t in fig.data] == ["Entrada (sin caché)", "Lectura de caché", "Salida"]
    assert all(t.orientation == "h" for t in fig.data) and fig.layout.barmode == "stack"
    # Ranked by what the bars show: total tokens (m-11 has the most), not by cost.
    assert list(fig.data[0].y) == [f"m-{i}" for i in range(11, 1, -1)]
    assert list(fig.data[0].x) == [1000 * (i + 1) for i in range(11, 1, -1)]
    assert list(fig.data[1].x) == [200 * i for i in range(11, 1, -1)]
    assert fig.layout.annotations[0].text == "14,7K"  # 12.000 + 500 + 2.200
    assert fig.layout.xaxis.title.text == fm.TOKENS_AXIS


def test_models_bars_cost_view_splits_each_cost_exactly_by_catalogue_shares():
    df = model_frame(10)
    df.loc[0, "cost_usd"] = 0.01  # a cent shared by three types: the parts still add up
    prices = {(p, m): (Decimal("3"), Decimal("0.3"), Decimal("15")) for p, m in zip(df["provider"], df["model"])}
    prices[("p", "m-1")] = None  # no price: one «sin desglose» segment
    fig = valid(figures.models_bars(df, view="cost", prices=prices))
    names = [t.name for t in fig.data]
    assert names == ["Entrada (sin caché)", "Lectura de caché", "Salida", "Sin desglose"]
    top = fm.top_models(df, "cost")
    assert list(fig.data[0].y) == list(top["label"]) and top["label"].iloc[-1] == "m-0"  # ranked by cost
    for i, cost in enumerate(top["cost_usd"]):
        parts = [Decimal(str(t.x[i])) for t in fig.data]
        assert sum(parts) == Decimal(str(cost)).quantize(Decimal("1e-8"))  # exact, not approximately
    m1 = list(top["label"]).index("m-1")
    assert [t.x[m1] for t in fig.data] == [0, 0, 0, 99.0]
    # Independent share: m-2 has 3.000 input, 400 cache, 500 output tokens.
    m2 = list(top["label"]).index("m-2")
    w = [3000 * 3, 400 * 0.3, 500 * 15]
    assert fig.data[0].x[m2] == pytest.approx(98.0 * w[0] / sum(w), abs=1e-8)
    assert [a.text for a in fig.layout.annotations][:2] == ["US$ 99,00", "US$ 98,00"]
    # The title names the currency; the ticks are plain figures, level (tests below).
    assert fig.layout.xaxis.title.text == "Costo (USD)" and fig.layout.xaxis.tickprefix is None
    assert fig.layout.xaxis.tickangle == 0 and list(fig.layout.xaxis.ticktext[:3]) == ["0", "50", "100"]
    assert "Entrada (sin caché): 3K tokens" in fig.data[0].customdata[m2][4]  # tokens in the hover


def test_models_same_name_two_providers_get_the_provider_in_the_label():
    df = model_frame(3)
    df.loc[1, "model"] = "m-0"
    assert fm.labels(df)[:2] == ["m-0 (q)", "m-0 (p)"]


def test_bubbles_leave_out_models_without_latency_and_list_them():
    df = model_frame(5, latency_missing=("m-3",))
    fig = valid(figures.models_bubble(df))
    xs = list(fig.data[0].x)
    assert len(xs) == 4 and 0 not in xs and not any(isinstance(x, float) and math.isnan(x) for x in xs)
    assert list(fig.data[0].marker.size) == [10, 11, 12, 14]
    assert figures.without_latency(df) == ["m-3"]
    none = figures.models_bubble(model_frame(2, latency_missing=("m-0", "m-1")))
    assert figures.is_empty(none) and fm.NO_LATENCY in valid(none).layout.annotations[0].text


def test_models_empty():
    empty = model_frame(0)
    assert figures.is_empty(figures.models_bars(empty)) and figures.is_empty(figures.models_bubble(empty))
    assert figures.without_latency(empty) == []


# ------------------------------------------------------------------ heatmap and split


def test_heatmap_plots_log10_with_real_values_on_the_colour_bar_and_in_hovers():
    df = pd.DataFrame(
        {
            "dow": [0, 1, 6],
            "hour": [0, 13, 23],
            "tokens": [10, 1000, 100000],
            "cost_usd": [0.01, 1.5, 20.0],
            "executions": [1, 4, 9],
        }
    )
    fig = valid(figures.heatmap(df, TZ))
    hm = fig.data[0]
    z = [list(r) for r in hm.z]
    assert len(z) == 24 and all(len(r) == 7 for r in z)
    # Columns Monday first: dow 1 (Monday) is column 0, dow 0 (Sunday) the last, dow 6 (Saturday) column 5.
    assert z[0][6] == pytest.approx(1.0) and z[13][0] == pytest.approx(3.0) and z[23][5] == pytest.approx(5.0)
    assert sum(v is not None for r in z for v in r) == 3  # zero cells are empty, not 0
    assert list(hm.x)[0] == "lunes" and list(hm.x)[-1] == "domingo" and list(hm.y)[0] == "00:00"
    ticks = dict(zip(hm.colorbar.tickvals, hm.colorbar.ticktext))
    assert [t for v, t in ticks.items() if abs(v - 3.0) < 1e-9] == ["1K"]
    assert [t for v, t in ticks.items() if abs(v - 5.0) < 1e-9] == ["100K"]
    assert hm.customdata[13][0][2:] == ["1K (1.000)", "US$ 1,50", "4"]
    assert hm.customdata[13][0][:2] == ["lunes", "13:00–14:00"]
    assert fig.layout.yaxis.autorange == "reversed" and TZ in fig.layout.yaxis.title.text


def test_log_ticks_use_1_2_5_steps_and_never_fewer_than_two():
    vals, text = fadv.log_ticks(0.0, 2.0)
    assert text == ["1", "2", "5", "10", "20", "50", "100"]
    vals, text = fadv.log_ticks(2.1, 2.2)
    assert len(vals) == 2 and text == ["126", "158"]


def test_heatmap_empty():
    df = pd.DataFrame(columns=["dow", "hour", "tokens", "cost_usd", "executions"])
    assert figures.is_empty(figures.heatmap(df, TZ))


def test_source_split_by_cost_or_by_tokens_when_no_cost_is_reported():
    df = pd.DataFrame(
        {"source": ["system", "byok"], "cost_usd": [30.0, 10.0], "tokens": [100, 900], "executions": [5, 5]}
    )
    fig = valid(figures.source_split(df))
    assert list(fig.data[0].labels) == ["Sistema", "BYOK"] and list(fig.data[0].values) == [30.0, 10.0]
    assert list(fig.data[0].marker.colors) == [theme.SOURCES["system"][1], theme.SOURCES["byok"][1]]
    assert list(fig.data[0].text) == ["75,0 %", "25,0 %"]
    assert fig.data[0].texttemplate == "%{text}" and "%{percent}" not in fig.data[0].hovertemplate
    free = valid(figures.source_split(df.assign(cost_usd=0.0)))
    assert list(free.data[0].values) == [100.0, 900.0] and "Tokens" in free.layout.annotations[0].text
    assert figures.is_empty(figures.source_split(df.assign(executions=0)))


def _boxes(px, positions, text):
    return [bl.label_box(x, y, r, p, *bl.label_size(t)) for (x, y, r), p, t in zip(px, positions, text)]


def test_bubble_labels_do_not_collide_even_in_a_cluster():
    """Five bubbles within a few pixels: each number gets its own place, no label on another."""
    px = [(200, 150, 12), (212, 152, 10), (205, 140, 8), (190, 158, 6), (220, 145, 5)]
    text = ["1", "2", "3", "4", "5"]
    positions = bl.place_labels([(px, 420)], 290, text)
    boxes = _boxes(px, positions, text)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert bl.overlap(boxes[i], boxes[j]) == 0, (positions[i], positions[j])
    assert all(b[0] >= bl.EDGE and b[2] <= 420 - bl.EDGE and b[1] >= bl.EDGE and b[3] <= 290 - bl.EDGE for b in boxes)


def test_a_bubble_label_keeps_off_the_axes_tick_labels():
    """The demo's embeddings model (most executions, ~150 ms, ~US$ 0,02) sits by the left edge,
    above the bottom one: its «9» went flush left of the bubble, over the «US$ 0» tick."""
    px = [(45.6, 48.1, 14.7), (57.3, 23.9, 8.5), (26.6, 22.7, 15.6)]
    text = ["4", "8", "9"]
    positions = bl.place_labels([(px, 420)], 290, text)
    assert positions[2] != "middle left"
    for box, t, p in zip(_boxes(px, positions, text), text, positions):
        assert box[0] >= bl.EDGE and box[1] >= bl.EDGE, (t, p, box)


# The demo's ten models (`make run`, 30 days): cost, executions, mean latency (ms).
DEMO_MODELS = [
    (15.48, 1497, 3819),
    (13.31, 1859, 6374),
    (12.81, 271, 11159),
    (1.79, 4731, 749),
    (1.59, 1075, 3072),
    (1.16, 153, 7980),
    (0.27, 87, 5345),
    (0.11, 1596, 1114),
    (0.02, 5189, 152),
    (0.0035, 73, 11342),
]


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_bubble_numbers_and_bubbles_stay_clear_at_every_width_the_page_draws(scale):
    """At a 390 px phone the plot area is 267 px wide, not the 434 px of a 1440 px page: the
    demo's biggest bubble (embeddings, ~150 ms) covered the «US$ 0» tick and its «9» sat on
    bubble 4. At each width: every bubble inside the plot area, no number on another number or
    on another bubble, none within EDGE px of the edges; the positions are the figure's own."""
    df = model_frame(len(DEMO_MODELS), latency_missing=()).assign(
        cost_usd=[c for c, _, _ in DEMO_MODELS],
        executions=[e for _, e, _ in DEMO_MODELS],
        avg_latency_ms=[float(lat) for _, _, lat in DEMO_MODELS],
    )
    fig = valid(fm.models_bubble(df, 380, scale))
    t = fig.data[0]
    xr, yr = list(fig.layout.xaxis.range), list(fig.layout.yaxis.range)
    height = 380 - 52
    sizeref = t.marker.sizeref
    radii = [max(math.sqrt(e / (2 * sizeref)), t.marker.sizemin) for e in t.marker.size]  # as Chromium draws them
    ys = [math.log10(y) if scale == "log" else y for y in t.y]
    for width in bl.PLOT_WIDTHS:
        px = [
            ((x - xr[0]) / (xr[1] - xr[0]) * width, (y - yr[0]) / (yr[1] - yr[0]) * height, r)
            for x, y, r in zip(t.x, ys, radii)
        ]
        for x, y, r in px:  # the bubble inside the plot area
            assert r <= x <= width - r and r <= y <= height - r, (width, x, y, r)
        boxes = _boxes(px, t.textposition, t.text)
        for i, box in enumerate(boxes):
            assert box[0] >= bl.EDGE and box[2] <= width - bl.EDGE and box[1] >= bl.EDGE, (width, t.text[i], box)
            assert box[3] <= height - bl.EDGE, (width, t.text[i], box)
            for j, other in enumerate(boxes):
                assert j == i or bl.overlap(box, other) == 0, (width, t.text[i], t.text[j])
            for j, (x, y, r) in enumerate(px):
                assert j == i or bl.overlap(box, (x - r, y - r, x + r, y + r)) == 0, (width, t.text[i], j + 1)


def test_a_number_goes_inside_its_bubble_only_when_no_place_around_it_is_free():
    """A big bubble hemmed in on every side by others: its number inside it (it fits); a
    small one in the same spot: the least-overlapping place outside (it would not fit)."""
    ring = [
        (200 + dx, 150 + dy, 14)
        for dx, dy in ((0, 30), (0, -30), (30, 0), (-30, 0), (26, 26), (-26, 26), (26, -26), (-26, -26))
    ]
    text = [str(n) for n in range(1, 10)]
    assert bl.place_labels([([*ring, (200, 150, 16)], 420)], 300, text)[-1] == bl.INSIDE
    assert bl.place_labels([([*ring, (200, 150, 6)], 420)], 300, text)[-1] != bl.INSIDE
    assert bl.place_labels([([(200, 150, 16)], 420)], 300, ["1"]) == ["top center"]  # free around: outside


def test_fit_range_holds_every_bubble_inside_the_axis():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        values = list(rng.uniform(0, 1000, n))
        radii = list(rng.uniform(2.5, 22, n))
        size = float(rng.choice([267.0, 311.0, 434.0]))
        lo, hi = bl.fit_range(values, radii, -0.06 * max(values), 1.1 * max(values) + 1, size)
        for v, r in zip(values, radii):
            at = (v - lo) / (hi - lo) * size
            assert r + bl.MARGIN - 1e-6 <= at <= size - r - bl.MARGIN + 1e-6


def test_bubbles_are_numbered_by_cost_and_the_log_axis_leaves_out_a_zero_cost():
    df = model_frame(4, latency_missing=())
    df.loc[3, "cost_usd"] = 0.0
    lin = valid(figures.models_bubble(df))
    assert list(lin.data[0].text) == ["1", "2", "3", "4"] and lin.layout.yaxis.type != "log"
    log = valid(figures.models_bubble(df, scale="log"))
    assert log.layout.yaxis.type == "log" and list(log.data[0].text) == ["1", "2", "3"]
    assert log.layout.yaxis.range[0] < math.log10(97) < math.log10(100) < log.layout.yaxis.range[1]
    assert list(fm.bubble_models(df, "log")["model"]) == ["m-0", "m-1", "m-2"]


def test_models_cost_bars_without_any_cost_say_so_and_tokens_still_draw():
    df = model_frame(3).assign(cost_usd=0.0)
    fig = figures.models_bars(df, view="cost")
    assert figures.is_empty(fig) and fm.NO_COST in valid(fig).layout.annotations[0].text
    assert not figures.is_empty(figures.models_bars(df, view="tokens"))


def test_note_grammar_for_one_hidden_week():
    from layouts import trend as lt

    ts = partial_series(days=4, start="2026-05-18", freq="W-MON", cost=[7.0, 8.0, 9.0, 4.0])
    proj = projection(start=date(2026, 6, 11))
    drawn = valid(figures.trend(ts, "week", proj)).layout.meta["projection"]
    assert drawn["hidden"] == 1
    note = lt.projection_note(proj, "week", drawn)
    assert "La semana siguiente, hasta el 30 jun 2026, no se dibuja para no ocupar el gráfico" in note


@pytest.mark.parametrize("top", [0.004, 0.03, 0.2, 1, 7.7, 16, 99.0, 150, 1300, 4875, 25_000, 99_999, 4.4e6, 3e9])
def test_models_bars_value_ticks_stand_level_on_a_phone_and_say_their_value(top):
    """At 390 px the bars' axis is 109 px long, and «US$ 0 · US$ 5 · US$ 10 · US$ 15» were tilted to
    fit: the ticks are now as many plain figures as fit level there, and each says its value."""
    span = top * 1.05
    ticks = fm.level_ticks(span)
    shown = [(v, t) for v, t in zip(ticks["tickvals"], ticks["ticktext"]) if v <= span]
    assert len(shown) >= 2 and shown[0][0] == 0
    step = ticks["tickvals"][1]
    spacing = fm.BAR_AXIS_MIN_PX * step / span
    assert max(len(t) for _v, t in shown) * fm.TICK_CHAR_PX + fm.TICK_GAP_PX <= spacing or len(shown) == 2
    for v, t in shown:  # the label is the value: «1,5K» is 1,500, «0,02» is 0.02, none rounded
        assert _read_compact(t) == pytest.approx(v, rel=1e-9, abs=1e-12), (t, v)


@pytest.mark.parametrize("view", ["cost", "tokens"])
def test_models_bars_of_next_to_nothing_keep_a_short_readable_axis(view):
    """A millionth of a dollar, or a token, per model: the axis spans a cent or five tokens.
    (Nothing at all is an empty state with its own message, not an axis.)"""
    df = model_frame(3).assign(cost_usd=1e-6, input_tokens=1, output_tokens=0, cache_read_tokens=0)
    axis = valid(figures.models_bars(df, view=view)).layout.xaxis
    shown = [t for v, t in zip(axis.tickvals, axis.ticktext) if v <= axis.range[1]]
    assert axis.range == (0, 0.01 if view == "cost" else 5.0)
    assert shown == (["0,000", "0,005", "0,010"] if view == "cost" else ["0", "1", "2", "3", "4", "5"])


@pytest.mark.parametrize(
    ("top", "whole", "text"),
    [
        (2, True, ["0", "1", "2"]),  # executions: whole steps, never «0 · 0 · 1 · 2 · 2» (0,5 rounded)
        (7, True, ["0", "2", "4", "6", "8"]),
        (10, True, ["0", "5", "10"]),  # not 0 · 2,5 · 5 · 7,5 · 10
        (1_000, True, ["0", "250", "500", "750", "1K"]),
        (0.03, False, ["0,00", "0,01", "0,02", "0,03"]),  # a cost axis of cents keeps its decimals
        (1_300_000, True, ["0", "500K", "1M", "1,5M"]),
    ],
)
def test_count_axis_labels_say_each_tick_exactly(top, whole, text):
    from layouts.figures.common import count_axis

    assert count_axis(top, 4, whole)["ticktext"] == text


def _read_compact(text):
    """The number a Spanish compact label says: «1,5K» 1500, «2,3 mil M» 2.3e9."""
    units = {"K": 1e3, "M": 1e6, " mil M": 1e9}
    suffix = next((s for s in sorted(units, key=len, reverse=True) if text.endswith(s)), "")
    return float(text.removesuffix(suffix).replace(".", "").replace(",", ".")) * units.get(suffix, 1)


@pytest.mark.parametrize("v", [0, 7, 950, 999.6, 1000, 1250, 1500, 99_950, 250_000, 1.25e6, 2.5e6, 2.3e9, 1.25e12])
def test_compact_is_exact_says_whether_the_label_reads_back_as_the_value(v):
    from layouts import fmt

    assert fmt.compact_is_exact(v) == (_read_compact(fmt.compact(v)) == pytest.approx(v, rel=1e-12))
