"""The comparison on the page (contract §3.2, §4): the KPI deltas, Tendencia's ghost line and
«Mayores cambios», called as Dash calls them and checked against plain pandas over the same
rows (support/reference.py) on both engines; the plumbing (the view store carries `compare`,
a bad value is the bad-filter banner, no slice change drops it).

Two windows: one in a DST zone (Europe/Madrid, across the March change) against the same
dates a year earlier, and one ending today (America/New_York, 30 days across the November
change) against the 30 days before it, cut at the same hour ("so far" with "so far").
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from dash import html
from support import dashboard_data, reference as ref
from support.db import insert_agents, insert_logs
from support.figspec import valid

import callbacks.changes
import callbacks.common
import callbacks.compare
import callbacks.overview
import callbacks.slice
import queries
from app import create_app
from layouts import ids, textdom
from storage.settings import Settings
from web.auth import mint_token

SECRET = "compare-page-secret-0123456789-abcdef"
NOW = datetime(2026, 11, 15, 13, 20, tzinfo=UTC)  # 08:20 in New York (EST), 14:20 in Madrid
HOSTILE = "<img src=x onerror=alert(1)> & Co"

DST_YEAR = ("custom", "2026-03-22", "2026-04-04", "all", "day", "Europe/Madrid")  # DST began 29 Mar 2026
TODAY_PREVIOUS = ("30d", None, None, "all", "auto", "America/New_York")  # DST ended 1 Nov 2026
CASES = {"dst-year": (DST_YEAR, "year"), "today-previous": (TODAY_PREVIOUS, "previous")}


def _rows(org: str, now: datetime, days: int, seed: int) -> list[dict]:
    rows = dashboard_data.rows_for(org, now, days=days, seed=seed)
    for r in rows:
        if r["agent_id"] is not None:
            r["agent_id"] = f"{org}-{r['agent_id']}"
    return rows


@pytest.fixture(scope="module")
def seeded(engine):
    """One org per engine: 75 days up to NOW, and three weeks around each DST-year window
    (different seeds: the windows differ); a hostile agent name; users u1 and u2."""
    org = f"org-compare-{uuid.uuid4().hex[:10]}"
    rows = (
        _rows(org, NOW, 75, 3)
        + _rows(org, datetime(2026, 4, 6, 12, tzinfo=UTC), 20, 5)
        + _rows(org, datetime(2025, 4, 6, 12, tzinfo=UTC), 20, 7)
    )
    for i, r in enumerate(rows):
        if r["user_id"] is not None and i % 3 == 0:
            r["user_id"] = "u2"
        if r["created_at"] < datetime(2026, 1, 1, tzinfo=UTC) and r["agent_id"] and r["agent_id"].endswith("legal"):
            r["agent_id"] = f"{org}-hostile"  # an agent of the earlier year only: it «falls» to zero
    hostile = {"id": f"{org}-hostile", "org_id": org, "name": HOSTILE, "avatar_url": None}
    insert_agents(engine, [*dashboard_data.agents_for(org), hostile])
    insert_logs(engine, rows)
    app = create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine, clock=lambda: NOW)
    with engine.connect() as conn:
        return app, mint_token(SECRET, org), ref.load_rows(conn, org), ref.load_agents(conn, org)


# ------------------------------------------------------------------ the reference, independently


def earlier_window(w: ref.Window, how: str) -> ref.Window:
    """The earlier window from the contract's words, not queries.compare: `previous` the same
    number of local days just before, `year` the same dates a year back; its clock moved back
    by the same shift on the local wall clock."""
    if how == "previous":
        days = (w.end_date - w.start_date).days + 1

        def back(d):
            return d - timedelta(days=days)
    else:

        def back(d):
            return d.replace(year=d.year - 1)

    wall = w.now.tz_convert(w.timezone).tz_localize(None)
    then = pd.Timestamp(datetime.combine(back(wall.date()), wall.time())).tz_localize(w.timezone).tz_convert("UTC")
    return ref.Window(w.timezone, back(w.start_date), back(w.end_date), w.source, w.granularity, then)


def window_of(args: tuple) -> ref.Window:
    preset, start, end, _source, granularity, tz = args
    today = NOW.astimezone(ZoneInfo(tz)).date()
    if preset == "custom":
        a, b = date.fromisoformat(start), date.fromisoformat(end)
    else:
        a, b = today - timedelta(days=int(preset[:-1]) - 1), today
    days = (b - a).days + 1
    gran = granularity if granularity != "auto" else ("hour" if days <= 7 else "day" if days <= 90 else "week")
    return ref.Window(tz, a, b, "all", gran, pd.Timestamp(NOW))


def upto_now(rows: pd.DataFrame, w: ref.Window) -> pd.DataFrame:
    return rows[rows["ts"] < w.now]


def totals(rows, w) -> dict:
    s = ref.summary(upto_now(rows, w), w)
    s["hit_rate"] = s["total_cache_read_tokens"] / s["total_input_tokens"] if s["total_input_tokens"] else None
    return s


# ------------------------------------------------------------------ reading the components


def walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, (list, tuple)):
        for c in children:
            yield from walk(c)
    elif children is not None and not isinstance(children, str):
        yield from walk(children)


def by_class(tree, name: str) -> list:
    return [n for n in walk(tree) if name in (getattr(n, "className", "") or "").split()]


def text(node) -> str:
    return "".join(n if isinstance(n, str) else "" for n in _strings(node))


def _strings(node):
    if isinstance(node, str):
        yield node
        return
    children = getattr(node, "children", None)
    for c in children if isinstance(children, (list, tuple)) else [children]:
        if c is not None:
            yield from _strings(c)


def number(s: str) -> float:
    """'1.234,5' (Spanish) -> 1234.5."""
    return float(s.replace(".", "").replace(",", "."))


def change_shown(card) -> tuple[str, float | None]:
    """The card's delta as (arrow or word, magnitude)."""
    (line,) = by_class(html.Div(card), "kpi-delta")
    shown = text(by_class(line, "kpi-delta-value")[0])
    m = re.fullmatch(r"([▲▼]) ([\d.,]+)\s?(%|pp)", shown.replace("\u00a0", " ").replace("\u202f", " "))
    return (m.group(1), number(m.group(2))) if m else (shown, None)


