"""Layouts: one id module, unique ids, Spanish labels, card builders, es number formats,
and a page that needs nothing from the internet."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from dash import dcc

from layouts import agents, fmt, ids, kpis, page
from queries import Projection
from storage.schema import ACTION_TYPES
from storage.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def components(tree):
    yield tree
    yield from tree._traverse()


def texts(tree) -> str:
    out = []
    for c in components(tree):
        for attr in ("children", "label", "placeholder", "title"):
            v = getattr(c, attr, None)
            out.extend(
                [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
            )
        for opt in getattr(c, "options", None) or []:
            label = opt.get("label") if isinstance(opt, dict) else None
            out.append(label if isinstance(label, str) else getattr(label, "children", "") or "")
    return "\n".join(out)


def test_ids_are_unique_and_every_declared_id_is_on_the_page():
    tree = page.layout()
    found = [c.id for c in components(tree) if getattr(c, "id", None) is not None]
    assert len(found) == len(set(found)), [i for i in found if found.count(i) > 1]
    declared = {v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)}
    # A declared prefix: one id per action type (the actions' legend buttons).
    declared = (declared - {ids.ACTIONS_LEGEND_ITEM}) | {f"{ids.ACTIONS_LEGEND_ITEM}-{a}" for a in ACTION_TYPES}
    assert declared - set(found) == set()
    assert set(found) <= declared  # no id spelled outside layouts/ids.py
    # The budget editor: hidden and empty until a writer's token is verified (callbacks/budget.py).
    editor = next(c for c in components(tree) if getattr(c, "id", None) == ids.BUDGET_EDITOR)
    assert editor.hidden is True
    assert all(getattr(c, "value", "") == "" for c in components(editor))


def test_spanish_labels():
    text = texts(page.layout())
    for label in [
        "Costo total",
        "Tokens totales",
        "Tasa de aciertos de caché",
        "Proyección a fin de mes",
        "Tendencia",
        "Desglose por acción",
        "Modelos",
        "Agentes",
        "Avanzado",
        "Exportar CSV",
        "Personalizado",
        "YTD",
        "Todos",
        "Sistema",
        "BYOK",
        "Auto",
        "Hora",
        "Día",
        "Semana",
        "Mes",
        "Interacción de usuario",
        "Verificación de guardrails",
        "Generación de títulos",
        "Embeddings de consultas RAG",
        "Indexación de documentos",
        "No se puede mostrar el consumo de IA",
    ]:
        assert label in text, label


def test_token_lives_in_memory_and_advanced_starts_collapsed():
    tree = page.layout()
    by_id = {c.id: c for c in components(tree) if getattr(c, "id", None)}
    assert isinstance(by_id[ids.TOKEN], dcc.Store) and by_id[ids.TOKEN].storage_type == "memory"
    assert by_id[ids.TIMEZONE].storage_type == "memory"
    assert by_id[ids.ADVANCED_COLLAPSE].is_open is False
    assert by_id[ids.DASHBOARD].hidden is True  # nothing shows before the token is checked
    assert by_id[ids.DATES].first_day_of_week == 1


@pytest.mark.parametrize(
    "value,expected",
    [
        (1234.56, "US$ 1.234,56"),
        (0, "US$ 0,00"),
        (0.004, "< US$ 0,01"),
        (1234567.891, "US$ 1.234.567,89"),
        (-12.5, "-US$ 12,50"),
        (None, "—"),
    ],
)
def test_usd(value, expected):
    assert fmt.usd(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (950, "950"),
        (1000, "1K"),
        (820_000, "820K"),
        (1_412_345, "1,4M"),
        (999_600, "1M"),
        (2_300_000_000, "2,3 mil M"),
        (12_500, "12,5K"),
        (None, "—"),
    ],
)
def test_compact(value, expected):
    assert fmt.compact(value) == expected


def test_other_formats():
    assert fmt.integer(1234567) == "1.234.567" and fmt.integer(999) == "999"
    assert fmt.percent(0.345) == "34,5 %" and fmt.percent(None) == "N/A"
    assert fmt.day(date(2026, 6, 3)) == "3 jun 2026" and fmt.month(date(2026, 6, 3)) == "junio de 2026"
    assert fmt.bucket(datetime(2026, 6, 1, 14), "hour") == "lun 1 jun 2026, 14:00"
    assert fmt.bucket(datetime(2026, 6, 1), "week") == "Semana del 1 jun 2026"
    assert fmt.window(date(2026, 6, 1), date(2026, 6, 30)) == "1 jun 2026 – 30 jun 2026"


def test_share_is_a_spanish_percentage_and_never_reads_zero_for_a_real_part():
    assert fmt.share(96.9, 100) == "96,9 %" and fmt.share(1, 1) == "100,0 %"
    assert fmt.share(0.02, 61.3) == "< 0,1 %"  # 0,0326 %: small, but not nothing
    assert fmt.share(0, 5) == "0,0 %" and fmt.share(1, 0) == "N/A"


def flat(children) -> str:
    from dash import html

    return texts(html.Div(children))


SUMMARY = {
    "total_cost_usd": 1234.5,
    "total_tokens": 1_412_345,
    "total_input_tokens": 1_000_000,
    "total_output_tokens": 412_345,
    "total_cache_read_tokens": 300_000,
    "executions": 4321,
}


def test_kpi_cards_with_data():
    assert "US$ 1.234,50" in flat(kpis.cost_card(SUMMARY)) and "4.321 ejecuciones" in flat(kpis.cost_card(SUMMARY))
    assert "1,4M" in flat(kpis.tokens_card(SUMMARY))
    cache = {
        "hit_rate": 0.3,
        "estimated_savings_usd": 12.0,
        "write_premium_usd": 2.0,
        "net_savings_usd": 10.0,
        "total_cache_read_tokens": 300_000,
        "total_input_tokens": 1_000_000,
        "skipped_models_count": 1,
    }
    text = flat(kpis.cache_card(cache, "Sistema"))
    assert "30,0 %" in text and "US$ 12,00" in text and "parcial: 1 modelo sin precio" in text
    assert "parcial" not in flat(kpis.cache_card({**cache, "skipped_models_count": 0}, "Todos"))
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
    text = flat(kpis.projection_card(p))
    assert "US$ 30,00" in text and "US$ 25,00 – 35,50" in text and "Junio de 2026" in text


def test_kpi_cards_never_show_a_misleading_zero():
    empty = {**SUMMARY, "total_cost_usd": 0.0, "total_tokens": 0, "executions": 0}
    assert "Sin datos en este periodo" in flat(kpis.cost_card(empty)) and "US$ 0" not in flat(kpis.cost_card(empty))
    assert "N/A" in flat(kpis.cache_card({"hit_rate": None, "skipped_models_count": 0}, "Todos"))
    text = flat(kpis.projection_card(Projection(status="insufficient_data", daily_points=4)))
    assert "Datos insuficientes" in text and "hay 4" in text


def test_projection_card_of_a_closed_month_says_its_actual_total():
    p = Projection(
        status="closed",
        daily_points=20,
        month_start=date(2026, 11, 1),
        month_end=date(2026, 11, 30),
        month_to_date_usd=1234.5,
        projected_total_usd=1234.5,
        lower80=1234.5,
        upper80=1234.5,
    )
    text = flat(kpis.projection_card(p))
    assert "Noviembre de 2026 (cerrado): US$ 1.234,50" in text and "Intervalo" not in text


def test_agent_rows_say_sin_agente():
    # The query answers name None for the row without an agent: the layout labels it.
    df = pd.DataFrame(
        {
            "agent_id": ["a1", None],
            "name": ["Ventas", None],
            "avatar_url": [None, None],
            "cost_usd": [2.5, 1.0],
            "tokens": [10, 5],
            "executions": [1, 1],
            "sparkline": [[1.0, 1.5], [0.0, 1.0]],
        }
    )
    rows = agents.rows(df)
    assert rows[1]["name"] == "Sin agente" and rows[1]["no_agent"] and rows[1]["agent_id"] is None
    assert rows[0]["sparkline"] == [1.0, 1.5] and rows[0]["row_key"] == "a1"
    assert "sparkline" not in agents.CSV_COLUMNS  # the CSV holds numbers, not a drawing
    assert agents.CSV_COLUMNS[:5] == ["name", "agent_id", "cost_usd", "tokens", "executions"]
    # Unit economics: 2.5 USD over 1 execution and 10 tokens → 2.5 per execution, 250 per 1K tokens.
    assert rows[0]["cost_per_execution_usd"] == 2.5 and rows[0]["cost_per_1k_tokens_usd"] == 250.0


# AG Grid's own English for the texts this grid can show (pagination, empty, loading, search).
AG_GRID_ENGLISH = {
    "page": "Page",
    "of": "of",
    "to": "to",
    "more": "more",
    "next": "Next",
    "last": "Last",
    "first": "First",
    "previous": "Previous",
    "firstPage": "First Page",
    "lastPage": "Last Page",
    "nextPage": "Next Page",
    "previousPage": "Previous Page",
    "loadingOoo": "Loading...",
    "noRowsToShow": "No Rows To Show",
    "noMatchingRows": "No Matching Rows",
    "pageSizeSelectorLabel": "Page Size:",
}


def test_agent_search_says_how_many_match_and_in_spanish():
    options = agents.grid().dashGridOptions
    locale = options["localeText"]
    english = {k: locale.get(k) for k, en in AG_GRID_ENGLISH.items() if locale.get(k) in (None, "", en)}
    assert not english, english  # every text the grid shows has its Spanish; none falls back to English
    assert "agente" in locale["noMatchingRows"]  # an empty search says what was searched for
    assert options["noRowsOverlayComponentParams"]["message"] == locale["noRowsToShow"]  # one wording, both ways
    text = str(agents.layout())
    assert f"id='{ids.AGENTS_COUNT}'" in text and f"id='{ids.AGENTS_MATCHES}'" in text


def test_agent_names_sort_a_to_z_first_and_numbers_high_first():
    name = next(c for c in agents.COLUMN_DEFS if c["field"] == "name")
    assert name["sortingOrder"] == ["asc", "desc", None]
    assert agents.grid().defaultColDef["sortingOrder"] == ["desc", "asc", None]


def test_page_is_served_without_any_cdn(tmp_path):
    from app import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", secret="s" * 40)
    app = create_app(settings)
    client = app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and not [r for r in refs if r.startswith(("http:", "https:", "//"))]
    assert any("00_bootstrap.min.css" in r for r in refs) and any("10_dashboard.css" in r for r in refs)
    css = client.get(next(r for r in refs if "10_dashboard.css" in r)).get_data(as_text=True)
    for font in re.findall(r'url\("([^"]+)"\)', css):
        assert client.get("/assets/" + font).status_code == 200
    assert (ROOT / "assets" / "00_bootstrap.min.css").read_text()[:200].count("Bootstrap  v5.3.9") == 1


def test_page_survives_a_url_prefix(tmp_path):
    from app import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", secret="s" * 40)
    app = create_app(settings, url_base_pathname="/panel/ia/")
    client = app.server.test_client()
    html = client.get("/panel/ia/").get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/panel/ia/") for r in refs)
    assert client.get("/panel/ia/_dash-layout").status_code == 200


def test_callbacks_are_registered_on_the_app_not_globally():
    import dash

    from app import create_app

    app = create_app(Settings(database_url="sqlite://", secret="s" * 40))
    outputs = " ".join(app.callback_map)
    for sec in ids.SECTIONS:
        assert f"{sec}.data-stamp" in outputs
    assert not dash._callback.GLOBAL_CALLBACK_LIST
    for path in (ROOT / "callbacks").glob("*.py"):
        source = path.read_text()
        assert "from app import" not in source and "@dash.callback" not in source and "@callback" not in source
        assert "select(" not in source and "text(" not in source  # no SQL in callbacks


def test_the_page_declares_spanish(tmp_path):
    from app import create_app

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", secret="s" * 40))
    html = app.server.test_client().get("/").get_data(as_text=True)
    assert re.search(r"<html lang=\"es\">", html)


def test_every_aria_reference_names_an_element_of_the_page():
    tree = page.layout()
    found = {c.id for c in components(tree) if getattr(c, "id", None)}
    refs = [
        (getattr(c, "id", None), ref)
        for c in components(tree)
        for ref in (getattr(c, "aria-labelledby", None) or "").split()
    ]
    assert len(refs) >= 5 and all(ref in found for _, ref in refs), refs
    groups = [c for c in components(tree) if getattr(c, "role", None) == "radiogroup"]
    assert len(groups) == 8  # Periodo, Origen, Resolución, Medida, Barras, Eje de costo, Latencia, Vista (Tendencia)
    picker = next(c for c in components(tree) if getattr(c, "id", None) == ids.DATES)
    # The picker cites "<id> <id>-end-date <start_date_id> <end_date_id>": its inputs carry those ids.
    assert (picker.start_date_id, picker.end_date_id) == (ids.DATES, f"{ids.DATES}-end-date")


def test_the_browser_and_the_server_agree_on_the_longest_hourly_window():
    from queries.filters import MAX_HOURLY_DAYS

    js = (ROOT / "assets" / "dashboard.js").read_text()
    assert re.search(r"MAX_HOURLY_DAYS: (\d+)", js).group(1) == str(MAX_HOURLY_DAYS)
    # The messages (translated in the browser) take the number from MAX_HOURLY_DAYS above.
    assert "hasta {n} días" in js and js.count('"{n}", F.MAX_HOURLY_DAYS)') == js.count("hasta {n} días")


def test_the_browser_draws_what_textdom_builds_and_nothing_else():
    """assets/textdom.js draws layouts/textdom.py's trees: the same tags and attributes, text
    as text (never parsed as markup)."""
    from layouts import textdom

    js = (ROOT / "assets" / "textdom.js").read_text()
    tags = re.search(r"var TAGS = \[([^\]]*)\]", js).group(1)
    assert {t.strip().strip('"') for t in tags.split(",")} == set(textdom.TAGS)
    assert re.search(r"var ATTRIBUTE = /(.*)/;", js).group(1) == textdom.ATTRIBUTE.pattern
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "createTextNode" in js
    for bad in ({"onclick": "x"}, {"href": "x"}, {"style": "x"}, {"data-": "x"}, {"title ": "x"}, {"title\n": "x"}):
        with pytest.raises(ValueError):
            textdom.el("span", attrs=bad)
    for tag in ("script", "a", "img", "iframe", "style"):
        with pytest.raises(ValueError):
            textdom.el(tag)
    node = textdom.el("li", "x y", "<b>1</b>", [textdom.el("span", "y", 2)], {"value": 3, "data-api": "m"})
    assert node == {"t": "li", "c": "x y", "x": "<b>1</b>", "k": [{"t": "span", "c": "y", "x": "2"}],
                    "a": {"value": "3", "data-api": "m"}}  # fmt: skip
    assert textdom.text(node) == "<b>1</b>2" and len(textdom.by_class(node, "y")) == 2


def contrast(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours."""

    def lum(h):
        c = [int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b_ = (v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    x, y = sorted((lum(a), lum(b)), reverse=True)
    return (x + 0.05) / (y + 0.05)


def test_text_colours_reach_wcag_aa_on_their_backgrounds():
    from layouts import theme

    css = (ROOT / "assets" / "10_dashboard.css").read_text()
    light_block = css[css.index(":root {") : css.index("}", css.index(":root {"))]
    dark_block = css[css.index(':root[data-bs-theme="dark"] {') :]
    dark_block = dark_block[: dark_block.index("}")]
    light = dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-f]{6})", light_block))
    dark = {**light, **dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-f]{6})", dark_block))}
    assert light["seg-bg"] == "#e9ebf2" and dark["surface"] == theme.DARK_SURFACE
    for var in (light, dark):  # both themes (?theme=light|dark)
        for text in ("ink", "ink-2", "muted"):  # on the page background and on the cards
            assert min(contrast(var[text], var["bg"]), contrast(var[text], var["surface"])) >= 4.5, text
        assert contrast(var["faint"], var["surface"]) >= 4.5  # only on cards
        assert contrast(var["muted"], var["seg-bg"]) >= 4.5  # the segmented controls' track
        assert contrast(var["brand-2"], var["seg-active"]) >= 4.5  # the chosen segment
        assert contrast(var["brand-2"], var["brand-soft"]) >= 4.5  # «hasta hoy»
        assert contrast(var["notice-ink"], var["notice-bg"]) >= 4.5 and contrast(var["warn-ink"], var["warn-bg"]) >= 4.5
    for colour, card in ((theme.INK, theme.SURFACE), (theme.MUTED, theme.SURFACE)):  # chart text on the cards
        assert contrast(colour, card) >= 4.5
    for colour in (theme.DARK_INK, theme.DARK_MUTED):
        assert contrast(colour, theme.DARK_SURFACE) >= 4.5
    for colour in theme.AVATAR_COLOURS:  # white initials
        assert contrast("#ffffff", colour) >= 4.5, colour
