"""The rollup reader's SQL for a family's own rows listed one by one: the 1-day blocks read for a
segment (whole days minus their rest) and the spans counted negative (coarse blocks' overhang),
one index lookup or range per listed row (queries/rollup_sql.py puts them into its statement).
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.measures import rollup_measure_sql
from storage.rollup_tables import DAY

from .rollup_plan import Block
from .rollup_signed import Span

# More 1-day blocks than this, sliced by the family's key (users) and dense in their span: one
# index range per key value on PostgreSQL instead of a lookup per day and value (blocks_sql).
FEW_BLOCKS = 8


def int_rows(rows: Sequence[Sequence[int]], cast_first: bool) -> str:
    """Integer rows as the body of a VALUES list; cast_first: the first row's values CAST to
    BIGINT, which types the columns on PostgreSQL."""
    out = ["({})".format(", ".join(str(int(v)) for v in r)) for r in rows]
    if cast_first:
        out[0] = "({})".format(", ".join(f"CAST({int(v)} AS BIGINT)" for v in rows[0]))
    return ", ".join(out)


def blocks_sql(
    dialect: str, table: str, blocks: Sequence[Block], by_qh: bool, dsel: str, msel: str, src_x: str, keyed: bool
) -> str:
    """The family's 1-day rows of these UTC days (VALUES (day, key): one index lookup each),
    every row keyed `key` (the segment the day is read for). keyed: the slice names values of
    the family's key column (users); on PostgreSQL a lookup per day is then a descent per day
    and value, so days dense in their span are read as one range per value and joined to
    them (docs/rollups.md, «The users' days as one range»)."""
    key = "b.column2 AS k, " if by_qh else ""
    lo, hi = min(d for d, _k in blocks), max(d for d, _k in blocks)
    if dialect == "postgresql" and keyed and len(blocks) > FEW_BLOCKS and 2 * len(blocks) * DAY > hi - lo:
        span = f"x.org_id = :org AND x.grain = {DAY} AND x.t >= {int(lo)} AND x.t <= {int(hi)}{src_x}"
        rows = int_rows(blocks, cast_first=True)
        return f"SELECT {key}{dsel}{msel} FROM (SELECT * FROM {table} x WHERE {span} OFFSET 0) x JOIN (VALUES {rows}) b ON x.t = b.column1"
    where = f"x.org_id = :org AND x.grain = {DAY} AND x.t = b.column1{src_x}"
    return _rollup_rows_sql(dialect, table, blocks, "b", f"{key}{dsel}{msel}", where)


def minus_sql(dialect: str, table: str, minus: Sequence[Span], dsel: str, measures: Sequence[str], src_x: str) -> str:
    """The family's rows of these spans (VALUES (grain, lo, hi): one index range each), every
    measure negated: what a coarse block read for a totals question holds past the window."""
    neg = ", ".join(f"-{rollup_measure_sql(m)} AS {m}" for m in measures)
    where = f"x.org_id = :org AND x.grain = n.column1 AND x.t >= n.column2 AND x.t < n.column3{src_x}"
    return _rollup_rows_sql(dialect, table, minus, "n", f"{dsel}{neg}", where)


def _rollup_rows_sql(
    dialect: str, table: str, values: Sequence[Sequence[int]], alias: str, select: str, where: str
) -> str:
    """`select` of the family's rows `x` matching `where` for each row of an integer VALUES
    list named `alias` (its columns alias.column1…): one index lookup or range per row."""
    rows = int_rows(values, cast_first=dialect == "postgresql")
    if dialect == "sqlite":  # CROSS JOIN keeps the list outside: one primary-key lookup per row
        return f"SELECT {select} FROM (VALUES {rows}) {alias} CROSS JOIN {table} x WHERE {where}"
    return (
        f"SELECT x.* FROM (VALUES {rows}) {alias} CROSS JOIN LATERAL"
        f" (SELECT {select} FROM {table} x WHERE {where} OFFSET 0) x"
    )
