"""The measures every aggregate sums, and their SQL over raw rows (shared by reads and refreshes).

Quarter-hours (`qh` = epoch seconds // 900) key every aggregate in time; costs are summed
as integers of 1e-8 USD (`cost_e8`), exact on SQLite and PostgreSQL, so sums of sums
(the rollup tables) stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from storage.schema import COST_SCALE

QH = 900
MEASURES = [
    "cost_e8",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "executions",
    "latency_sum",
    "latency_count",
]
# Rows whose cost_usd is NULL (the provider reported no price): their count and token
# sums, so the cost they would have had can be estimated from prices. Only the model
# family keeps them (prices are per model); reads ask for them with `unpriced=True`.
UNPRICED = [
    "unpriced_executions",
    "unpriced_input_tokens",
    "unpriced_output_tokens",
    "unpriced_cache_read_tokens",
    "unpriced_cache_write_tokens",
]
# A read-only measure: input + output + cache read tokens per row, summed once (the page's
# «Tokens»). A read that shows only this total asks for it instead of its three parts: one
# aggregate instead of three over every row it groups (a window's users: ~200k rollup rows).
TOKENS = "tokens"
TOKEN_PARTS = ("input_tokens", "output_tokens", "cache_read_tokens")
TOKEN_COLUMNS = (*TOKEN_PARTS, "cache_write_tokens")
# What one row can count (docs/figures.md, «Values out of range»). The platform writes the
# table, so a row may hold any BIGINT and any NUMERIC(18,8): a negative token count, 2^62
# tokens, a cost of 9,999,999,999 USD. Summed as they are, a handful of such rows overflowed
# every BIGINT sum (PostgreSQL and SQLite raised: every route 500 or 503, the refresh
# stalled for every org) or wrapped in numpy (a cost of minus 64 billion). Each row's value
# is saturated into these bounds where raw rows are read (the refresh and every live read),
# so no sum of sums can leave BIGINT below ~1.4 billion rows per answer (tokens) or 92
# billion USD (cost), and the hit rate stays in [0, 1]. Tokens: the importer's own limit,
# far above any context window; cost: no single call costs a million dollars.
MAX_TOKENS = 2**31 - 1
MAX_COST_USD = 1_000_000


def rollup_measure_sql(m: str, alias: str = "x") -> str:
    """A measure of one rollup row (`alias`), as SQL: its column, or for TOKENS its parts added."""
    if m == TOKENS:
        return "(" + " + ".join(f"{alias}.{c}" for c in TOKEN_PARTS) + ")"
    return f"{alias}.{m}"


def qh_sql(dialect: str) -> str:
    """SQL of a row's quarter-hour since the epoch, floored (a row before 1970 included),
    exact at the microsecond (tests/test_quarter_hours.py)."""
    if dialect == "sqlite":
        # strftime rounds fractional seconds to the millisecond ("04:59:59.999999" reads
        # as 05:00:00), which moved rows less than 0.5 ms before a boundary into the next
        # quarter-hour (next hour, day, month): cut the UTC text to whole seconds first.
        # SQLite's integer division truncates towards zero: before 1970 the floor is
        # (seconds − 899) / 900 (one strftime a row either way: a CASE evaluates one branch).
        # (substr: text against text; the column's NUMERIC affinity would read '1970' as a
        # number, and any text is greater than a number.)
        secs = "CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER)"
        return f"(CASE WHEN substr(created_at, 1, 4) >= '1970' THEN {secs} / 900 ELSE ({secs} - 899) / 900 END)"
    return PG_QH_FAST


# PostgreSQL's quarter-hour of a row, for the refresh and for every live read. NUMERIC's
# extract(epoch) is slow: ~150–180 ns a row, against ~7 ns for date_part's double precision
# (4.8M rows: 1.4 s against 0.67 s for the whole scan, 5 Dec 2026). A double holds a
# microsecond epoch exactly enough while |epoch| < 2^32 s: 900·k − 1 µs stays below 900·k
# after both roundings (every boundary of 1902–2100 and 1 µs either side, 20.8M timestamps,
# checked once; tests/test_quarter_hours.py checks a sample). Outside (a hostile row from the
# year 3000) whole seconds first, as NUMERIC: exact over PostgreSQL's range (extract's epoch
# divided by 900 is not: NUMERIC's division rounds 253402299899.999999 / 900 up to a whole
# quarter-hour). NULL for '±infinity' (a CASE: evaluated only for finite rows, whatever
# order the planner gives the filters; such a row's epoch cannot be a BIGINT).
PG_QH_FAST_FROM, PG_QH_FAST_TO = "1902-01-01 00:00:00+00", "2100-01-01 00:00:00+00"
PG_QH_FAST = (
    f"(CASE WHEN created_at >= TIMESTAMPTZ '{PG_QH_FAST_FROM}' AND created_at < TIMESTAMPTZ '{PG_QH_FAST_TO}'"
    " THEN CAST(floor(date_part('epoch', created_at) / 900) AS BIGINT)"
    " WHEN isfinite(created_at) THEN CAST(floor(floor(extract(epoch from created_at)) / 900) AS BIGINT) END)"
)


def token_sql(dialect: str, column: str) -> str:
    """One raw row's token count saturated into [0, MAX_TOKENS] (columns are NOT NULL)."""
    if dialect == "sqlite":  # min() and max() of two or more arguments are scalar
        return f"MIN(MAX({column}, 0), {MAX_TOKENS})"
    return f"LEAST(GREATEST({column}, 0), {MAX_TOKENS})"


