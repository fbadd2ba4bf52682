"""Usuarios, the unit costs and the charts' CSV files, called as the page calls them, against an
independent plain-pandas computation over the same rows (support/reference.py), on SQLite and
PostgreSQL, in a zone with a DST change inside the window, with NULL users and hostile names."""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from support import reference as ref
from support.db import insert_logs
from support.figspec import valid

import callbacks.exports
import callbacks.users
from callbacks.users import click_user, fetch
from layouts import exports, fmt, grids, ids, users
from queries import parse_filters
from storage.settings import Settings
from web.auth import mint_token

SECRET = "users-page-secret-0123456789-abcdefgh"
TZ = "America/New_York"  # 1 November 2026: the clocks fall back, a 25-hour day inside the window
START, END = "2026-10-20", "2026-11-05"
NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@import",
    "\tTAB",
    "\rCR",
    "<img src=x onerror=alert(1)>",
    "\u202eevil\u202c.exe",
    "x" * 200,
]
MODELS = [("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"), ('=HYPERLINK("x")', "@SUM(A1)")]


def _rows(org: str) -> list[dict]:
    """~1,500 rows: 80 users (hostile ids among them), NULL users (system), NULL costs, zero-token
    calls, both sides of the fall-back hour, and rows of the earlier period (the comparison)."""
    rng = random.Random(9)
    people = [f"user-{i:03d}@example.com" for i in range(71)] + HOSTILE
    out = []
    t0 = datetime(2026, 9, 20, tzinfo=UTC)  # the earlier period too (compare=previous: 17 days back)
    for i in range(1500):
        at = t0 + timedelta(seconds=rng.randrange(0, 52 * 86400))
        if i % 40 == 0:  # around the repeated 01:00–02:00 of 1 November (EDT, then EST)
            at = datetime(2026, 11, 1, 5, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 120))
        provider, model = rng.choice(MODELS)
        zero = i % 97 == 0
        out.append(
            {
                "id": None,
                "org_id": org,
                "created_at": at,
                "agent_id": rng.choice([None, "ag-1", "ag-2"]),
                "user_id": None if i % 9 == 0 else rng.choice(people[: 5 + (i % len(people))]),
                "action_type": rng.choice(ref.ACTIONS),
                "source": rng.choice(["system", "byok"]),
                "provider": provider,
                "model": model,
                "input_tokens": 0 if zero else rng.randrange(0, 5000),
                "output_tokens": 0 if zero else rng.randrange(0, 900),
                "cache_read_tokens": 0 if zero else rng.randrange(0, 2000),
                "cache_write_tokens": 0,
                "cost_usd": None if i % 13 == 0 else Decimal(rng.randrange(1, 10**7)) / Decimal(10**8),
                "latency_ms": None if i % 7 == 0 else rng.randrange(50, 4000),
            }
        )
    for r in out:
        r.pop("id")
    return out


@pytest.fixture
def seeded(engine, org_id):
    insert_logs(engine, _rows(org_id))
    from app import create_app

    app = create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine, clock=lambda: NOW)
    with engine.connect() as conn:
        rows = ref.load_rows(conn, org_id)
    return app, mint_token(SECRET, org_id), rows


def _filters(org, **extra):
    return parse_filters({"from": START, "to": END, "timezone": TZ, **extra}, org, now=NOW)


def _window(f) -> ref.Window:
    return ref.Window.of(f)


def reference_users(rows: pd.DataFrame, w: ref.Window) -> pd.DataFrame:
    """Per user (None for no user): cost_e8, tokens, executions, ranked as the contract says."""
    d = ref.in_window(rows, w)
    d = d.assign(key=d["user_id"].map(lambda u: "\x00" if u is None or u != u else u), tok=ref._tokens(d))
    out = [
        {
            "user_id": None if key == "\x00" else key,
            "cost_e8": int(g["e8"].sum()),
            "tokens": int(g["tok"].sum()),
            "executions": len(g),
        }
        for key, g in d.groupby("key")
    ]
    out.sort(key=lambda r: (-r["cost_e8"], -r["executions"], r["user_id"] is None, r["user_id"] or ""))
    df = pd.DataFrame(out)
    df["user_id"] = pd.Series([r["user_id"] for r in out], dtype=object)  # None stays None (not NaN)
    return df


def _update(app, token, limit="50", sl=None):
    with app.server.app_context():
        return callbacks.users.update("custom", START, END, "all", "auto", TZ, limit, token, None, sl)