def expected_change(cur, prev, points: bool = False) -> tuple[str, float | None]:
    if points:
        pp = round((cur - prev) * 100, 1)
        return ("▲" if pp > 0 else "▼", abs(pp)) if pp else ("sin cambios", None)
    if cur == prev:
        return "sin cambios", None
    if prev == 0:
        return "nuevo", None
    return ("▲" if cur > prev else "▼"), round(abs(cur - prev) / prev * 100, 1)


def overview(app, token, args, how):
    with app.server.app_context():
        return callbacks.overview.update(*args, token, None, {"compare": how})


# ------------------------------------------------------------------ the cards


@pytest.mark.parametrize("case", list(CASES))
def test_kpi_deltas_equal_pandas_over_the_same_rows(seeded, case):
    app, token, rows, _agents = seeded
    args, how = CASES[case]
    w = window_of(args)
    b = earlier_window(w, how)
    cur, prev = totals(rows, w), totals(rows, b)
    assert cur["executions"] and prev["executions"]  # both windows hold usage: a real comparison
    out = overview(app, token, args, how)
    assert out[-1].endswith(f"|compare={how}") and out[6] is None  # the stamp names it; no banner
    cost, tokens, cache, projection = out[:4]
    want = expected_change(cur["total_cost_e8"], prev["total_cost_e8"])
    assert change_shown(cost) == pytest.approx(want, abs=0.051)
    assert change_shown(tokens) == pytest.approx(expected_change(cur["total_tokens"], prev["total_tokens"]), abs=0.051)
    assert change_shown(cache) == pytest.approx(expected_change(cur["hit_rate"], prev["hit_rate"], True), abs=0.051)
    assert not by_class(html.Div(projection), "kpi-delta")  # the projection has no delta
    # The earlier value and its dates in the title; the colour's meaning in words too.
    (line,) = by_class(html.Div(cost), "kpi-delta")
    amount = re.search(r"US\$\s?([\d.,]+)", line.title).group(1)
    assert number(amount) == pytest.approx(prev["total_cost_e8"] / 1e8, abs=0.005)
    assert str(b.start_date.day) in line.title and str(b.end_date.year) in line.title
    up = cur["total_cost_e8"] > prev["total_cost_e8"]
    assert ("delta-bad" if up else "delta-good") in line.className  # more cost is never green
    assert ("desfavorable" if up else "favorable") in text(line)
    assert text(by_class(line, "kpi-delta-vs")[0]) == (
        "vs mismo periodo de 2025" if how == "year" else "vs periodo anterior"
    )


