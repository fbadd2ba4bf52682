"""What the page's filter row offers: every agent, user, provider, model and action type of the
window (its org, period and source, no slice), each with its cost, by cost descending.

The users (tens of thousands in an org) come apart, from `user_options`: the page lists the
first of them and its search reads all of them, both from one cached answer."""

from __future__ import annotations

import dataclasses

import pandas as pd
import sqlalchemy as sa

from storage.schema import agents as agents_table

from .base import facts
from .filters import Filters
from .users import ranked_users

# Option lists: (log column(s), frame columns). agent/user None = rows without one.
KINDS = {
    "agentId": ("agent_id",),
    "userId": ("user_id",),
    "provider": ("provider",),
    "model": ("model",),
    "actionType": ("action_type",),
}


def unsliced(f: Filters) -> Filters:
    """f without its slice: the options of a filter are never narrowed by the filters chosen."""
    return dataclasses.replace(f, agent_ids=(), user_ids=(), providers=(), models=(), action_types=())


def slice_options(conn: sa.Connection, f: Filters) -> dict[str, pd.DataFrame]:
    """Per filter but the user (API name): a frame (value, cost_e8, executions, name) by cost
    descending; value None for rows without an agent; name: the agent's name (else the value)."""
    g = unsliced(f)
    names = {
        r.id: r.name
        for r in conn.execute(
            sa.select(agents_table.c.id, agents_table.c.name).where(agents_table.c.org_id == f.org_id)
        )
    }
    return {api: _ranked(conn, g, api, names) for api in KINDS if api != "userId"}


def user_options(conn: sa.Connection, f: Filters) -> pd.DataFrame:
    """Every user of f's window (org, period, source; no slice), as slice_options lists the
    other filters (value None for rows without a user), in the users' ranking's order (ties
    by id): the totals and the order the Usuarios section reads too, one row per user."""
    ranked = ranked_users(conn, unsliced(f))
    ids = ranked["user_id"].astype("object")
    values = ids.where(ids.notna(), None).reset_index(drop=True)  # None, never NaN, for no user
    return pd.DataFrame(
        {
            "value": values,
            "cost_e8": ranked["cost_e8"].to_numpy(dtype="int64"),
            "executions": ranked["executions"].to_numpy(dtype="int64"),
            "name": values,
        },
        columns=["value", "cost_e8", "executions", "name"],
    )


def _ranked(conn: sa.Connection, g: Filters, api: str, names: dict[str, str]) -> pd.DataFrame:
    (col,) = KINDS[api]
    df = facts(conn, g, dims=(col,), measures=("cost_e8",))  # and executions: all an option shows
    df = df.groupby(col, dropna=False, sort=False)[["cost_e8", "executions"]].sum().reset_index()
    df = df.rename(columns={col: "value"})
    df["value"] = df["value"].astype("object").where(df["value"].notna(), None)
    df["name"] = [names.get(v, v) if api == "agentId" else v for v in df["value"]]
    df = df.sort_values(["cost_e8", "executions"], ascending=False, kind="stable").reset_index(drop=True)
    return df[["value", "cost_e8", "executions", "name"]]
