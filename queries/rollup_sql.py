"""The rollup reader's SQL (one statement per facts() question): the rollup ranges, the live
tail, the unaligned edges and, for a family without quarter-hours, its raw pieces, the whole
days read for a segment and their raw rest counted negative (queries/rollup_plan.py plans
them; queries/rollup_read.py runs the statement and checks its snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np

from storage.engine import ts_param
from storage.long_rows import long_sql, long_table, short_sql
from storage.measures import MEASURES, UNPRICED, measure_names, qh_sql, raw_measures_sql, rollup_measure_sql
from storage.rollup_tables import BY_NAME
from storage.sources import source_match_sql

from .filters import Filters
from .rollup_plan import Block, Negative, full_range
from .rollup_rows import blocks_sql, int_rows, minus_sql
from .rollup_signed import Span
from .slicing import slice_sql

_RANGE_COLS = ("g", "lo", "hi", "ph", "p", "w", "d", "f", "s")
# Up to this many ranges stay VALUES rows on PostgreSQL too: cheap to parse, and a single
# row is folded into the plan as constants (the heatmap's one folded range: a plain scan).
FEW_RANGES = 16


@lru_cache(maxsize=512)
def _values(ranges: tuple[tuple[int, ...], ...]) -> str:
    """The plan as SQL VALUES rows (g, lo, hi, ph, p, w, d, f, s: rollup_plan.full_range). The
    first row's CASTs type the columns BIGINT on PostgreSQL."""
    return int_rows(_full(ranges), cast_first=True)


def _full(ranges: tuple[tuple[int, ...], ...]) -> list[tuple[int, ...]]:
    """Each range with all nine values (rollup_plan.full_range); its callers make them integers."""
    return [full_range(r) for r in ranges]


@lru_cache(maxsize=64)  # up to ~70 KB each (a year of Kathmandu's days): a worker's memory
def _arrays(ranges: tuple[tuple[int, ...], ...]) -> tuple[str, ...]:
    """The plan as nine PostgreSQL array literals, one per column (g, lo, hi, ph, p, w, d, f, s): bound
    as text and unnested, a year of local days (~1,100 ranges) costs PostgreSQL ~5 ms where
    as many VALUES rows cost ~12 ms to parse and plan (docs/rollups.md, «Many read ranges as arrays»)."""
    rows = np.array(_full(ranges), dtype="int64").reshape(-1, len(_RANGE_COLS))
    return tuple("{" + ",".join(map(str, col)) + "}" for col in rows.T.tolist())