def test_a_change_from_zero_reads_nuevo_and_no_change_reads_so():
    from layouts import compare

    assert compare.change(compare.COST, 5, 0) == ("nuevo", 1)
    assert compare.change(compare.COST, 0, 0) == ("sin cambios", 0)
    assert compare.change(compare.RATE, 0.5, None) == ("nuevo", 1)
    # Past ±1.000 % a change has no decimal (as the grids' Δ % column): «+79.555,0 %» overflowed
    # the «Mayores cambios» panel's column.
    assert compare.change(compare.COST, 145, 100) == ("▲ 45,0 %", 1)
    assert compare.change(compare.COST, 1_000, 100_000) == ("▼ 99,0 %", -1)
    assert compare.change(compare.COST, 79_655, 100) == ("▲ 79.555 %", 1)
    assert compare.change(compare.COST, 10_999, 1_000) == ("▲ 999,9 %", 1)
    assert compare.change(compare.COST, 11_000, 1_000) == ("▲ 1.000 %", 1)
    assert compare.tone(compare.COST, 1) == "delta-bad" and compare.tone(compare.COST, -1) == "delta-good"
    assert compare.tone(compare.RATE, 1) == "delta-good" and compare.tone(compare.TOKENS, 1) == "delta-neutral"


def test_mayores_cambios_writes_a_large_change_without_a_decimal():
    from layouts.changes import Mover, relative

    def mover(now: int, before: int) -> Mover:
        return Mover("userId", "u", "u", "", now, before)

    assert relative(mover(145, 100)) == "+45,0 %"
    assert relative(mover(0, 100)) == "−100,0 %"
    assert relative(mover(79_655, 100)) == "+79.555 %"
    assert relative(mover(5, 0)) == "nuevo"


def test_a_change_under_a_cent_reads_as_one_in_mayores_cambios_and_the_anomalies():
    """«< −US$ 0,01» read as a fall of more than a cent: the sign comes first, as in the
    anomalies' sentences (one writer for both, fmt.signed_usd)."""
    from layouts import anomalies, fmt, textdom
    from layouts.changes import Mover, render
    from queries.anomalies import Contributor

    fall, rise = Mover("model", "m", "m", "", 100_000, 500_000), Mover("model", "n", "n", "", 500_000, 100_000)
    tree, _keys = render([("Modelos", [fall, rise])], "vs periodo anterior", fmt.USD)
    amounts = [textdom.text(n) for n in textdom.by_class(tree, "change-abs")]
    assert amounts == ["+< US$ 0,01", "−< US$ 0,01"]  # «Suben», then «Bajan»
    tiny = Contributor("model", "m", -0.004)
    assert "−< US$ 0,01" in anomalies.contributor_text(tiny, {})
    eur = fmt.Money("EUR", fmt.Decimal("0.9"))
    assert fmt.signed_usd(-0.004, eur) == "−< 0,01 €"


# ------------------------------------------------------------------ the ghost line


