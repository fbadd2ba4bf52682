"""The visual system: palette, labels (Spanish msgids, shown through `_()`), one colour per action
type, the plotly templates.

Every chart and card takes its colours from here, so an action type, a token type or a
source has the same colour wherever it appears on the page. Two themes (contract §4,
`?theme=light|dark|auto`): figures are built with the light palette and DARK gives each
colour its dark-theme variant, meaning for meaning (layouts/skin.py applies it); the page's
own colours are CSS custom properties (assets/10_dashboard.css).
"""

from __future__ import annotations

from typing import Any

from . import fmt, i18n, plot
from .i18n import N_, _

FONT = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2433"
MUTED = "#6b7280"
GRID = "#eceff4"
BORDER = "#e3e6ee"
SURFACE = "#ffffff"  # a card: behind every chart (the figures' paper is transparent)
# One meaning per colour across the page (tests/test_palette.py checks it): a colour that
# encodes cost never encodes a source, an action type or a token type, and so on.
# Indigo is cost (the trend line, the projection, the agents' cost sparklines); the
# slate greys are token volume; every action type, token type and source has its own hue.
BRAND = "#4f46e5"  # cost: the line, the projection (also the UI accent: buttons, focus)
BRAND_SOFT = "rgba(79, 70, 229, 0.14)"
TOKENS = "#94a3b8"  # token volume: a quiet area behind the cost line
TOKENS_FILL = "rgba(148, 163, 184, 0.22)"
MODEL = "#6b7280"  # a bubble is one model: neutral, no category colour
SAVINGS = "#15803d"  # money the prompt cache saved (net of the write premium)
HIT_RATE = "#0369a1"  # the cache hit rate, a share of prompt tokens
ANOMALY = "#b91c1c"  # a day whose cost departs from its baseline (markers on the trend; ▲ up, ▼ down)
BUDGET = "#c2410c"  # the monthly budget: the limit line of the «Acumulado» view
PREVIOUS = "#a1a5e4"  # cost of the earlier window (the comparison's ghost line): a faint indigo

ACTIONS = {  # contract value -> (Spanish label, colour); order = legend order
    "user_interaction": (N_("Interacción de usuario"), "#3b82f6"),
    "guardrail_check": (N_("Verificación de guardrails"), "#f59e0b"),
    "title_generation": (N_("Generación de títulos"), "#10b981"),
    "rag_query_embedding": (N_("Embeddings de consultas RAG"), "#a855f7"),
    "document_indexing": (N_("Indexación de documentos"), "#f43f5e"),
}
OTHER_ACTION = (N_("Otra acción"), "#a8a29e")

# The token terms, defined once and used the same in the KPI cards, charts, hovers and
# Avanzado (contract: input_tokens are prompt tokens NOT served from cache):
INPUT = N_("Entrada (sin caché)")  # input_tokens
CACHE_READ = N_("Lectura de caché")  # cache_read_tokens
OUTPUT = N_("Salida")  # output_tokens
PROMPT_TOTAL = N_("Entrada total")  # input_tokens + cache_read_tokens (every prompt token)
TOTAL_TOKENS = N_("Tokens totales")  # all three

TOKEN_TYPES = {  # model-efficiency column -> (Spanish label, colour); stack order
    "input_tokens": (INPUT, "#1e3a5f"),
    "cache_read_tokens": (CACHE_READ, "#06b6d4"),
    "output_tokens": (OUTPUT, "#84cc16"),
}
UNSPLIT = (N_("Sin desglose"), "#e2e8f0")  # a cost bar we cannot split by type

