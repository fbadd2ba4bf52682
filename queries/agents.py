"""Agents: cost, tokens, executions and a cost sparkline per agent."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.schema import agents as agents_table

from .base import DERIVED_FROM, facts, with_derived
from .buckets import bucket_cuts
from .costing import sum_by
from .filters import Filters
from .latency import latency_sketch, percentiles
from .sparklines import cost_sparklines


def by_agent(conn: sa.Connection, f: Filters, detail: bool = True, latency: bool = True) -> pd.DataFrame:
    """One row per agent (agent_id None for rows without one), by cost descending:
    agent_id, name, avatar_url, cost_usd, tokens, executions, sparkline (cost per bucket
    up to now), sparkline_partial_last (its last bucket is partial: running or cut),
    p95_latency_ms (within 1 %, NaN without latencies; the page's, not the API's).

    name: the agents table's name; the agent_id itself for an id the org has no agents row
    for; None for the row without an agent (the page labels it, in its own language).
    Ties on cost and executions sort by name, the row without an agent last.

    detail=False: the same rows and totals without reading sparklines or percentiles (empty
    sparklines, NaN p95) — what an earlier window put beside the current one needs.
    latency=False: NaN p95 without reading the latency sketches. The API's by-agent answer
    has no latency (contract §3.3); the sketches were ~10 ms of its ~30 ms at 10M rows."""
    cuts = bucket_cuts(f) if detail else None
    df = with_derived(facts(conn, f, dims=("agent_id",), by_qh=detail, boundaries=cuts, measures=DERIVED_FROM))
    cols = ["agent_id", "name", "avatar_url", "cost_usd", "tokens", "executions", "sparkline", "sparkline_partial_last"]
    cols.append("p95_latency_ms")
    if not len(df):
        return pd.DataFrame(columns=cols)
    # numpy instead of groupby/unstack/iterrows: a few dozen agents, one pass each way.
    missing = df["agent_id"].isna().to_numpy()
    keys = np.where(missing, "\x00none", df["agent_id"].to_numpy(dtype=object)).astype(object)
    uniq, k = np.unique(keys, return_inverse=True)  # sorted as groupby sorted them: the tie order
    cost, tokens, execs = (
        sum_by(df[c].to_numpy().astype("int64"), k, len(uniq)) for c in ("cost_e8", "tokens", "executions")
    )
    if detail:
        spark, partial_last = cost_sparklines(f, df["qh"].to_numpy(), k, df["cost_e8"].to_numpy(), len(uniq))
    else:
        spark, partial_last = np.zeros((len(uniq), 0)), False
    meta = {
        r.id: (r.name, r.avatar_url)
        for r in conn.execute(
            sa.select(agents_table.c.id, agents_table.c.name, agents_table.c.avatar_url).where(
                agents_table.c.org_id == f.org_id
            )
        )
    }
    p95 = {}
    if detail and latency:
        pct = percentiles(latency_sketch(conn, f, ("agent_id",)), ("agent_id",), (95,))
        p95 = {("\x00none" if a is None else a): float(v) for a, v in zip(pct["agent_id"], pct["p95_latency_ms"])}
    rows = []
    for i, key in enumerate(uniq):
        agent_id = None if key == "\x00none" else key
        name, avatar = meta.get(agent_id, (agent_id, None))
        rows.append(
            {
                "agent_id": agent_id,
                "name": name,
                "avatar_url": avatar,
                "cost_e8": int(cost[i]),
                "cost_usd": int(cost[i]) / 1e8,
                "tokens": int(tokens[i]),
                "executions": int(execs[i]),
                "sparkline": [float(v) / 1e8 for v in spark[i].tolist()],
                "sparkline_partial_last": partial_last,
                "p95_latency_ms": p95.get(str(key), float("nan")),
            }
        )
    out = pd.DataFrame(rows).sort_values(
        ["cost_e8", "executions", "name"], ascending=[False, False, True], kind="stable", na_position="last"
    )
    out = out[cols].reset_index(drop=True)
    # pandas 3 infers a string column with NaN for missing values: hand None (JSON null) out.
    for c in ("agent_id", "name", "avatar_url"):
        out[c] = out[c].astype("object").where(out[c].notna(), None)
    return out


def names_of(conn: sa.Connection, org_id: str, agent_ids: Iterable[str]) -> dict[str, str]:
    """The names of these agents of the org (an id without an agents row, or with no name: left out)."""
    wanted = sorted({str(a) for a in agent_ids})
    if not wanted:
        return {}
    t = agents_table
    rows = conn.execute(sa.select(t.c.id, t.c.name).where(t.c.org_id == org_id, t.c.id.in_(wanted)))
    return {str(r.id): str(r.name) for r in rows if r.name is not None}