@pytest.mark.parametrize("case", list(CASES))
def test_the_ghost_line_is_the_earlier_series_by_position(seeded, case):
    app, token, rows, _agents = seeded
    args, how = CASES[case]
    w = window_of(args)
    b = earlier_window(w, how)
    current = ref.time_series(upto_now(rows, w), w)
    before = ref.time_series(upto_now(rows, b), b)
    fig = valid(overview(app, token, args, how)[4])
    ghost = fig.data[1]
    assert ghost.name == ("Mismo periodo de 2025" if how == "year" else "Periodo anterior")
    assert fig.data[2].name == "Costo (USD)"  # the ghost sits behind the cost line
    n = len(current)
    assert len(ghost.y) == len(fig.data[2].x) == n
    want = [int(before["cost_e8"].iloc[i]) / 1e8 if i < len(before) else 0.0 for i in range(n)]
    assert list(ghost.y) == pytest.approx(want, abs=1e-9)
    assert [pd.Timestamp(x) for x in ghost.x] == [pd.Timestamp(x) for x in fig.data[2].x]
    # Each ghost point's hover names the earlier bucket's real date.
    for i in (0, n // 2, min(n, len(before)) - 1):
        day = before["bucket"].iloc[i]
        label = ghost.customdata[i][1]
        assert f" {day.day} " in f" {label} " and str(day.year) in label, (i, label, day)
    assert "%{customdata[1]}" in ghost.hovertemplate


def test_the_ghost_line_leaves_the_projection_and_has_its_own_colour_in_both_themes(seeded):
    app, token, _rows, _agents = seeded
    fig = overview(app, token, TODAY_PREVIOUS, "previous")[4]
    shown = valid(fig)
    names = [t.name for t in shown.data]
    assert "Proyección (tendencia lineal)" in names and shown.layout.meta["projection"]["mode"] != "none"
    from layouts import skin, theme

    assert shown.data[1].line.color == theme.PALETTE["previous"] != theme.PALETTE["cost"]
    dark = skin.dress(fig, "dark")
    assert dark["data"][1]["line"]["color"] == theme.DARK_PALETTE["previous"] != theme.DARK_PALETTE["cost"]


# ------------------------------------------------------------------ «Mayores cambios»


def ref_deltas(rows, agents, w, b) -> dict[str, dict[str, int]]:
    """api -> {value: current e8 − earlier e8}, from the rows."""
    out: dict[str, dict[str, int]] = {"agentId": {}, "model": {}, "userId": {}}
    for sign, win in ((1, w), (-1, b)):
        d = ref.in_window(upto_now(rows, win), win)
        for api, col in (("agentId", "agent_id"), ("model", "model"), ("userId", "user_id")):
            keys = d[col].astype(object).where(d[col].notna(), "none")
            for k, e8 in d.groupby(keys)["e8"].sum().items():
                out[api][k] = out[api].get(k, 0) + sign * int(e8)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_mayores_cambios_orders_the_movers_like_pandas(seeded, case):
    app, token, rows, agents = seeded
    args, how = CASES[case]
    w = window_of(args)
    b = earlier_window(w, how)
    with app.server.app_context():
        hidden, body, view, keys, answered = callbacks.changes.update(*args, token, None, {"compare": how})
    assert hidden is False and body == [] and view["stamp"] == answered and answered.endswith(f"compare={how}")
    assert view["host"] == ids.CHANGES_LIST
    tree = view["tree"]
    items = textdom.by_class(tree, "change-item")
    index = [int(i["a"]["data-index"]) for i in items]
    assert len(items) == len(keys) and index == list(range(len(keys)))
    assert all(i["t"] == "button" and i["a"]["data-click"] == ids.CHANGES_CLICK for i in items)
    assert [textdom.text(t) for t in textdom.by_class(tree, "changes-title")] == ["Agentes", "Modelos", "Usuarios"]
    assert [textdom.text(t) for t in textdom.by_class(tree, "changes-dir")] == ["Suben", "Bajan"] * 3
    deltas = ref_deltas(rows, agents, w, b)
    for api in ("agentId", "model", "userId"):
        ups = sorted((v for v in deltas[api].items() if v[1] > 0), key=lambda kv: -kv[1])[:5]
        downs = sorted((v for v in deltas[api].items() if v[1] < 0), key=lambda kv: kv[1])[:5]
        mine = [i for i in items if i["a"]["data-api"] == api]
        assert all(keys[int(i["a"]["data-index"])][0] == api for i in mine)
        shown = [(keys[int(i["a"]["data-index"])][1], "delta-bad" in i["c"]) for i in mine]
        assert [k for k, up in shown if up] == [k for k, _ in ups], api
        assert [k for k, up in shown if not up] == [k for k, _ in downs], api
        for item in mine:
            arrow = textdom.text(textdom.by_class(item, "change-arrow")[0])
            assert arrow == ("▲" if "delta-bad" in item["c"] else "▼")
            amount = textdom.text(textdom.by_class(item, "change-abs")[0])
            value = deltas[api][keys[int(item["a"]["data-index"])][1]]
            m = re.search(r"([+−])(<\s)?US\$\s?([\d.,]+)", amount)  # the sign first: «−< US$ 0,01»
            assert (m.group(1) == "+") == (value > 0)
            if not m.group(2):
                assert number(m.group(3)) == pytest.approx(abs(value) / 1e8, abs=0.005), (api, amount, value)
    # Names are data: the hostile agent's name is a text node's plain string (assets/textdom.js
    # draws it as text; tests/test_browser_compare.py reads names back from the page).
    if how == "year":
        hostile = [i for i in items if HOSTILE in textdom.text(i)]
        assert hostile and textdom.text(textdom.by_class(hostile[0], "change-pct")[0]).startswith("−100")
        assert textdom.by_class(hostile[0], "change-name")[0]["x"] == HOSTILE


def test_mayores_cambios_is_hidden_without_a_comparison(seeded):
    app, token, _rows, _agents = seeded
    with app.server.app_context():
        hidden, body, view, keys, answered = callbacks.changes.update(*TODAY_PREVIOUS, token, None, {})
    assert (hidden, body, view["tree"], keys) == (True, [], None, []) and view["stamp"] == answered


def test_an_entry_click_adds_its_filter_and_keeps_the_comparison():
    keys = [["agentId", "a"], ["model", "m"]]
    out = callbacks.changes.click({"i": 1, "n": 3}, keys, {"compare": "year", "agentId": ["z"]})
    assert out == {"agentId": ["z"], "model": ["m"], "compare": "year"}
    # What assets/textdom.js would never send, forged: nothing changes.
    for forged in (None, 1, "1", [1], {}, {"i": True}, {"i": -1}, {"i": 2}, {"i": "1"}, {"i": 1.0}):
        assert callbacks.changes.click(forged, keys, {"compare": "year"}) is callbacks.changes.no_update, forged
    assert callbacks.changes.click({"i": 0}, [["agentId", 5]], {}) is callbacks.changes.no_update
    assert callbacks.changes.click({"i": 0}, "x", {}) is callbacks.changes.no_update


# ------------------------------------------------------------------ the plumbing


def test_a_bad_compare_value_is_the_bad_filter_banner(seeded):
    app, token, _rows, _agents = seeded
    out = overview(app, token, TODAY_PREVIOUS, "weekly")
    assert "Filtros no válidos" in str(out[6]) and "Periodo anterior" in str(out[6])
    with app.server.app_context():
        scope = callbacks.common.resolve(*TODAY_PREVIOUS, token, None, {"compare": "year", "model": ["x"]})
    assert scope.filters.compare == "year" and scope.filters.models == ("x",)
    with app.server.app_context():
        forged = callbacks.common.resolve(*TODAY_PREVIOUS, token, None, {"compare": ["year"]})
    assert forged.problem == "params"


def test_the_control_writes_the_store_and_slice_changes_keep_it():
    assert callbacks.compare.choose("previous", {"agentId": ["a"]}) == {"agentId": ["a"], "compare": "previous"}
    assert callbacks.compare.choose("none", {"agentId": ["a"], "compare": "year"}) == {"agentId": ["a"]}
    assert callbacks.compare.choose("year", {"compare": "year"}) is callbacks.compare.no_update
    # The blank the control shows for a URL's unknown comparison is no choice: the value stays for the banner.
    assert callbacks.compare.choose("", {"compare": "weekly"}) is callbacks.compare.no_update
    # A drill-down click and «Quitar filtros» leave the comparison as it is.
    assert callbacks.slice_clicks.with_value({"compare": "year"}, "model", "m") == {"model": ["m"], "compare": "year"}
    assert callbacks.slice.clean({"compare": "year", "agentId": []}) == {"compare": "year"}


def test_the_guard_takes_a_pattern_and_refuses_a_forged_one():
    """No callback the server runs for the page has a pattern-matching input since «Mayores
    cambios» is drawn by assets/textdom.js; the guard still reads one as the renderer sends it
    (the list of the components it matched), for a callback that has one."""
    import dash

    import callbacks.guard

    app = dash.Dash(__name__)
    app.layout = html.Div([html.Div(id="out"), html.Div(id="st")])
    app.callback(
        dash.Output("out", "children"),
        dash.Input({"type": "row", "index": dash.ALL}, "n_clicks"),
        dash.State("st", "children"),
    )(lambda clicks, st: "")
    key = next(iter(app.callback_map))

    def body(matches):
        return {
            "output": key,
            "outputs": {"id": "out", "property": "children"},
            "inputs": [matches],
            "state": [{"id": "st", "property": "children", "value": None}],
            "changedPropIds": [],
        }

    good = [{"id": {"type": "row", "index": i}, "property": "n_clicks", "value": None} for i in range(3)]
    assert callbacks.guard.problem(app, body(good)) is None
    assert callbacks.guard.problem(app, body([])) is None  # no rows on the page
    for forged in (
        [{"id": {"type": "anomaly-item", "index": 0}, "property": "n_clicks", "value": 1}],
        [{"id": {"type": "row", "index": 0, "x": 1}, "property": "n_clicks", "value": 1}],
        [{"id": "row", "property": "n_clicks", "value": 1}],
        [{"id": {"type": "row", "index": 0}, "property": "children", "value": 1}],
        {"id": {"type": "row", "index": 0}, "property": "n_clicks", "value": 1},
    ):
        assert callbacks.guard.problem(app, body(forged)) == "inputs do not match the callback", forged


def test_biggest_changes_keeps_every_row_a_top_n_needs_ties_included():
    frame = pd.DataFrame(
        {
            "user_id": list("abcdefgh"),
            "cost_e8": [10, 30, 30, 5, 0, 7, 7, 100],
            "previous_e8": [0, 0, 0, 5, 9, 20, 20, 100],
        }
    )  # rises a 10, b 30, c 30; d, h unchanged; falls e 9, f 13, g 13
    kept = queries.biggest_changes(frame, 2)
    assert list(kept["user_id"]) == ["b", "c", "f", "g"]
    kept = queries.biggest_changes(frame, 1)  # the tie at the edge stays: the page orders it by name
    assert list(kept["user_id"]) == ["b", "c", "f", "g"]
    assert list(queries.biggest_changes(frame, 5)["user_id"]) == ["a", "b", "c", "e", "f", "g"]
    assert queries.biggest_changes(frame.iloc[[3, 7]], 5).empty  # nothing moved


@pytest.mark.parametrize("dtype", [object, "str"])
def test_cost_changes_matches_keys_of_both_windows_and_leaves_the_read_frames_alone(monkeypatch, dtype):
    """cost_changes against a dict built by hand: every key of either window once, a NULL key
    as None, exact integers past 2**53, keys of several columns; the frames it read (a cached
    answer, shared with the users' ranking) are not changed."""
    import numpy as np

    from queries import movers

    rng = np.random.default_rng(7)
    values = np.array(["a", "b", None, "c", "=1+1", "<b>x</b>"], dtype=object)
    for dims in (["user_id"], ["provider", "model"]):
        for _ in range(60):
            frames = []
            for _ in range(2):
                df = pd.DataFrame({d: pd.Series(rng.choice(values, rng.integers(0, 10)), dtype=dtype) for d in dims})
                df = df.drop_duplicates().reset_index(drop=True)
                df["cost_e8"] = rng.integers(0, 2**62, len(df))
                frames.append(df)
            kept = [df.copy() for df in frames]
            read = {"now": frames[0], "before": frames[1]}
            monkeypatch.setattr(movers, "facts", lambda conn, f, dims, measures, read=read: read[f])
            monkeypatch.setattr(movers, "user_totals", lambda conn, f, read=read: read[f])
            got = movers.cost_changes(None, "now", "before", dims)

            def key(row, dims=dims):
                return tuple(None if pd.isna(row[d]) else row[d] for d in dims)

            want: dict = {}
            for i, df in enumerate(frames):
                for row in df.to_dict("records"):
                    want.setdefault(key(row), [0, 0])[i] += int(row["cost_e8"])
            rows = got.to_dict("records")
            assert {key(r): [r["cost_e8"], r["previous_e8"]] for r in rows} == want and len(rows) == len(want)
            assert all(r[d] is None or isinstance(r[d], str) for r in rows for d in dims)
            assert all(a.equals(b) for a, b in zip(frames, kept))