# "other": rows whose source reads neither system nor byok (storage/sources.py), its own colour.
SOURCES = {"system": (N_("Sistema"), "#0f766e"), "byok": ("BYOK", "#7c2d12"), "other": (N_("Otro"), "#57534e")}
OTHER_SOURCE = SOURCES["other"]
SOURCE_LABELS = {"all": N_("Todos"), "system": N_("Sistema"), "byok": "BYOK"}
GRANULARITY_LABELS = {
    "auto": N_("Auto"),
    "hour": N_("Hora"),
    "day": N_("Día"),
    "week": N_("Semana"),
    "month": N_("Mes"),
}
# Token volume per hour and weekday: the slate of token volume, light to dark (a ramp, not a category).
HEATMAP_SCALE = [[0.0, "#f1f5f9"], [0.45, "#b6c2d2"], [0.8, "#64748b"], [1.0, "#334155"]]

PALETTE = {  # meaning -> colour: every data colour on the page, each used for one meaning only
    "cost": BRAND,
    "tokens": TOKENS,
    "model": MODEL,
    "savings": SAVINGS,
    "hit_rate": HIT_RATE,
    "anomaly": ANOMALY,
    "budget": BUDGET,
    "previous": PREVIOUS,
    **{f"action:{a}": c for a, (_, c) in ACTIONS.items()},
    "action:other": OTHER_ACTION[1],
    **{f"token:{t}": c for t, (_, c) in TOKEN_TYPES.items()},
    "token:unsplit": UNSPLIT[1],
    **{f"source:{k}": c for k, (_, c) in SOURCES.items()},
}

# Initials avatars: one neutral slate. Hue-per-agent avatars reused the data colours (indigo =
# cost, teal = Sistema): a colour on this page means one thing. White initials: 7.6:1.
AVATAR_COLOURS = ("#475569",)


def _luminance(hex_colour: str) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_on(fill: str) -> str:
    """Black or white, whichever reads better on `fill` (slice percentages): plotly's own pick
    (white or #444) gave 3.7:1 on the blue and purple slices, under WCAG AA's 4.5:1."""
    lum = _luminance(fill)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def action_label(action: str) -> str:
    """The name of an action type in the page's language; any other value is «Otra acción» (never raw data)."""
    return _(ACTIONS.get(action, OTHER_ACTION)[0])


def source_label(source: str) -> str:
    """Todos, Sistema, BYOK (the filter's sources) or a split's Otro, in the page's language."""
    return _(SOURCE_LABELS.get(source) or SOURCES.get(source, OTHER_SOURCE)[0])


def action_colour(action: str) -> str:
    return ACTIONS.get(action, OTHER_ACTION)[1]


def template(ink: str, muted: str, grid: str, border: str, surface: str, colorway: list[str]) -> dict:
    """The plotly template of one theme: text, axes, grid lines, legend and hover labels (plain
    data, layouts/plot.py; tests/test_palette.py checks that plotly takes it as a template)."""
    return dict(
        layout=dict(
            font=dict(family=FONT, size=12, color=ink),
            separators=",.",
            paper_bgcolor="rgba(0,0,0,0)",  # the card's surface shows through (CSS, per theme)
            plot_bgcolor="rgba(0,0,0,0)",
            colorway=colorway,
            margin=dict(l=8, r=8, t=8, b=8),
            hoverlabel=dict(bgcolor=surface, bordercolor=border, font=dict(family=FONT, size=12, color=ink)),
            legend=dict(
                orientation="h",
                yanchor="bottom",
                y=1.02,
                xanchor="left",
                x=0,
                font=dict(size=12, color=muted),
                bgcolor="rgba(0,0,0,0)",
            ),
            xaxis=dict(
                showgrid=False,
                zeroline=False,
                linecolor=border,
                ticks="",
                tickfont=dict(color=muted),
                automargin=True,
                title=dict(font=dict(size=12, color=muted)),
            ),
            yaxis=dict(
                gridcolor=grid,
                zeroline=False,
                linecolor=border,
                ticks="",
                tickfont=dict(color=muted),
                automargin=True,
                title=dict(font=dict(size=12, color=muted)),
            ),
            hovermode="closest",
        )
    )


TEMPLATE = template(INK, MUTED, GRID, BORDER, SURFACE, [c for _, c in ACTIONS.values()])