def build_query(
    dialect: str,
    family: str,
    dims: Sequence[str],
    by_qh: bool,
    ranges: Sequence[tuple[int, ...]],
    tail_ranges: Sequence[tuple[int, int | None]],
    window: tuple[datetime, datetime],
    edges: Sequence[tuple[datetime, datetime]],
    source: str,
    unpriced: bool = False,
    f: Filters | None = None,
    pieces: Sequence[tuple[int, int]] = (),
    blocks: Sequence[Block] = (),
    negatives: Sequence[Negative] = (),
    minus: Sequence[Span] = (),
    measures: Sequence[str] = tuple(MEASURES),
    taking: bool = False,
) -> tuple[str, dict[str, Any]]:
    """One statement (one snapshot): rollup ranges + live tail + unaligned edges, summed.

    window: (a, b) aligned instants the rollups and tail cover; edges: [(a, b)] raw
    instants outside it (read whole); f: its slice narrows every part (the family's key
    holds the sliced columns); pieces: [(a, b)] epoch seconds inside the window that the
    family's grains do not cover (the user family's sub-day rest), read from the raw rows
    with id <= watermark outside the gaps (the tail reads the others); blocks and negatives:
    whole UTC days of the family's 1-day grain and the raw rest of those days counted
    negative, each keyed to its segment (rollup_plan.day_remainders); minus: spans (grain, lo,
    hi) of rollup rows counted negative (rollup_signed.signed_cover: coarse blocks that overhang
    a totals read, less their overhang; no time key); measures: the MEASURES summed, in their
    order (storage.measures.measure_names); taking: some range counts its blocks negative
    (rollup_plan.full_range's sign). Returns (sql text, params).
    """
    fam = BY_NAME[family]
    measures = measure_names(measures)  # MEASURES' order in every part: UNION ALL is positional
    measures_read = measures + (UNPRICED if unpriced else [])
    params: dict[str, Any] = {"org": None}
    # The rollups key the source's class (source_key_sql); raw rows are classified as read.
    src_x = " AND x.source = :src" if source != "all" else ""
    src_r = f" AND {source_match_sql(dialect, source)}" if source != "all" else ""
    if f is not None and f.slice_items:
        src_x += slice_sql(f, fam.read_sql, params, "sx", fam.key_sql)
        src_r += slice_sql(f, lambda c: c, params, "sr")
    qh = qh_sql(dialect)
    parts = []
    # What a rollup row gives: its dims (read through the family) and its measures.
    dsel = "".join(f"{fam.read_sql(d)} AS {d}, " for d in dims)
    msel = ", ".join(f"{rollup_measure_sql(m)} AS {m}" for m in measures_read)
    if ranges:
        # A range reads the blocks rollup_plan.blocks_of states: shifted by d, those that fit
        # f inside their segment of the lattice ph + k·p, keyed by its start, counted s times.
        key = "(r.ph + (((x.t + r.d - r.ph) % r.w) / r.p) * r.p) / 900 AS k, " if by_qh else ""
        rsel = msel
        if taking:
            rsel = ", ".join(f"r.s * {rollup_measure_sql(m)} AS {m}" for m in measures_read)
        where = (
            f"x.org_id = :org AND x.grain = r.g AND x.t >= r.lo AND x.t < r.hi"
            f" AND ((x.t + r.d - r.ph) % r.p) + r.f <= r.p{src_x}"
        )
        if dialect == "sqlite":  # CROSS JOIN keeps r outside: one primary-key range per row of r
            parts.append(f"SELECT {key}{dsel}{rsel} FROM r CROSS JOIN {fam.table} x WHERE {where}")
        else:
            # LATERAL … OFFSET 0 is evaluated per row of r (one index range scan each),
            # whatever the statistics say; a hash join on grain would test every row.
            parts.append(
                f"SELECT x.* FROM r CROSS JOIN LATERAL (SELECT {key}{dsel}{rsel} FROM {fam.table} x"
                f" WHERE {where} OFFSET 0) x"
            )
    # The tail: rows not in the rollups, read by id (the primary key; NOT INDEXED keeps
    # SQLite on the rowid range rather than the (org_id, created_at) index).
    table_ref = "token_usage_logs NOT INDEXED" if dialect == "sqlite" else "token_usage_logs"
    rkey = f"{qh} AS k, " if by_qh else ""
    rdims = "".join(f"{d}, " for d in dims)
    rgroup = _group(["k"] if by_qh else [], dims)
    raw_sums = raw_measures_sql(dialect, unpriced, measures)
    params["wa"], params["wb"] = ts_param(dialect, window[0]), ts_param(dialect, window[1])
    for i, (lo, hi) in enumerate(tail_ranges):
        cond = f"id >= :ilo{i}" + (f" AND id <= :ihi{i}" if hi is not None else "")
        params[f"ilo{i}"] = int(lo)
        if hi is not None:
            params[f"ihi{i}"] = int(hi)
        parts.append(
            f"SELECT {rkey}{rdims}{raw_sums} FROM {table_ref} WHERE {cond} AND org_id = :org"
            f" AND created_at >= :wa AND created_at < :wb{src_r}{rgroup}"
        )
    # Long rows (storage.long_rows): in no rollup, read live over the whole window from their
    # own index (empty on a sane table), but for the tail's (read above).
    parts.append(
        f"SELECT {rkey}{rdims}{raw_sums} FROM {long_table(dialect)} WHERE org_id = :org"
        f" AND created_at >= :wa AND created_at < :wb AND {long_sql(dialect)}{_not_tail(tail_ranges)}{src_r}{rgroup}"
    )
    for i, (a, b) in enumerate(edges):
        params[f"ea{i}"], params[f"eb{i}"] = ts_param(dialect, a), ts_param(dialect, b)
        parts.append(
            f"SELECT {rkey}{rdims}{raw_sums} FROM token_usage_logs WHERE org_id = :org"
            f" AND created_at >= :ea{i} AND created_at < :eb{i}{src_r}{rgroup}"
        )
    if pieces:
        parts.append(_pieces_sql(dialect, pieces, tail_ranges, rkey, rdims, raw_sums, src_r, rgroup))
    if blocks:
        keyed = f is not None and any(fam.key_sql(c) for c, _v in f.slice_items)
        parts.append(blocks_sql(dialect, fam.table, blocks, by_qh, dsel, msel, src_x, keyed))
    if negatives:
        parts.append(_negatives_sql(dialect, negatives, tail_ranges, by_qh, dims, raw_sums, measures_read, src_r))
    if minus:
        parts.append(minus_sql(dialect, fam.table, minus, dsel, measures_read, src_x))
    union = " UNION ALL ".join(parts)
    keys = (["k"] if by_qh else []) + list(dims)
    outer_m = ", ".join(f"CAST(COALESCE(SUM(u.{m}), 0) AS BIGINT) AS {m}" for m in measures_read)
    outer_k = "".join(f"u.{c}, " for c in keys)
    group = f" GROUP BY {', '.join('u.' + c for c in keys)}" if keys else ""
    cte = ""
    if dialect == "postgresql" and len(ranges) > FEW_RANGES:  # nine bound arrays, not rows of SQL
        arrays = ", ".join(f"CAST(:r_{c} AS BIGINT[])" for c in _RANGE_COLS)
        params.update({f"r_{c}": a for c, a in zip(_RANGE_COLS, _arrays(tuple(ranges)))})
        cte = f"WITH r({', '.join(_RANGE_COLS)}) AS (SELECT * FROM unnest({arrays})) "
    elif ranges:
        cte = f"WITH r({', '.join(_RANGE_COLS)}) AS (VALUES {_values(tuple(ranges))}) "
    # The state version seen by this very snapshot, on every row: the caller checks it
    # against the state it planned the tail with.
    ver = "(SELECT version FROM rollup_state WHERE id = 1) AS v"
    sql = f"{cte}SELECT {outer_k}{outer_m}, {ver} FROM ({union}) u{group}"
    if source != "all":
        params["src"] = source
    return sql, params


