"""The visual system: palette, Spanish labels, one colour per action type, the plotly template.

Every chart and card takes its colours from here, so an action type, a token type or a
source has the same colour wherever it appears on the page.
"""

from __future__ import annotations

import plotly.graph_objects as go

from . import fmt

FONT = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2433"
MUTED = "#6b7280"
GRID = "#eceff4"
BORDER = "#e3e6ee"
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

ACTIONS = {  # contract value -> (Spanish label, colour); order = legend order
    "user_interaction": ("Interacción de usuario", "#3b82f6"),
    "guardrail_check": ("Verificación de guardrails", "#f59e0b"),
    "title_generation": ("Generación de títulos", "#10b981"),
    "rag_query_embedding": ("Embeddings de consultas RAG", "#a855f7"),
    "document_indexing": ("Indexación de documentos", "#f43f5e"),
}
OTHER_ACTION = ("Otra acción", "#a8a29e")

# The token terms, defined once and used the same in the KPI cards, charts, hovers and
# Avanzado (contract: input_tokens are prompt tokens NOT served from cache):
INPUT = "Entrada (sin caché)"  # input_tokens
CACHE_READ = "Lectura de caché"  # cache_read_tokens
OUTPUT = "Salida"  # output_tokens
PROMPT_TOTAL = "Entrada total"  # input_tokens + cache_read_tokens (every prompt token)
TOTAL_TOKENS = "Tokens totales"  # all three

TOKEN_TYPES = {  # model-efficiency column -> (Spanish label, colour); stack order
    "input_tokens": (INPUT, "#1e3a5f"),
    "cache_read_tokens": (CACHE_READ, "#06b6d4"),
    "output_tokens": (OUTPUT, "#84cc16"),
}
UNSPLIT = ("Sin desglose", "#e2e8f0")  # a cost bar we cannot split by type

# "other": rows whose source reads neither system nor byok (storage/sources.py), its own colour.
SOURCES = {"system": ("Sistema", "#0f766e"), "byok": ("BYOK", "#7c2d12"), "other": ("Otro", "#57534e")}
OTHER_SOURCE = SOURCES["other"]
SOURCE_LABELS = {"all": "Todos", "system": "Sistema", "byok": "BYOK"}
GRANULARITY_LABELS = {"auto": "Auto", "hour": "Hora", "day": "Día", "week": "Semana", "month": "Mes"}
# Token volume per hour and weekday: the slate of token volume, light to dark (a ramp, not a category).
HEATMAP_SCALE = [[0.0, "#f1f5f9"], [0.45, "#b6c2d2"], [0.8, "#64748b"], [1.0, "#334155"]]

PALETTE = {  # meaning -> colour: every data colour on the page, each used for one meaning only
    "cost": BRAND,
    "tokens": TOKENS,
    "model": MODEL,
    "savings": SAVINGS,
    "hit_rate": HIT_RATE,
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
    """The Spanish name of an action type; any other value is «Otra acción» (never raw data)."""
    return ACTIONS.get(action, OTHER_ACTION)[0]


def action_colour(action: str) -> str:
    return ACTIONS.get(action, OTHER_ACTION)[1]


TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font=dict(family=FONT, size=12, color=INK),
        separators=",.",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        colorway=[c for _, c in ACTIONS.values()],
        margin=dict(l=8, r=8, t=8, b=8),
        hoverlabel=dict(bgcolor="white", bordercolor=BORDER, font=dict(family=FONT, size=12, color=INK)),
        legend=dict(
            orientation="h",
            yanchor="bottom",
            y=1.02,
            xanchor="left",
            x=0,
            font=dict(size=12, color=MUTED),
            bgcolor="rgba(0,0,0,0)",
        ),
        xaxis=dict(
            showgrid=False,
            zeroline=False,
            linecolor=BORDER,
            ticks="",
            tickfont=dict(color=MUTED),
            automargin=True,
            title=dict(font=dict(size=12, color=MUTED)),
        ),
        yaxis=dict(
            gridcolor=GRID,
            zeroline=False,
            linecolor=BORDER,
            ticks="",
            tickfont=dict(color=MUTED),
            automargin=True,
            title=dict(font=dict(size=12, color=MUTED)),
        ),
        hovermode="closest",
    )
)

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


def figure(**layout) -> go.Figure:
    """An empty figure on the page's template."""
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, **layout)
    return fig
