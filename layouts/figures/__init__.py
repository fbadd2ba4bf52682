"""Pure figure builders: a query frame in, a plain plotly figure out (layouts/plot.Figure) (no I/O, no Dash)."""

from .actions import actions_area, actions_donut
from .advanced import heatmap, source_split
from .cache import cache_timeline
from .common import NO_DATA, empty, is_empty
from .models import models_bars, models_bubble, without_latency
from .timeline import trend

__all__ = [
    "NO_DATA",
    "actions_area",
    "actions_donut",
    "cache_timeline",
    "empty",
    "heatmap",
    "is_empty",
    "models_bars",
    "models_bubble",
    "source_split",
    "trend",
    "without_latency",
]