def _e8(x) -> int:
    return int((Decimal(str(x)) * 100_000_000).to_integral_value())


@pytest.mark.parametrize("limit", ["50", "1000"])
def test_users_grid_is_the_reference_and_adds_up_to_the_total_to_the_cent(seeded, org_id, limit):
    app, token, rows = seeded
    f = _filters(org_id)
    expected = reference_users(rows, _window(f))
    got, count, total, stamp, options, export, columns = _update(app, token, limit)
    n = min(int(limit), len(expected))
    top, rest = expected.iloc[:n], expected.iloc[n:]
    assert [r["user_id"] for r in got] == list(top["user_id"])
    assert [_e8(r["cost_usd"]) for r in got] == list(top["cost_e8"])
    assert [(r["tokens"], r["executions"]) for r in got] == list(zip(top["tokens"], top["executions"]))
    # NULL users are one row, «Sin usuario», which filters by `none`.
    nobody = next(r for r in got if r["user_id"] is None)
    assert nobody["label"] == "Sin usuario" and nobody["no_user"]
    # Hostile ids are the row's text as they are (React renders text children; nothing decoded or cut).
    assert {r["label"] for r in got if r["user_id"] in HOSTILE} == {
        r["user_id"] for r in got if r["user_id"] in HOSTILE
    }
    pinned = options.to_plotly_json()["operations"]
    pinned = next(op["params"]["value"] for op in pinned if op["location"] == ["pinnedBottomRowData"])
    if len(rest):
        assert len(pinned) == 1 and pinned[0]["label"] == f"otros ({len(rest)} usuarios)"
        assert _e8(pinned[0]["cost_usd"]) == int(rest["cost_e8"].sum())
        assert pinned[0]["executions"] == int(rest["executions"].sum())
        assert count == f"{n} de {len(expected)} usuarios"
    else:
        assert pinned == [] and count == f"{len(expected)} usuarios"
    whole = ref.summary(rows, _window(f))["total_cost_e8"]
    shown = sum(_e8(r["cost_usd"]) for r in got) + sum(_e8(p["cost_usd"]) for p in pinned)
    assert shown == whole  # rows + «otros» = the period's total, exactly
    assert total == "Total del periodo: " + fmt.usd(Decimal(whole) / 10**8)
    assert stamp == f"custom|{START}|{END}|all|auto|{TZ}"
    assert re.fullmatch(r"consumo-por-usuario_2026-10-20_2026-11-05_todos\.csv", export["fileName"])
    assert export["processCellCallback"] == {"function": "csvSafeCell(params)"}
    assert not any(c["field"] in ("previous_cost_usd", "delta_pct") and not c.get("hide") for c in columns)


def test_unit_costs_of_every_user_and_dash_without_tokens(seeded, org_id):
    app, token, rows = seeded
    got = _update(app, token, "1000")[0]
    for r in got:
        cost = r["cost_usd"]
        assert r["cost_per_execution_usd"] == pytest.approx(cost / r["executions"], abs=1e-10)
        assert r["cost_per_1k_tokens_usd"] == pytest.approx(cost * 1000 / r["tokens"], abs=1e-10)
    # Without executions or tokens: None, which the grid shows as «—» (formatUsd of null).
    assert grids.unit_fields(1.5, 0, 0) == {"cost_per_execution_usd": None, "cost_per_1k_tokens_usd": None}
    assert grids.unit_fields(1.5, 3, 0)["cost_per_1k_tokens_usd"] is None
    # Tiny unit costs keep ten significant digits (rounding to ten decimals left 1.68999e-05).
    tiny = grids.unit_fields(0.0016899861330207871, 7, 100_000)
    assert tiny["cost_per_1k_tokens_usd"] == pytest.approx(1.689986133020787e-05, rel=1e-9)
    assert tiny["cost_per_execution_usd"] == pytest.approx(0.0016899861330207871 / 7, rel=1e-9)
    assert exports.unit_costs(1.5, 0, 0) == (None, None)
    assert exports.unit_costs(0.003, 3, 1500) == (pytest.approx(0.001), pytest.approx(0.002))


