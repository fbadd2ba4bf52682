"""A small but rich data set for the dashboard's browser and callback tests.

One org, 40 local days up to now: the five action types, Sistema and BYOK (some BYOK rows
without a cost), four models (one never reports a latency, one has no public price),
three agents (one with an avatar image, two without) and rows tied to no agent.
About a thousand rows: enough for every chart to have a shape, quick to insert.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from storage.schema import ACTION_TYPES
from support.db import insert_agents, insert_logs

AVATAR = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='32' height='32'>"
    "<rect width='32' height='32' fill='%2310b981'/></svg>"
)
AGENTS = [
    ("ag-ventas", "Asistente de Ventas", AVATAR),
    ("ag-soporte", "Soporte Técnico", None),
    ("ag-legal", "Revisión Legal", None),
]
MODELS = [  # provider, model, latency (None: never reported), cost per 1K tokens
    ("anthropic", "claude-sonnet-4-5", 1400, 0.006),
    ("openai", "gpt-4o-mini", 600, 0.0006),
    ("openai", "text-embedding-3-small", None, 0.00002),
    ("selfhosted", "modelo-interno-7b", 300, 0.0002),
]


def rows_for(org_id: str, now: datetime | None = None, days: int = 40, seed: int = 3) -> list[dict]:
    """Log rows for org_id over the `days` days before now (UTC), deterministic."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    out = []
    for d in range(days):
        for i in range(24 + d % 5):
            created = now - timedelta(days=d, hours=rng.randrange(0, 24), minutes=rng.randrange(0, 60))
            if created >= now:
                created = now - timedelta(minutes=5)
            action = ACTION_TYPES[i % len(ACTION_TYPES)]
            provider, model, latency, price = MODELS[(i + d) % len(MODELS)]
            if action == "rag_query_embedding" or action == "document_indexing":
                provider, model, latency, price = MODELS[2]
            byok = i % 6 == 0
            inp = rng.randrange(200, 4000)
            cache = rng.randrange(0, inp) if provider == "anthropic" else 0
            out_tok = 0 if model.startswith("text-embedding") else rng.randrange(50, 900)
            cost = None if byok and i % 12 == 0 else round((inp + out_tok + cache * 0.1) / 1000 * price, 8)
            agent = None if action == "document_indexing" else AGENTS[(i + d) % len(AGENTS)][0]
            out.append(
                {
                    "org_id": org_id,
                    "created_at": created,
                    "agent_id": agent,
                    "user_id": None if agent is None else "u1",
                    "action_type": action,
                    "source": "byok" if byok else "system",
                    "provider": provider,
                    "model": model,
                    "input_tokens": inp,
                    "output_tokens": out_tok,
                    "cache_read_tokens": cache,
                    "cache_write_tokens": 0,
                    "cost_usd": cost,
                    "latency_ms": None if latency is None else latency + rng.randrange(0, 300),
                }
            )
    return out


def agents_for(org_id: str) -> list[dict]:
    return [{"id": f"{org_id}-{a}", "org_id": org_id, "name": n, "avatar_url": url} for a, n, url in AGENTS]


def seed(engine, org_id: str, now: datetime | None = None) -> int:
    """Insert the agents and log rows of org_id; return the number of rows."""
    rows = rows_for(org_id, now)
    for r in rows:
        if r["agent_id"] is not None:
            r["agent_id"] = f"{org_id}-{r['agent_id']}"
    insert_agents(engine, agents_for(org_id))
    insert_logs(engine, rows)
    return len(rows)
