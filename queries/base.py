"""The one place with SQL for raw rows: aggregate facts by UTC quarter-hour, then bucket keys.

Every figure is built from `facts()`: sums of the measures grouped by a few dimensions
and, when time matters, by UTC quarter-hour (`qh` = epoch seconds // 900). Every IANA
zone in use today is offset from UTC by a multiple of 15 minutes, so a quarter-hour
lies wholly inside one local hour, day, week and month: converting the *keys* of the
aggregate to local time gives buckets that are exact on 23- and 25-hour days and in
+5:30 / +5:45 zones, without converting rows in SQL.

Costs are summed as integers of 1e-8 USD (`cost_e8`), exact on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.engine import ts_param
from storage.long_rows import long_sql, short_sql
from storage.measures import RAW_MEASURE_COLUMNS, UNPRICED, measure_names, qh_sql, raw_measures_sql, segment_key_sql
from storage.schema import COST_SCALE, token_usage_logs
from storage.sources import source_match_sql

from .filters import Filters
from .slicing import slice_clauses


def created_between(dialect: str, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """created_at in [start, end): compared as UTC text on SQLite, natively elsewhere."""
    col: sa.ColumnElement[Any] = token_usage_logs.c.created_at
    if dialect == "sqlite":
        col = sa.type_coerce(col, sa.String)
    return sa.and_(col >= ts_param(dialect, start), col < ts_param(dialect, end))


def raw_facts(
    conn: sa.Connection,
    f: Filters,
    dims: Sequence[str] = (),
    by_qh: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    boundaries: Any = None,
    period: int | None = None,
    unpriced: bool = False,
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Aggregate raw rows of f's org, source and slice in [start, end) by (qh?, *dims); with
    boundaries, PostgreSQL keys a segment between two by its first quarter-hour (fewer groups);
    measures: only these (storage.measures.measure_names), else every one."""
    dialect, t = conn.dialect.name, token_usage_logs
    start, end = start or f.start_utc, end or f.read_end_utc
    conds: list[Any] = [t.c.org_id == f.org_id, created_between(dialect, start, end)]
    if f.source != "all":  # 'BYOK', ' system ' count as theirs; anything else is 'other'
        conds.append(sa.literal_column(source_match_sql(dialect, f.source)))
    conds += slice_clauses(f)  # the slice (none: no clause)
    rows: Any = t
    if dialect == "postgresql" and f.slice_dims & {"user_id", "agent_id"}:
        # PostgreSQL's user and agent indexes hold short rows only (storage.long_rows, migration
        # 0013; SQLite's hold every row): the short rows through them, the long ones through
        # their own index, in one statement (PostgreSQL flattens the UNION ALL: still an
        # index-only scan of the user's entries). Each part passes on only the columns read
        # above it (fewer to carry through the Append).
        used = [c for c in t.c if c.name in (*dims, *RAW_MEASURE_COLUMNS, "created_at")]
        short, long_ = (sa.select(*used).where(*conds, sa.text(p(dialect))) for p in (short_sql, long_sql))
        rows, conds = sa.union_all(short, long_).subquery("r"), []
    keys: list[Any] = []
    if by_qh:  # with boundaries: one key per segment between them (PostgreSQL)
        qh = qh_sql(dialect)
        key = segment_key_sql(dialect, boundaries, start.timestamp(), end.timestamp(), qh) or qh
        keys.append(sa.literal_column(key).label("qh"))
    keys += [rows.c[d] for d in dims]
    # Every measure as BIGINT in SQL (PostgreSQL's SUM of a BIGINT is NUMERIC: a Decimal per cell).
    measures_sql: Any = sa.literal_column(raw_measures_sql(dialect, unpriced, measures))
    stmt = sa.select(*keys, measures_sql).select_from(rows).where(*conds)
    if keys:
        stmt = stmt.group_by(*[k if isinstance(k, sa.Column) else sa.literal_column("qh") for k in keys])
    cols = (["qh"] if by_qh else []) + list(dims) + measure_names(measures) + (UNPRICED if unpriced else [])
    if rows is t:
        return frame(tuples(conn.execute(stmt)), cols, dims)  # text columns and BIGINTs: no processors to skip
    # Grouped over the UNION ALL, the planner sees no column statistics through it: it guessed
    # ~40k groups where a busy user's 375k rows make 8 (by provider and model) or 76 (by
    # segment and action), sorted the rows, spilling to disk, and grouped them in order. A hash
    # of the few groups, as it picks with the statistics in view: the busiest user's reads
    # 211 -> 130 ms (models), 236 -> 143 (summary), 262 -> 172 (cache), 218 -> 149 (agents),
    # each statement alone (EXPLAIN ANALYZE, 5 Dec 2026). For this statement only: the
    # setting is put back after it (an error aborts the transaction, which undoes it too).
    was = conn.exec_driver_sql("SELECT current_setting('enable_sort'), set_config('enable_sort', 'off', true)").scalar()
    rows_read = tuples(conn.execute(stmt))
    conn.exec_driver_sql("SELECT set_config('enable_sort', %(v)s, true)", {"v": was})
    return frame(rows_read, cols, dims)