def test_a_user_slice_narrows_the_grid_to_that_user(seeded, org_id):
    app, token, rows = seeded
    f = _filters(org_id, userId=[HOSTILE[0]])
    expected = reference_users(rows[rows["user_id"] == HOSTILE[0]], _window(f))  # the slice, in plain pandas
    got, count, *_rest, export, _c = _update(app, token, "50", {"userId": [HOSTILE[0]]})
    assert [r["user_id"] for r in got] == [HOSTILE[0]] == list(expected["user_id"])
    assert count == "1 usuario"
    assert re.fullmatch(r"consumo-por-usuario_2026-10-20_2026-11-05_todos_cmd-c-calc-a0\.csv", export["fileName"])


def test_the_comparison_puts_each_users_earlier_cost_beside_it(seeded, org_id, engine):
    _app, _token, rows = seeded
    f = replace(_filters(org_id), compare="previous")
    with engine.connect() as conn:
        got = fetch(conn, f, 20)
    before = ref.Window.of(callbacks.users.earlier(f))
    earlier = reference_users(rows, before).set_index(
        reference_users(rows, before)["user_id"].map(lambda u: "\x00" if u is None else u)
    )
    for r in got.users.to_dict("records"):
        key = "\x00" if r["user_id"] is None or r["user_id"] != r["user_id"] else r["user_id"]  # None or NaN
        want = int(earlier.loc[key, "cost_e8"]) if key in earlier.index else 0
        assert _e8(r["previous_cost_usd"]) == want
    whole = ref.summary(rows, before)["total_cost_e8"]
    assert sum(_e8(v) for v in got.users["previous_cost_usd"]) + _e8(got.others_previous) == whole
    shown = users.rows(got.users)
    assert all("delta_pct" in r for r in shown)
    r = next(r for r in shown if r["previous_cost_usd"])
    assert r["delta_pct"] == pytest.approx((r["cost_usd"] - r["previous_cost_usd"]) / r["previous_cost_usd"] * 100)
    cols = {c["field"]: c for c in users.column_defs(compare=True)}
    assert not cols["previous_cost_usd"].get("hide") and not cols["delta_pct"].get("hide")
    assert cols["delta_pct"]["cellClassRules"]["delta-up"] == "params.value > 0"  # more cost: the warning colour
    assert users.csv_params(f)["columnKeys"][-2:] == ["previous_cost_usd", "delta_pct"]
    # On the page: «Comparar con» writes compare into the view store; the grid gains both columns.
    app, token, _rows_ = seeded
    got_rows, *_x, columns = _update(app, token, "50", {"compare": "previous"})
    shown_cols = [c["field"] for c in columns if not c.get("hide")]
    assert "previous_cost_usd" in shown_cols and "delta_pct" in shown_cols
    assert all("previous_cost_usd" in r for r in got_rows)


def test_a_row_click_adds_the_user_to_the_slice_and_otros_adds_nothing():
    grid = [
        {"row_key": "=cmd", "user_id": "=cmd"},
        {"row_key": "__sin_usuario__", "user_id": None},
    ]
    assert click_user({"rowId": "=cmd", "colId": "label"}, grid, {}) == {"userId": ["=cmd"]}
    assert click_user({"rowId": "__sin_usuario__"}, grid, {"agentId": ["a"]}) == {"agentId": ["a"], "userId": ["none"]}
    assert click_user({"rowId": users.OTHERS_KEY}, grid, {}) is no_update  # «otros» is not one user
    assert click_user({"rowId": "=cmd"}, grid, {"userId": ["=cmd"]}) is no_update  # already there
    assert click_user("forged", grid, {}) is no_update and click_user({"rowId": "x"}, "forged", {}) is no_update


def test_the_limit_is_one_the_page_offers():
    assert [users.limit_of(v) for v in ("50", "1000", 250, "7", None, "1e9", ["50"])] == [50, 1000, 250] + [50] * 4


def test_users_empty_state_is_spanish(engine, org_id):
    from app import create_app

    app = create_app(Settings(database_url=str(engine.url), secret=SECRET), engine=engine, clock=lambda: NOW)
    got, count, total, _s, options, *_ = _update(app, mint_token(SECRET, org_id))
    ops = {tuple(op["location"]): op["params"]["value"] for op in options.to_plotly_json()["operations"]}
    assert got == [] and count == "" and total == ""
    assert ops[("noRowsOverlayComponentParams",)] == {"message": "Sin datos en este periodo"}
    assert ops[("pinnedBottomRowData",)] == []


# ------------------------------------------------------------------ the charts' CSV files