# ---- The dark theme: every colour above has its dark variant, with the same meaning ----
# Neutrals: a deep slate page, not an inverted one (assets/10_dashboard.css has the same values
# as CSS custom properties). Text on the card: INK 13.9:1, MUTED 6.6:1 (WCAG AA needs 4.5:1).
DARK_INK = "#e6e9f2"
DARK_MUTED = "#9aa3b5"
DARK_GRID = "#262e40"
DARK_BORDER = "#323b52"
DARK_SURFACE = "#171d2b"
# Data colours: lighter hues that keep ≥ 3:1 against the card (WCAG 1.4.11 for graphics; the
# hatched «Sin desglose» excepted, as in light) and stay distinct: a meaning keeps its colour
# family in both themes (navy input tokens become steel blue, brown BYOK a burnt orange).
DARK_PALETTE = {
    "cost": "#8b93ff",
    "previous": "#6a6fc0",  # 3.7:1 on the card: quieter than the cost line, still a graphic
    "tokens": "#7b8aa3",
    "model": DARK_MUTED,  # as in light, where MODEL is MUTED: a model is no category
    "action:user_interaction": "#60a5fa",
    "action:guardrail_check": "#fbbf24",
    "action:title_generation": "#34d399",
    "action:rag_query_embedding": "#c084fc",
    "action:document_indexing": "#fb7185",
    "action:other": "#b8b2ab",
    "token:input_tokens": "#6f95cf",
    "token:cache_read_tokens": "#22d3ee",
    "token:output_tokens": "#a3e635",
    "token:unsplit": "#3b465c",
    "source:system": "#2dbfa8",
    "source:byok": "#e08a5a",
    "source:other": "#8f8982",
    "savings": "#4ade80",
    "hit_rate": "#7dd3fc",
    "anomaly": "#fca5a5",
    "budget": "#fb923c",
}
DARK_TEMPLATE = template(
    DARK_INK, DARK_MUTED, DARK_GRID, DARK_BORDER, DARK_SURFACE, [DARK_PALETTE[f"action:{a}"] for a in ACTIONS]
)
TEMPLATES = {"light": TEMPLATE, "dark": DARK_TEMPLATE}
# Token volume on dark: the ramp runs from the card (little) to bright slate (much).
DARK_HEATMAP_SCALE = [[0.0, "#1e2739"], [0.45, "#3d4e69"], [0.8, "#7d90ad"], [1.0, "#d5dde9"]]
# light colour -> dark colour: the data colours by meaning, then the neutrals.
DARK = {
    **{PALETTE[m].lower(): c for m, c in DARK_PALETTE.items()},
    INK: DARK_INK,
    MUTED: DARK_MUTED,
    GRID: DARK_GRID,
    BORDER: DARK_BORDER,
    SURFACE: DARK_SURFACE,
}


def swatch(colour: str) -> dict:
    """The inline style of an HTML colour key (a legend chip, a table's dot) in both themes:
    CSS picks --swatch or --swatch-dark (assets/10_dashboard.css, .chip-dot)."""
    return {"--swatch": colour, "--swatch-dark": DARK.get(colour.lower(), colour)}


def separators() -> str:
    """plotly's decimal and thousands separators in the page's language (es ",." / en ".,")."""
    c = fmt.convention(i18n.current())
    return c.decimal + c.group


def figure(**layout) -> plot.Figure:
    """An empty figure on the page's template, in the page's number format (plain data:
    layouts/plot.py); the layout's keys are plotly's, as plain keys (no magic underscores)."""
    return plot.Figure(layout={"template": TEMPLATE, "separators": separators(), **layout})


def relayout(fig: plot.Figure, **props: Any) -> plot.Figure:
    """fig.update_layout(**props) on a plain figure (plain keys, no magic underscores): a
    property not set yet is assigned; one already set is merged into as update_layout merges
    (plot.merge: into an axis already set, into annotations already there; meta replaced)."""
    for key, value in props.items():
        if value is None:
            fig.layout.pop(key, None)
        else:
            fig.layout[key] = plot.merge(fig.layout.get(key), value, key)
    return fig
