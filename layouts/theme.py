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
BRAND = "#4f46e5"  # cost: the line, the projection, the heatmap ramp
BRAND_SOFT = "rgba(79, 70, 229, 0.14)"
TOKENS = "#94a3b8"  # token volume: a quiet area behind the cost line
TOKENS_FILL = "rgba(148, 163, 184, 0.22)"

ACTIONS = {  # contract value -> (Spanish label, colour); order = legend order
    "user_interaction": ("Interacción de usuario", "#3b82f6"),
    "guardrail_check": ("Verificación de guardrails", "#f59e0b"),
    "title_generation": ("Generación de títulos", "#10b981"),
    "rag_query_embedding": ("Embeddings de consultas RAG", "#a855f7"),
    "document_indexing": ("Indexación de documentos", "#f43f5e"),
}
OTHER_ACTION = ("Otra acción", "#9ca3af")

TOKEN_TYPES = {  # model-efficiency column -> (Spanish label, colour)
    "input_tokens": ("Entrada", "#334155"),
    "output_tokens": ("Salida", "#94a3b8"),
    "cache_read_tokens": ("Lectura de caché", "#14b8a6"),
}

# "other": rows whose source reads neither system nor byok (queries/sources.py), neutral grey.
SOURCES = {"system": ("Sistema", BRAND), "byok": ("BYOK", "#f97316"), "other": ("Otro", "#9ca3af")}
SOURCE_LABELS = {"all": "Todos", "system": "Sistema", "byok": "BYOK"}
GRANULARITY_LABELS = {"auto": "Auto", "hour": "Hora", "day": "Día", "week": "Semana", "month": "Mes"}
HEATMAP_SCALE = [[0.0, "#eef2ff"], [0.35, "#a5b4fc"], [0.7, "#6366f1"], [1.0, "#312e81"]]

AVATAR_COLOURS = ("#4f46e5", "#0369a1", "#047857", "#b45309", "#b91c1c", "#7c3aed", "#0f766e", "#be185d")  # white initials ≥ 4.5:1


def action_label(action: str) -> str:
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
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0,
                    font=dict(size=12, color=MUTED), bgcolor="rgba(0,0,0,0)"),
        xaxis=dict(showgrid=False, zeroline=False, linecolor=BORDER, ticks="", tickfont=dict(color=MUTED),
                   automargin=True, title=dict(font=dict(size=12, color=MUTED))),
        yaxis=dict(gridcolor=GRID, zeroline=False, linecolor=BORDER, ticks="", tickfont=dict(color=MUTED),
                   automargin=True, title=dict(font=dict(size=12, color=MUTED))),
        hovermode="closest",
    )
)

# plotly.js locale handed with every graph's config (no global script): Spanish month
# and day names on date axes, decimal comma.
LOCALE = {
    "es": {
        "dictionary": {},
        "format": {
            "days": [d.capitalize() for d in fmt.DAYS],
            "shortDays": [d.capitalize() for d in fmt.SHORT_DAYS],
            "months": [m.capitalize() for m in fmt.MONTHS],
            "shortMonths": [m.capitalize() for m in fmt.SHORT_MONTHS],
            "date": "%d/%m/%Y",
            "decimal": ",",
            "thousands": ".",
            "grouping": [3],
            "currency": ["US$ ", ""],
        },
    }
}

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True, "locale": "es", "locales": LOCALE,
                "scrollZoom": False, "doubleClick": "reset"}


def figure(**layout) -> go.Figure:
    """An empty figure on the page's template."""
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, **layout)
    return fig