def _download(app, token, button, sl=None, source="all"):
    chart, fetch_, build = callbacks.exports.CHARTS[button]
    run = callbacks.exports._downloader(chart, fetch_, build)
    with app.server.app_context():
        sent, status = run(1, "custom", START, END, source, "auto", TZ, token, None, sl)
    assert status == ""
    assert sent["content"].startswith("\ufeff") and sent["type"] == "text/csv"
    table = list(csv.reader(io.StringIO(sent["content"][1:], newline="")))
    return sent["filename"], table[0], table[1:]


def test_trend_csv_is_the_reference_series_with_local_offsets(seeded, org_id):
    app, token, rows = seeded
    name, head, body = _download(app, token, ids.CSV_TREND, source="system")
    assert name == "consumo-tendencia_2026-10-20_2026-11-05_sistema.csv"
    assert head == ["periodo_inicio", "parcial", "costo_usd", "tokens", "ejecuciones"]
    want = ref.time_series(rows, _window(_filters(org_id, source="system")))
    assert [r[0] for r in body] == [b.isoformat() for b in want["bucket"]]
    assert {r[0][-6:] for r in body} == {"-04:00", "-05:00"}  # the DST change shows in the offsets
    assert [_e8(r[2]) for r in body] == list(want["cost_e8"])
    assert [(int(r[3]), int(r[4])) for r in body] == list(zip(want["tokens"], want["executions"]))
    assert [r[1] == "true" for r in body] == list(want["partial"])


def test_actions_csv_is_the_reference_by_bucket_and_action(seeded, org_id):
    app, token, rows = seeded
    name, head, body = _download(app, token, ids.CSV_ACTIONS, sl={"agentId": ["ag-1"]})
    assert name == "consumo-por-accion_2026-10-20_2026-11-05_todos_ag-1.csv"
    assert head[:3] == ["periodo_inicio", "tipo_accion", "accion"]
    mine = rows[rows["agent_id"] == "ag-1"]  # the slice, in plain pandas
    want = ref.time_series(mine, _window(_filters(org_id, agentId=["ag-1"])), by_action=True)
    got = {(r[0], r[1]): (_e8(r[3]), int(r[4]), int(r[5])) for r in body}
    expect = {
        (b.isoformat(), a): (int(c), int(t), int(e))
        for b, a, c, t, e in zip(
            want["bucket"], want["action_type"], want["cost_e8"], want["tokens"], want["executions"]
        )
    }
    assert got == expect
    # The donut is the sum per action type: the same file, summed.
    donut = pd.DataFrame(body, columns=head).assign(c=lambda d: d["costo_usd"].map(_e8)).groupby("tipo_accion")["c"]
    assert donut.sum().to_dict() == want.groupby("action_type")["cost_e8"].sum().to_dict()


def test_models_csv_has_every_model_unit_costs_and_safe_names(seeded, org_id):
    app, token, rows = seeded
    name, head, body = _download(app, token, ids.CSV_MODELS)
    want = ref.model_efficiency(rows, _window(_filters(org_id))).set_index(["provider", "model"])
    assert len(body) == len(want)
    col = {h: i for i, h in enumerate(head)}
    for r in body:
        provider, model = (v[1:] if v.startswith("'") else v for v in (r[0], r[1]))
        w = want.loc[(provider, model)]
        assert _e8(r[col["costo_usd"]]) == int(w["cost_e8"])
        tokens = int(w["input_tokens"] + w["output_tokens"] + w["cache_read_tokens"])
        assert int(r[col["tokens_total"]]) == tokens and int(r[col["ejecuciones"]]) == int(w["executions"])
        cost = int(w["cost_e8"]) / 1e8
        assert float(r[col["costo_por_ejecucion_usd"]]) == pytest.approx(cost / int(w["executions"]), abs=1e-8)
        assert float(r[col["costo_por_1k_tokens_usd"]]) == pytest.approx(cost * 1000 / tokens, abs=1e-8)
        assert float(r[col["latencia_p95_ms"]]) == pytest.approx(w["p95_latency_ms"], rel=0.011)
    hostile = next(r for r in body if "HYPERLINK" in r[0])
    assert hostile[0] == '\'=HYPERLINK("x")' and hostile[1] == "'@SUM(A1)"  # inert in a spreadsheet