def tuples(result: sa.CursorResult[Any]) -> Sequence[Any]:
    """A statement's rows as the driver's plain tuples, fetched from its cursor: no Row object
    per row (text statements have no result processors to apply). A facts read of ~20k rows
    spent more building Rows than the frame built from them."""
    try:
        return result.cursor.fetchall() if result.returns_rows else []
    finally:
        result.close()


def frame(rows: Sequence[Any], cols: list[str], dims: Sequence[str] = ()) -> pd.DataFrame:
    """A facts frame: dims as object columns (None for NULL), the rest int64; columns of rows
    past cols left out. From one 2-D numpy array, a column per slice: transposing the driver's
    tuples in Python (zip(*rows)) took 9 of 13 ms for 18k rows, numpy's copy ~4 ms; pandas
    inferring a type per cell from the rows was 3x slower still."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c not in dims else "object") for c in cols})
    text = [i for i, c in enumerate(cols) if c in dims]
    if not text:  # integers only (a time key, the measures, a trailing version)
        try:
            ints = np.array(rows, dtype="int64")
        except (TypeError, ValueError):  # a NULL past cols (an unread column): cell by cell below
            pass
        else:
            return pd.DataFrame({c: ints[:, i] for i, c in enumerate(cols)}, columns=cols)
    cells = np.empty((len(rows), len(rows[0])), dtype=object)
    cells[:] = rows  # row by row: a text cell is never read as a sequence of characters
    data: dict[str, Any] = {}
    for i, c in enumerate(cols):
        data[c] = pd.Series(cells[:, i], dtype="object") if i in text else cells[:, i].astype("int64")
    return pd.DataFrame(data, columns=cols)


# Which path answers facts() is an execution option of the engine or connection it runs
# on, never a module global: create_app sets it from AI_USAGE_ROLLUPS on its own engine,
# so two apps in one process answer from their own path. Without it: the raw rows.
FACTS_OPTION = "ai_usage_facts"
BindT = TypeVar("BindT", sa.Engine, sa.Connection)
FACTS_PATHS = ("raw", "rollup")


def facts_path(bind: BindT, path: str) -> BindT:
    """bind (an Engine or a Connection) whose facts() read `path`: "raw" rows or the "rollup" tables."""
    if path not in FACTS_PATHS:
        raise ValueError(f"facts path {path!r}: expected one of {FACTS_PATHS}")
    return bind.execution_options(**{FACTS_OPTION: path})


def reads_rollups(conn: sa.Connection) -> bool:
    """conn's facts() read the rollup tables (its FACTS_OPTION; without one, the raw rows)."""
    return bool(conn.get_execution_options().get(FACTS_OPTION, "raw") == "rollup")


def facts(
    conn: sa.Connection,
    f: Filters,
    dims: Sequence[str] = (),
    by_qh: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    boundaries: Any = None,
    period: int | None = None,
    unpriced: bool = False,
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sums of every measure for f (org, source, window or [start, end)) by (qh?, *dims).

    The path (raw rows or rollups) is the connection's FACTS_OPTION (see facts_path).
    boundaries (by_qh): sorted UTC epoch seconds where the caller's local buckets start;
    an implementation may then return one coarser key per stretch between boundaries
    (its first quarter-hour) instead of every quarter-hour. period (seconds): the
    caller's buckets repeat on the local clock with it (the heatmap's week), so such
    stretches a whole period apart at the same UTC offset may share one key. unpriced:
    also the UNPRICED measures (rows whose cost_usd is NULL). measures: only these of
    MEASURES (executions always; fewer sums for a read of many keys, such as every user's
    totals), else all. Reads stop at f.read_end_utc."""
    if reads_rollups(conn):
        from .rollup_read import rollup_facts  # the rollup reader builds on this module
        from .slice_rows import narrow_facts  # a narrow slice: its rows read once, summed in numpy

        s, e = start or f.start_utc, end or f.read_end_utc
        narrow = narrow_facts(conn, f, tuple(dims), by_qh, s, e, unpriced, measures)
        if narrow is not None:
            return narrow
        impl = rollup_facts
    else:
        impl = raw_facts
    return impl(
        conn,
        f,
        dims=tuple(dims),
        by_qh=by_qh,
        start=start,
        end=end,
        boundaries=boundaries,
        period=period,
        unpriced=unpriced,
        measures=measures,
    )


# What with_derived's cost and tokens are made of, with the executions: for a read that needs
# only those, five sums per key instead of eight (facts' measures).
# What with_derived needs: tokens summed as one measure (storage.measures.TOKENS), not its
# three parts (three aggregates per grouped row instead of one; 65k quarter-hours for a
# heatmap in Kathmandu, ~200k user rows for a window's users).
DERIVED_FROM = ("cost_e8", "tokens", "executions")


def with_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Add cost_usd (float) and, unless read as one measure, tokens (input + output + cache read)."""
    df = df.copy()
    df["cost_usd"] = df["cost_e8"] / COST_SCALE
    if "tokens" not in df.columns:
        df["tokens"] = df["input_tokens"] + df["output_tokens"] + df["cache_read_tokens"]
    return df
