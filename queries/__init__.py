"""Query layer: pure (connection, Filters) -> frame functions, one module per figure family.

| function | frame columns |
|---|---|
| summary | total_cost_usd, total_tokens, total_input_tokens, total_output_tokens, total_cache_read_tokens, executions, unpriced_executions, estimated_unpriced_cost_usd (one row) |
| cache_savings | total_cache_read_tokens, total_input_tokens, hit_rate (None without input), estimated_savings_usd, skipped_models_count, cache_write_tokens, write_premium_usd, net_savings_usd (one row) |
| cache_economics | a CacheEconomics: total (cache_savings' row), points (per bucket up to now), models (per model, by net savings) |
| projection | a Projection (status, daily_points, as_of, month_start, month_end, month_to_date_usd, projected_total_usd, lower80, upper80, daily, forecast) |
| time_series | bucket (tz-aware local start), [action_type], cost_usd, tokens, executions (zero-filled), partial, in_progress — buckets up to now only |
| model_efficiency | provider, model, cost_usd, input_tokens, output_tokens, cache_read_tokens, executions, avg_latency_ms, p50/p95/p99_latency_ms |
| by_agent | agent_id, name, avatar_url, cost_usd, tokens, executions, sparkline (list of cost per bucket up to now), p95_latency_ms |
| heatmap | dow (0 = Sunday), hour, tokens, cost_usd, executions (non-zero cells) |
| by_user | a Users: users (user_id, cost_usd, cost_e8, tokens, executions, sparkline), total_users, others |
| by_user_compared | by_user beside the earlier window: previous_cost_usd, previous_tokens, previous_executions on users and others |

`earlier(f)` (compare.py) is the earlier window of a comparison (contract §3.2); run any
of these on it and put the figures beside the current ones with `align_points` /
`beside_rows` (then `zero_sparklines` for the rows only in the earlier window).
"""

from .agents import by_agent, names_of as agent_names
from .cache_savings import CacheEconomics, cache_economics, cache_savings
from .compare import align_points, beside_rows, earlier, zero_sparklines
from .filters import BadParameter, Filters, parse_filters
from .heatmap import heatmap
from .models import model_efficiency
from .movers import biggest as biggest_changes, cost_changes
from .projection import Projection, projection
from .summary import summary
from .time_series import time_series
from .users import Users, by_user, by_user_compared

__all__ = [
    "BadParameter",
    "CacheEconomics",
    "Filters",
    "Projection",
    "Users",
    "agent_names",
    "align_points",
    "beside_rows",
    "biggest_changes",
    "by_agent",
    "by_user",
    "by_user_compared",
    "cache_economics",
    "cache_savings",
    "cost_changes",
    "earlier",
    "heatmap",
    "model_efficiency",
    "parse_filters",
    "projection",
    "summary",
    "time_series",
    "zero_sparklines",
]