def test_heatmap_csv_has_all_168_cells_of_the_reference(seeded, org_id):
    app, token, rows = seeded
    _name, head, body = _download(app, token, ids.CSV_HEATMAP)
    assert head == ["dia_semana", "dia_semana_num", "hora", "tokens", "costo_usd", "ejecuciones"]
    assert len(body) == 168 and body[0][:3] == ["lunes", "1", "0"]
    want = ref.heatmap(rows, _window(_filters(org_id)))
    expect = {(int(d), int(h)): (int(t), int(c), int(e)) for d, h, t, c, e in want.itertuples(index=False)}
    got = {(int(r[1]), int(r[2])): (int(r[3]), _e8(r[4]), int(r[5])) for r in body if int(r[5])}
    assert got == expect


def test_csv_cells_are_formula_safe_and_money_is_plain(tmp_path):
    header = ["nombre", "costo_usd"]
    text = exports.csv_text(header, [[h, 0.00000001] for h in HOSTILE] + [["ok", 1234.5], [None, None]])
    table = list(csv.reader(io.StringIO(text[1:], newline="")))
    for cell, raw in zip((r[0] for r in table[1:]), HOSTILE):
        assert cell == ("'" + raw if raw[0] in "=+-@\t\r" else raw)
    assert [r[1] for r in table[1:]][-3:] == ["0.00000001", "1234.5", ""]
    assert exports.number(1e-05) == "0.00001" and exports.number(Decimal("-0")) == "0"


def test_a_display_currency_adds_the_converted_column_exactly():
    eur = fmt.Money("EUR", Decimal("0.9237"), date(2026, 11, 1))
    ts = pd.DataFrame(
        {
            "bucket": pd.to_datetime(["2026-11-01T00:00:00"]).tz_localize(TZ),
            "partial": [False],
            "cost_usd": [12.34567891],
            "tokens": [10],
            "executions": [2],
        }
    )
    head, body = exports.trend(ts, eur)
    assert head == ["periodo_inicio", "parcial", "costo_usd", "costo_eur", "tokens", "ejecuciones"]
    assert body[0][2:4] == ["12.34567891", str((Decimal("12.34567891") * Decimal("0.9237")).quantize(Decimal("1e-8")))]


def test_file_names_are_sanitized_whatever_the_slice(org_id):
    f = _filters(org_id, userId=HOSTILE[:6], model=["gpt-4o/../../etc"], agentId=["none"])
    name = exports.file_name("consumo-tendencia", f)
    assert re.fullmatch(r"[a-z0-9_.-]+", name) and len(name) <= 184 and name.endswith(".csv")
    assert name.startswith("consumo-tendencia_2026-10-20_2026-11-05_todos_sin-agente_")
    assert "mas-3" in name  # six users: three named, the rest counted
    f2 = _filters(org_id, userId=["\u202e\u202c", "x" * 200])
    assert len(exports.file_name("p", f2)) <= 184


def test_the_models_hovers_carry_the_unit_costs():
    from layouts import figures
    from layouts.figures import models as fm

    df = pd.DataFrame(
        {
            "provider": ["openai", "local"],
            "model": ["gpt-4o-mini", "=1+1"],
            "cost_usd": [3.0, 0.0],
            "input_tokens": [1000, 0],
            "output_tokens": [400, 0],
            "cache_read_tokens": [100, 0],
            "executions": [6, 2],
            "avg_latency_ms": [300.0, 90.0],
            **{f"p{q}_latency_ms": [300.0, 90.0] for q in (50, 95, 99)},
        }
    )
    line = "Costo/ejec.: US$ 0,5000 · Costo/1K tokens: US$ 2,0000"  # 3 / 6 and 3 × 1000 / 1500
    assert fm.unit_line(3.0, 6, 1500) == line
    assert fm.unit_line(0.0, 2, 0) == "Costo/ejec.: US$ 0,0000 · Costo/1K tokens: —"
    bubble = valid(figures.models_bubble(df))
    assert bubble.data[0].customdata[0][5] == line and "%{customdata[5]}" in bubble.data[0].hovertemplate
    bars = valid(figures.models_bars(df))
    assert all(t.customdata[0][5] == line and "%{customdata[5]}" in t.hovertemplate for t in bars.data)
    assert all(list(t.customdata[0][-2:]) == ["openai", "gpt-4o-mini"] for t in bars.data)  # a click still filters


