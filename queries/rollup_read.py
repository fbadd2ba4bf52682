"""Rollup reads: facts() from the rollup tables plus the live tail, equal to raw_facts bucket for bucket.

An answer is the rollups (rows with id <= watermark, minus the gap ranges) plus the
live tail (id > watermark, or inside a gap range) read from token_usage_logs with the
same aggregation, so a committed row counts at once and sums stay exact integers. The
blocks read come from rollup_plan; the tables and the state row from storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.engine import ts_param
from storage.measures import MEASURES, QH, UNPRICED, qh_sql, raw_measures_sql
from storage.rollup_tables import BY_NAME, GRAINS, State, available, family_for, read_state, read_version
from storage.sources import source_match_sql

from .base import frame, raw_facts
from .filters import Filters
from .rollup_plan import NO_FOLD, cuts_from_boundaries, fold_ranges, offset_stretches, plan_ranges
from .slicing import slice_sql


@lru_cache(maxsize=512)
def _values(ranges: tuple[tuple[int, ...], ...]) -> str:
    """The plan as SQL VALUES rows (g, lo, hi, ph, p, w); w = NO_FOLD unless folded."""
    full = [tuple(r) + (NO_FOLD,) if len(r) == 5 else tuple(r) for r in ranges]
    rows = ["({}, {}, {}, {}, {}, {})".format(*[int(v) for v in r]) for r in full]
    rows[0] = "({})".format(", ".join(f"CAST({int(v)} AS BIGINT)" for v in full[0]))
    return ", ".join(rows)


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
) -> tuple[str, dict[str, Any]]:
    """One statement (one snapshot): rollup ranges + live tail + unaligned edges, summed.

    window: (a, b) aligned instants the rollups and tail cover; edges: [(a, b)] raw
    instants outside it (read whole); f: its slice narrows every part (the family's key
    holds the sliced columns); pieces: [(a, b)] epoch seconds inside the window that the
    family's grains do not cover (the user family's sub-day rest), read from the raw rows
    with id <= watermark outside the gaps (the tail reads the others). Returns (sql text, params).
    """
    fam = BY_NAME[family]
    measures_read = MEASURES + (UNPRICED if unpriced else [])
    params: dict[str, Any] = {"org": None}
    # The rollups key the source's class (source_key_sql); raw rows are classified as read.
    src_x = " AND x.source = :src" if source != "all" else ""
    src_r = f" AND {source_match_sql(dialect, source)}" if source != "all" else ""
    if f is not None and f.slice_items:
        src_x += slice_sql(f, fam.read_sql, params, "sx", fam.key_sql)
        src_r += slice_sql(f, lambda c: c, params, "sr")
    qh = qh_sql(dialect)
    parts = []
    if ranges:
        key = "(r.ph + (((x.t - r.ph) % r.w) / r.p) * r.p) / 900 AS k, " if by_qh else ""
        dsel = "".join(f"{fam.read_sql(d)} AS {d}, " for d in dims)
        msel = ", ".join(f"x.{m}" for m in measures_read)
        where = (
            f"x.org_id = :org AND x.grain = r.g AND x.t >= r.lo AND x.t < r.hi"
            f" AND ((x.t - r.ph) % r.p) + r.g <= r.p{src_x}"
        )
        if dialect == "sqlite":  # CROSS JOIN keeps r outside: one primary-key range per row of r
            parts.append(f"SELECT {key}{dsel}{msel} FROM r CROSS JOIN {fam.table} x WHERE {where}")
        else:
            # LATERAL … OFFSET 0 is evaluated per row of r (one index range scan each),
            # whatever the statistics say; a hash join on grain would test every row.
            parts.append(
                f"SELECT x.* FROM r CROSS JOIN LATERAL (SELECT {key}{dsel}{msel} FROM {fam.table} x"
                f" WHERE {where} OFFSET 0) x"
            )
    # The tail: rows not in the rollups, read by id (the primary key; NOT INDEXED keeps
    # SQLite on the rowid range rather than the (org_id, created_at) index).
    table_ref = "token_usage_logs NOT INDEXED" if dialect == "sqlite" else "token_usage_logs"
    rkey = f"{qh} AS k, " if by_qh else ""
    rdims = "".join(f"{d}, " for d in dims)
    rgroup = ", ".join((["k"] if by_qh else []) + list(dims))
    rgroup = f" GROUP BY {rgroup}" if rgroup else ""
    measures = raw_measures_sql(dialect, unpriced)
    params["wa"], params["wb"] = ts_param(dialect, window[0]), ts_param(dialect, window[1])
    for i, (lo, hi) in enumerate(tail_ranges):
        cond = f"id >= :ilo{i}" + (f" AND id <= :ihi{i}" if hi is not None else "")
        params[f"ilo{i}"] = int(lo)
        if hi is not None:
            params[f"ihi{i}"] = int(hi)
        parts.append(
            f"SELECT {rkey}{rdims}{measures} FROM {table_ref} WHERE {cond} AND org_id = :org"
            f" AND created_at >= :wa AND created_at < :wb{src_r}{rgroup}"
        )
    for i, (a, b) in enumerate(edges):
        params[f"ea{i}"], params[f"eb{i}"] = ts_param(dialect, a), ts_param(dialect, b)
        parts.append(
            f"SELECT {rkey}{rdims}{measures} FROM token_usage_logs WHERE org_id = :org"
            f" AND created_at >= :ea{i} AND created_at < :eb{i}{src_r}{rgroup}"
        )
    if pieces:
        parts.append(_pieces_sql(dialect, pieces, tail_ranges, params, rkey, rdims, measures, src_r, rgroup))
    union = " UNION ALL ".join(parts)
    keys = (["k"] if by_qh else []) + list(dims)
    outer_m = ", ".join(f"CAST(COALESCE(SUM(u.{m}), 0) AS BIGINT) AS {m}" for m in measures_read)
    outer_k = "".join(f"u.{c}, " for c in keys)
    group = f" GROUP BY {', '.join('u.' + c for c in keys)}" if keys else ""
    cte = f"WITH r(g, lo, hi, ph, p, w) AS (VALUES {_values(tuple(ranges))}) " if ranges else ""
    # The state version seen by this very snapshot, on every row: the caller checks it
    # against the state it planned the tail with.
    ver = "(SELECT version FROM rollup_state WHERE id = 1) AS v"
    sql = f"{cte}SELECT {outer_k}{outer_m}, {ver} FROM ({union}) u{group}"
    if source != "all":
        params["src"] = source
    return sql, params


def _pieces_sql(
    dialect: str,
    pieces: Sequence[tuple[int, int]],
    tail_ranges: Sequence[tuple[int, int | None]],
    params: dict[str, Any],
    rkey: str,
    rdims: str,
    measures: str,
    src_r: str,
    rgroup: str,
) -> str:
    """Raw rows of the pieces (one VALUES list of instants joined to the raw table: one
    index range per piece), leaving out the ids the tail reads."""
    rows = []
    for i, (a, b) in enumerate(pieces):
        params[f"pa{i}"] = ts_param(dialect, datetime.fromtimestamp(a, UTC))
        params[f"pb{i}"] = ts_param(dialect, datetime.fromtimestamp(b, UTC))
        rows.append(f"(:pa{i}, :pb{i})")
    if dialect == "postgresql":
        rows[0] = "(CAST(:pa0 AS TIMESTAMPTZ), CAST(:pb0 AS TIMESTAMPTZ))"
    not_tail = "".join(
        f" AND NOT (id >= :ilo{i}" + (f" AND id <= :ihi{i})" if hi is not None else ")")
        for i, (_lo, hi) in enumerate(tail_ranges)
    )
    where = f"org_id = :org AND created_at >= e.column1 AND created_at < e.column2{not_tail}{src_r}"
    if dialect == "sqlite":  # CROSS JOIN keeps e outside: an index range per piece
        return f"SELECT {rkey}{rdims}{measures} FROM (VALUES {', '.join(rows)}) e CROSS JOIN token_usage_logs WHERE {where}{rgroup}"
    # LATERAL … OFFSET 0: one index range scan per piece (measured: without it PostgreSQL
    # scans all of a busy user's rows and tests each against every piece, 3.6 s).
    return (
        f"SELECT {rkey}{rdims}{measures} FROM (VALUES {', '.join(rows)}) e CROSS JOIN LATERAL"
        f" (SELECT * FROM token_usage_logs WHERE {where} OFFSET 0) t{rgroup}"
    )


def rollup_facts(
    conn: sa.Connection,
    f: Filters,
    dims: Sequence[str] = (),
    by_qh: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    boundaries: Any = None,
    period: int | None = None,
    unpriced: bool = False,
) -> pd.DataFrame:
    """facts() from the rollups plus the live tail: equal to raw_facts, bucket for bucket.

    With by_qh, a returned qh may stand for a whole segment between two boundaries
    (sorted UTC epoch seconds of local bucket starts); without boundaries every
    quarter-hour is its own key. period (seconds; the heatmap's week): buckets repeat
    with it, so segments that far apart on the same clock share one key.
    """
    dims = tuple(dims)
    start, end = start or f.start_utc, end or f.read_end_utc

    def raw() -> pd.DataFrame:  # the same question, answered from the raw rows whole
        return raw_facts(
            conn, f, dims=dims, by_qh=by_qh, start=start, end=end, boundaries=boundaries, unpriced=unpriced
        )

    # The family must hold the sliced columns too (a user filter: none does, read raw).
    fam = family_for(set(dims) | f.slice_dims, unpriced)
    if fam is None or not available(conn):
        return raw()
    s_epoch, e_epoch = start.timestamp(), end.timestamp()
    A, B = int(-(-s_epoch // QH)), int(e_epoch // QH)
    if B <= A:
        return raw()
    cut_bytes = np.asarray(boundaries, dtype="int64").tobytes() if (by_qh and boundaries is not None) else None
    ranges, pieces = _plan(f.timezone, A, B, cut_bytes, by_qh, int(period or 0), fam.grains)
    if len(pieces) > MAX_PIECES:  # sub-day cuts everywhere (a heatmap's hours): the raw rows are the answer
        return raw()
    wa = datetime.fromtimestamp(A * QH, UTC)
    wb = datetime.fromtimestamp(B * QH, UTC)
    edges = [(a, b) for a, b in ((start, wa), (wb, end)) if a < b]
    dialect = conn.dialect.name
    cols = (["qh"] if by_qh else []) + list(dims) + MEASURES + (UNPRICED if unpriced else [])
    key = conn.engine.url.render_as_string(hide_password=False)
    state = _STATE.get(key)
    if state is not None and state.watermark == 0:
        state = None  # the first refresh may have happened since: look again
    for _attempt in range(4):
        if state is None:
            state = _STATE[key] = read_state(conn)
        if state.watermark == 0:  # never refreshed: the rollups hold nothing
            return raw()
        sql, params = build_query(
            dialect, fam.name, dims, by_qh, ranges, state.tail_ranges, (wa, wb), edges, f.source, unpriced, f, pieces
        )
        params["org"] = f.org_id
        rows = conn.execute(sa.text(sql), params).all()
        # Rows carry the version their snapshot saw. Another version means the tail was
        # planned with another watermark than the rollups read: read the state, again.
        seen = rows[0][-1] if rows else read_version(conn)
        if seen == state.version:
            return frame(rows, cols, dims)  # the trailing version column is left out
        state = None
    return raw()


# A family without quarter-hours (user) reads at most this many sub-day pieces raw; past
# it (cuts inside most days: hourly buckets, the heatmap's hours) the raw rows answer whole.
MAX_PIECES = 400


@lru_cache(maxsize=512)
def _plan(
    tz_name: str, A: int, B: int, cut_bytes: bytes | None, by_qh: bool, period: int, grains: tuple[int, ...] = GRAINS
) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, int], ...]]:
    """The read ranges of one (zone, window, bucket cuts, fold period, family grains), and
    the pieces [a, b) (epoch seconds) no grain of the family covers: pure, so planned once
    per question shape and shared by every request and figure asking it."""
    cuts = cuts_from_boundaries(np.frombuffer(cut_bytes, dtype="int64")) if cut_bytes is not None else None
    planned = plan_ranges(A, B, cuts, by_qh, grains if grains[0] == QH else (QH, *grains))
    pieces: tuple[tuple[int, int], ...] = ()
    if grains[0] != QH:  # the quarter-hour ranges are read raw, whole (no lattice: raw keys are quarter-hours)
        pieces = tuple((lo, hi) for g, lo, hi, _ph, _p in planned if g == QH)
        planned = [r for r in planned if r[0] != QH]
    if period and cuts is not None:
        return tuple(fold_ranges(planned, offset_stretches(tz_name, A, B), period)), pieces
    return tuple(planned), pieces


# The last state read per database: most requests plan with it and never re-read it.
_STATE: dict[str, State] = {}