def _group(keys: list[str], dims: Sequence[str]) -> str:
    """A raw part's GROUP BY over its key column(s) and dims; empty without either."""
    cols = ", ".join([*keys, *dims])
    return f" GROUP BY {cols}" if cols else ""


def _pieces_sql(
    dialect: str,
    pieces: Sequence[tuple[int, ...]],
    tail_ranges: Sequence[tuple[int, int | None]],
    rkey: str,
    rdims: str,
    measures: str,
    src_r: str,
    rgroup: str,
) -> str:
    """Raw rows of the pieces (one VALUES list of instants joined to the raw table: one
    index range per piece), leaving out the ids the tail reads. A piece (a, b, key) also
    carries its key, as e.column3 (rkey may select it)."""
    # Instants and keys written in (integers of ours, never input): as ~1,500 bind parameters
    # SQLAlchemy parsed and keyed each on every statement (docs/rollups.md, «Raw pieces…»).
    rows = [
        f"({_instant(dialect, a)}, {_instant(dialect, b)}{''.join(f', {int(k)}' for k in key)})"
        for a, b, *key in pieces
    ]
    if dialect == "postgresql":
        (a0, b0, *k0) = pieces[0]
        key0 = "".join(f", CAST({int(k)} AS BIGINT)" for k in k0)
        rows[0] = f"(CAST({_instant(dialect, a0)} AS TIMESTAMPTZ), CAST({_instant(dialect, b0)} AS TIMESTAMPTZ){key0})"
    # Short rows only: the rollups hold no long row, and the long rows' own part reads them.
    # The predicate also lets PostgreSQL use the partial user and agent indexes (migration 0013).
    where = (
        f"org_id = :org AND created_at >= e.column1 AND created_at < e.column2"
        f" AND {short_sql(dialect)}{_not_tail(tail_ranges)}{src_r}"
    )
    if dialect == "sqlite":  # CROSS JOIN keeps e outside: an index range per piece
        return f"SELECT {rkey}{rdims}{measures} FROM (VALUES {', '.join(rows)}) e CROSS JOIN token_usage_logs WHERE {where}{rgroup}"
    # LATERAL … OFFSET 0: one index range scan per piece (measured: without it PostgreSQL
    # scans all of a busy user's rows and tests each against every piece, 3.6 s).
    return (
        f"SELECT {rkey}{rdims}{measures} FROM (VALUES {', '.join(rows)}) e CROSS JOIN LATERAL"
        f" (SELECT * FROM token_usage_logs WHERE {where} OFFSET 0) t{rgroup}"
    )