def unpriced_test(dialect: str, column: str = "cost_usd") -> str:
    """SQL true when a raw row reported no cost: NULL, or on PostgreSQL NUMERIC's 'NaN'
    (SQLite stores a NaN as NULL already; PostgreSQL sorts NaN above every number)."""
    if dialect == "sqlite":
        return f"{column} IS NULL"
    return f"({column} IS NULL OR {column} = 'NaN')"


def cost_sql(dialect: str, column: str = "cost_usd") -> str:
    """One raw row's cost saturated into [-MAX_COST_USD, MAX_COST_USD], no cost (NULL, NaN)
    as NULL. A CASE: PostgreSQL's GREATEST and LEAST skip NULLs (an unpriced row would
    count a bound) and rank NaN above every number."""
    c = MAX_COST_USD
    # NaN sorts above every number: it is told from a large cost only past the first test,
    # so an ordinary row costs two comparisons (a raw scan of 3.4M rows: ~+100 ms for three).
    high = f"CASE WHEN {column} = 'NaN' THEN NULL ELSE {c} END" if dialect != "sqlite" else str(c)
    return f"CASE WHEN {column} > {c} THEN {high} WHEN {column} < -{c} THEN -{c} ELSE {column} END"


def cost_e8_sql(dialect: str, column: str = "cost_usd", saturated: bool = False) -> str:
    """SUM of a NUMERIC cost as an exact integer of 1e-8 USD (NULL counts as 0), each row
    saturated (saturated: the column already is, as `saturated_row_sql` gives it)."""
    cost = column if saturated else cost_sql(dialect, column)
    if dialect == "sqlite":  # REAL storage: round each row to its 8 stored decimals
        return f"COALESCE(SUM(CAST(ROUND(({cost}) * {COST_SCALE}) AS INTEGER)), 0)"
    return f"CAST(COALESCE(SUM({cost}), 0) * {COST_SCALE} AS BIGINT)"


def saturated_row_sql(dialect: str) -> str:
    """A raw row's token and cost columns saturated, as select items of the same names (no
    cost: NULL): a statement that sums many measures per row computes them once here, in
    a subquery the planner keeps (OFFSET 0), and sums with saturated=True."""
    items = [f"{token_sql(dialect, c)} AS {c}" for c in TOKEN_COLUMNS]
    return ", ".join([*items, f"{cost_sql(dialect)} AS cost_usd"])