def test_a_chart_csv_that_cannot_be_made_says_why_beside_the_button(seeded, monkeypatch):
    """No file and a status line: the database past its time limit, filters it cannot answer, no access."""
    from storage.engine import QueryTimeout

    app, token, _rows_ = seeded
    chart, fetch_, build = callbacks.exports.CHARTS[ids.CSV_MODELS]

    def slow(conn, f):
        raise QueryTimeout("statement timeout")

    run = callbacks.exports._downloader(chart, slow, build)
    with app.server.app_context():
        sent, status = run(1, "custom", START, END, "all", "auto", TZ, token, None, None)
        assert sent is None and status == "No se pudo generar el CSV: Consulta cancelada por tiempo"
        run = callbacks.exports._downloader(chart, fetch_, build)
        sent, status = run(1, "custom", END, START, "all", "auto", TZ, token, None, None)
        assert sent is None and status.startswith("No se pudo generar el CSV: ")
        sent, status = run(1, "custom", START, END, "all", "auto", TZ, "forged", None, None)
        assert (sent, status) == (None, "No se pudo generar el CSV: Acceso no autorizado")
        assert run(0, "custom", START, END, "all", "auto", TZ, token, None, None) == (no_update, no_update)


def _user_values(options) -> list[str]:
    return [o["value"] for o in options]


def _ranked_ids(rows, org_id) -> list[str]:
    ranked = reference_users(rows, _window(_filters(org_id)))
    return ["none" if u is None else u for u in ranked["user_id"]]


def test_the_user_select_lists_the_costliest_users_and_searches_every_user(seeded, org_id, monkeypatch):
    """At tens of thousands of users the page gets the first ones by cost (25k options froze
    the browser ~5 s): typing searches every user of the window on the server."""
    import callbacks.slice
    import callbacks.slice_search as search_cb

    monkeypatch.setattr(callbacks.slice, "USER_OPTIONS", 10)
    monkeypatch.setattr(search_cb, "USER_OPTIONS", 10)
    app, token, rows = seeded
    ranked = _ranked_ids(rows, org_id)
    assert len(ranked) > 40
    args = ("custom", START, END, "all", "auto", TZ, token)
    with app.server.app_context():
        opts, names = callbacks.slice.options(*args)
        assert _user_values(opts[ids.SLICE_USER]) == ranked[:10]
        # The agents' names the page holds are not sent again (the chips would go back to the
        # server after every filter change); other names, or none held yet, are.
        again, same = callbacks.slice.options(*args, None, names)
        assert same is no_update and again == opts
        assert callbacks.slice.options(*args, None, {"agentId": {}})[1] == names != {"agentId": {}}

        def search(text, chosen=(), shown=None):
            return search_cb.search(text, list(chosen), shown, *args)

        got = search("USER-07")  # case-insensitive, anywhere in the id, by cost
        assert _user_values(got) == [u for u in ranked if "user-07" in u.casefold()]
        assert all(" · US$ " in o["label"] for o in got)  # each with its cost
        assert _user_values(search("sin us")) == ["none"]  # «Sin usuario», by its label
        hostile = search("<img")
        assert _user_values(hostile) == ["<img src=x onerror=alert(1)>"]
        assert hostile[0]["search"] == "<img src=x onerror=alert(1)>"  # plain text, as data
        assert _user_values(search("=cmd")) == ["=cmd|' /C calc'!A0"]
        assert len(search("@")) == min(search_cb.SEARCH_LIMIT, sum("@" in u for u in ranked))
        # Chosen values stay listed (after the matches), also one the window does not hold.
        kept = search("user-00", chosen=["user-070@example.com", "nobody"])
        assert _user_values(kept) == [u for u in ranked if "user-00" in u] + ["user-070@example.com", "nobody"]
        assert kept[-1]["label"] == "nobody"
        # No text: the first users again, and the chosen ones.
        back = search("", chosen=[ranked[30]])
        assert _user_values(back) == ranked[:10] + [ranked[30]]
        assert search(None, chosen=[ranked[30]], shown=back) is no_update  # unchanged: nothing sent
        assert _user_values(search("x" * 201, chosen=["none"])) == ["none"]  # past any value's length
        assert search("zzz-nobody") == []
        forged = search("zzz-nobody", chosen=[f"u{i}" for i in range(5000)] + [7, None])
        assert _user_values(forged) == [f"u{i}" for i in range(50)]  # at most a slice's values
        with pytest.raises(PreventUpdate):
            search(7)  # a forged search_value
        assert search_cb.search("user", [], None, "custom", START, END, "all", "auto", TZ, "forged") == []
