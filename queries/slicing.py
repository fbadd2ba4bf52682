"""The slice (contract §3.1) as SQL: one WHERE fragment per filter, for raw rows and rollup rows alike.

OR within a filter, AND across filters; `none` in agent_id / user_id matches NULL.
Values travel as bound parameters (hostile names never reach the SQL text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from storage.schema import token_usage_logs

from .filters import NONE, NULLABLE, Filters


def slice_sql(
    f: Filters,
    expr: Callable[[str], str],
    params: dict[str, Any],
    tag: str = "sl",
    key: Callable[[str], str | None] | None = None,
) -> str:
    """' AND (...)' for every filter of f (or ''), binding values into params as :{tag}{i}_{j}.

    expr(column) is the SQL expression holding that log column's value (NULL for none).
    key(column), when given and not None: the stored key column of a nullable column kept
    as ('', null flag) in a rollup; the filter then also says `key IN (values, '')`, a
    looser condition an index on that column can serve (the exact one follows it)."""
    parts = []
    for i, (col, values) in enumerate(f.slice_items):
        e = expr(col)
        named = [v for v in values if not (col in NULLABLE and v == NONE)]
        k = key(col) if key is not None else None
        if k is not None:
            loose = [f":{tag}{i}_{j}" for j in range(len(named))] + (["''"] if len(named) < len(values) else [])
            parts.append(f"{k} IN ({', '.join(loose)})")
        ors = []
        if named:
            binds = []
            for j, v in enumerate(named):
                params[f"{tag}{i}_{j}"] = v
                binds.append(f":{tag}{i}_{j}")
            ors.append(f"{e} IN ({', '.join(binds)})")
        if len(named) < len(values):
            ors.append(f"{e} IS NULL")
        parts.append("(" + " OR ".join(ors) + ")")
    return "".join(f" AND {p}" for p in parts)


def slice_clauses(f: Filters) -> list[sa.ColumnElement[bool]]:
    """The same filters as SQLAlchemy clauses over token_usage_logs."""
    out: list[sa.ColumnElement[bool]] = []
    for col, values in f.slice_items:
        c = token_usage_logs.c[col]
        named = [v for v in values if not (col in NULLABLE and v == NONE)]
        ors: list[sa.ColumnElement[bool]] = []
        if named:
            ors.append(c.in_(named))
        if len(named) < len(values):
            ors.append(c.is_(None))
        out.append(sa.or_(*ors))
    return out