def unpriced_sql(dialect: str, saturated: bool = False) -> list[str]:
    """UNPRICED summed over raw rows as BIGINT select items, tokens saturated."""
    test = "cost_usd IS NULL" if saturated else unpriced_test(dialect)
    null = f"CASE WHEN {test} THEN {{}} ELSE 0 END"
    values = ["1", *(c if saturated else token_sql(dialect, c) for c in TOKEN_COLUMNS)]
    return [f"CAST(COALESCE(SUM({null.format(v)}), 0) AS BIGINT) AS {m}" for m, v in zip(UNPRICED, values)]


# The raw columns raw_measures_sql reads (a part that feeds it passes on these).
RAW_MEASURE_COLUMNS = (*TOKEN_COLUMNS, "cost_usd", "latency_ms")


def raw_measures_sql(
    dialect: str, unpriced: bool = False, names: Sequence[str] | None = None, saturated: bool = False
) -> str:
    """Every measure summed over raw rows as BIGINT, as SQL select items named like MEASURES
    (then UNPRICED with unpriced); names: only these of MEASURES (in MEASURES' order).
    saturated: the rows' token and cost columns are already saturated (saturated_row_sql)."""
    big = "BIGINT"

    def tok(c: str) -> str:
        return c if saturated else token_sql(dialect, c)

    items = {
        "cost_e8": f"{cost_e8_sql(dialect, saturated=saturated)} AS cost_e8",
        **{c: f"CAST(COALESCE(SUM({tok(c)}), 0) AS {big}) AS {c}" for c in TOKEN_COLUMNS},
        "executions": f"CAST(COUNT(*) AS {big}) AS executions",
        TOKENS: f"CAST(COALESCE(SUM({' + '.join(tok(c) for c in TOKEN_PARTS)}), 0) AS {big}) AS {TOKENS}",
        "latency_sum": f"CAST(COALESCE(SUM(latency_ms), 0) AS {big}) AS latency_sum",
        "latency_count": f"CAST(COUNT(latency_ms) AS {big}) AS latency_count",
    }
    extra = unpriced_sql(dialect, saturated) if unpriced else []
    return ", ".join([*(items[m] for m in measure_names(names)), *extra])


def measure_names(names: Sequence[str] | None = None) -> list[str]:
    """The measures a read sums: all MEASURES, or those of names (in MEASURES' order, then
    TOKENS), always with executions (a read that counts keys back out tells an empty key by it)."""
    if names is None:
        return list(MEASURES)
    unknown = set(names) - {*MEASURES, TOKENS}
    if unknown:
        raise ValueError(f"unknown measures {sorted(unknown)}: expected some of {[*MEASURES, TOKENS]}")
    return [m for m in MEASURES if m in names or m == "executions"] + ([TOKENS] if TOKENS in names else [])


def segment_thresholds(boundaries: Any, start_epoch: float, end_epoch: float) -> list[int]:
    """The quarter-hour keys where a raw read's segments start: the window's first
    quarter-hour, then every boundary (sorted epoch seconds, quarter-hour aligned) inside
    the window, in quarter-hours. A row's segment is the last threshold at or below its
    own quarter-hour: every row of a segment lies in one of the caller's buckets."""
    first = int(start_epoch // QH)
    cuts = np.asarray(boundaries, dtype="int64") // QH
    inside = cuts[(cuts > first) & (cuts * QH < end_epoch)]
    return [first, *np.unique(inside).tolist()]


def segment_key_sql(dialect: str, boundaries: Any, start_epoch: float, end_epoch: float, qh: str) -> str | None:
    """SQL for a row's segment key, given `qh` (SQL of its quarter-hour): the first
    quarter-hour of its segment (segment_thresholds, written into the SQL: integers of
    ours). None without boundaries, or on SQLite (no arrays: rows keep their quarter-hour)."""
    if dialect != "postgresql" or boundaries is None:
        return None
    thresholds = segment_thresholds(boundaries, start_epoch, end_epoch)
    arr = "'{" + ",".join(str(int(t)) for t in thresholds) + "}'::BIGINT[]"
    # width_bucket(x, thresholds): the 1-based position of the last threshold <= x (a
    # binary search); every row of the window is at or past the first threshold.
    return f"({arr})[width_bucket({qh}, {arr})]"
