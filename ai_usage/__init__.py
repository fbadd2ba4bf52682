"""AI Usage Dashboard: the entry points (the `ai-usage` CLI, the server start-up, the benchmark)."""