def _instant(dialect: str, epoch: int) -> str:
    """An instant (whole epoch seconds) as an SQL literal compared with created_at: UTC text on
    SQLite (as storage.engine.ts_param binds it), an ISO-8601 time with its +00:00 elsewhere."""
    dt = datetime.fromtimestamp(int(epoch), UTC)
    return f"'{ts_param(dialect, dt)}'" if dialect == "sqlite" else f"'{dt.isoformat()}'"


def _not_tail(tail_ranges: Sequence[tuple[int, int | None]]) -> str:
    """' AND NOT (id in tail range i)' for every tail range (bound as :ilo{i} / :ihi{i})."""
    return "".join(
        f" AND NOT (id >= :ilo{i}" + (f" AND id <= :ihi{i})" if hi is not None else ")")
        for i, (_lo, hi) in enumerate(tail_ranges)
    )


def _negatives_sql(
    dialect: str,
    negatives: Sequence[Negative],
    tail_ranges: Sequence[tuple[int, int | None]],
    by_qh: bool,
    dims: Sequence[str],
    measures: str,
    measures_read: Sequence[str],
    src_r: str,
) -> str:
    """The raw rest of the days read whole, counted negative and keyed to the day's segment.
    A twin's rows (rollup_plan.day_remainders) are also counted positive, keyed by their own
    quarter-hour, as the piece it stands for: those rows are read once and come out twice."""
    ndims, rdims = "".join(f"n.{d}, " for d in dims), "".join(f"{d}, " for d in dims)
    if not any(n[3] for n in negatives):
        spans = [(a, b, k) for a, b, k, _t in negatives]
        rkey, keys = ("e.column3 AS k, ", ["e.column3"]) if by_qh else ("", [])
        pos = _pieces_sql(dialect, spans, tail_ranges, rkey, rdims, measures, src_r, _group(keys, dims))
        neg = ", ".join(f"-n.{m} AS {m}" for m in measures_read)
        return f"SELECT {'n.k, ' if by_qh else ''}{ndims}{neg} FROM ({pos}) n"
    rkey = f"e.column3 AS k, e.column4 AS tw, {qh_sql(dialect)} AS q, "
    pos = _pieces_sql(dialect, negatives, tail_ranges, rkey, rdims, measures, src_r, _group(["k", "tw", "q"], dims))
    key = "CASE WHEN s.s = 1 THEN n.q ELSE n.k END AS k, " if by_qh else ""
    signed = ", ".join(f"s.s * n.{m} AS {m}" for m in measures_read)
    return (
        f"SELECT {key}{ndims}{signed} FROM ({pos}) n"
        " CROSS JOIN (SELECT 1 AS s UNION ALL SELECT -1 AS s) s WHERE s.s = -1 OR n.tw = 1"
    )
