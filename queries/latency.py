"""Latency percentiles (p50, p95, p99) per key, from mergeable latency sketches.

Both paths count latencies in the same buckets (storage/sketch.py) and read the
percentile from the merged counts, so the raw path and the rollup path give the very
same answer, within 1 % of the exact nearest-rank percentile (the latency at rank
⌈q·n⌉ of the sorted latencies of the rows with one). The rollup path reads whole UTC
days as at most ~17 blocks of 1, 2, 4 … 256 days per key, plus the raw rows of the
window's sub-day edges and of the live tail (ids past the watermark, and the gap
ranges), all in one statement, checked against the state version like rollup_read.
An edge longer than half a UTC day (a zone west of UTC starts its days in the UTC
morning) is read as its whole day's block minus the rolled-up raw rows of that day
outside the window, counted negative: bucket counts are integers, so the sum is exact.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage import sketch
from storage.engine import ts_param
from storage.long_rows import long_sql, long_table, short_sql
from storage.rollup_tables import available, read_state
from storage.sources import source_match_sql

from .base import reads_rollups
from .filters import Filters
from .slicing import slice_sql

PERCENTILES = (50, 95, 99)
_SKETCHES: dict[str, bool | float] = {}  # per database URL: True, or when "no" was seen (migration 0004)


def _has_sketches(conn: sa.Connection) -> bool:
    key = conn.engine.url.render_as_string(hide_password=False)
    hit = _SKETCHES.get(key)
    if hit is True:
        return True
    if hit is not None and time.monotonic() - hit < 30:
        return False
    ok = available(conn) and bool(sa.inspect(conn).has_table(sketch.TABLES[0]))
    _SKETCHES[key] = True if ok else time.monotonic()
    return ok


def _has_table(conn: sa.Connection, table: str) -> bool:
    """The sketch table exists (a database at 0004–0007 has no rollup_combo_lat); cached like _has_sketches."""
    key = conn.engine.url.render_as_string(hide_password=False) + "|" + table
    hit = _SKETCHES.get(key)
    if hit is True:
        return True
    if hit is not None and time.monotonic() - hit < 30:
        return False
    ok = bool(sa.inspect(conn).has_table(table))
    _SKETCHES[key] = True if ok else time.monotonic()
    return ok


def day_blocks(d0: int, d1: int) -> list[tuple[int, int]]:
    """[d0, d1) in epoch days as aligned blocks (grain seconds, start seconds) of 2^k days."""
    out = []
    p = d0
    while p < d1:
        size = sketch.GRAINS[-1] // sketch.DAY
        while p % size or p + size > d1:
            size //= 2
        out.append((size * sketch.DAY, p * sketch.DAY))
        p += size
    return out


def _raw_part(
    dialect: str,
    dims: Sequence[str],
    where: str,
    source: str,
    sliced: str = "",
    sign: str = "",
    table: str = "token_usage_logs",
) -> str:
    """Raw rows' bucket counts per key; sign "-": counted negative (taken away from a block);
    table: the FROM item."""
    src = (f" AND {source_match_sql(dialect, source)}" if source != "all" else "") + sliced
    blob = "CAST(NULL AS BYTEA)" if dialect == "postgresql" else "CAST(NULL AS BLOB)"
    group = ", ".join([*dims, "b"])
    return (
        f"SELECT {''.join(d + ', ' for d in dims)}b, n, {blob} AS sketch FROM ("
        f"SELECT {''.join(d + ', ' for d in dims)}{sketch.bucket_sql()} AS b, CAST({sign}COUNT(*) AS BIGINT) AS n"
        f" FROM {table} WHERE org_id = :org AND latency_ms IS NOT NULL AND {where}{src}"
        f" GROUP BY {group}) q"
    )


def _raw_sketch(conn: sa.Connection, f: Filters, dims: Sequence[str], start: datetime, end: datetime) -> pd.DataFrame:
    d = conn.dialect.name
    params: dict[str, Any] = {"org": f.org_id, "a": ts_param(d, start), "b": ts_param(d, end)}
    where, sliced = "created_at >= :a AND created_at < :b", slice_sql(f, str, params)
    if d == "postgresql" and f.slice_dims & {"user_id", "agent_id"}:  # through the partial user and agent indexes
        sql = (
            _raw_part(d, dims, f"{where} AND {short_sql(d)}", f.source, sliced)
            + " UNION ALL "
            + _raw_part(d, dims, f"{where} AND {long_sql(d)}", f.source, sliced, table=long_table(d))
        )
    else:
        sql = _raw_part(d, dims, where, f.source, sliced)
    rows = conn.execute(sa.text(sql), params).all()
    return _merge([tuple(r) for r in rows], dims)


def _rollup_sketch(
    conn: sa.Connection, f: Filters, dims: Sequence[str], start: datetime, end: datetime
) -> pd.DataFrame:
    fam = sketch.family_for(tuple(dims), f.slice_dims)
    if fam is None or not _has_table(conn, fam.table):  # no sketch keys these columns: the raw rows
        return _raw_sketch(conn, f, dims, start, end)
    d = conn.dialect.name
    day = sketch.DAY
    s0, s1 = int(start.timestamp()), int(end.timestamp())
    d0, d1 = -(-s0 // day), s1 // day
    if d1 <= d0:
        return _raw_sketch(conn, f, dims, start, end)
    # An edge of more than half a UTC day (New York's midnight is 05:00 UTC: 19 hours) is
    # read as its whole day's block minus the rolled-up rows of the day outside the window
    # (counted negative): fewer raw rows, the same integer counts per bucket.
    d0 -= 1 if d0 * day - s0 > day // 2 else 0
    d1 += 1 if s1 - d1 * day > day // 2 else 0
    wa, wb = datetime.fromtimestamp(d0 * day, UTC), datetime.fromtimestamp(d1 * day, UTC)
    ta, tb = max(wa, start), min(wb, end)  # the window's part the blocks cover
    for _attempt in range(4):
        state = read_state(conn)
        if state.watermark == 0:  # never refreshed (or cleared by migration 0004)
            return _raw_sketch(conn, f, dims, start, end)
        params: dict[str, Any] = {"org": f.org_id, "wa": ts_param(d, ta), "wb": ts_param(d, tb)}
        blocks = []
        for i, (g, t) in enumerate(day_blocks(d0, d1)):
            params[f"g{i}"], params[f"t{i}"] = g, t
            blocks.append(f"(x.grain = :g{i} AND x.t = :t{i})")
        src = " AND x.source = :src" if f.source != "all" else ""
        src += slice_sql(
            f, lambda c: fam.read_dims[fam.dims.index(c)], params, "sx", lambda c: f"x.{c}" if c == "agent_id" else None
        )
        sliced = slice_sql(f, str, params, "sr")
        dsel = "".join(f"{fam.read_dims[fam.dims.index(c)]} AS {c}, " for c in dims)
        parts = [
            f"SELECT {dsel}CAST(NULL AS INTEGER) AS b, CAST(NULL AS BIGINT) AS n, x.sketch FROM {fam.table} x"
            f" WHERE x.org_id = :org AND ({' OR '.join(blocks)}){src}"
        ]
        live = []  # the ids not in the blocks: past the watermark, and the gaps
        for i, (lo, hi) in enumerate(state.tail_ranges):
            params[f"ilo{i}"] = int(lo)
            cond = f"id >= :ilo{i}"
            if hi is not None:
                params[f"ihi{i}"] = int(hi)
                cond += f" AND id <= :ihi{i}"
            live.append(f"({cond})")
            parts.append(_raw_part(d, dims, f"{cond} AND created_at >= :wa AND created_at < :wb", f.source, sliced))
        # Long rows (storage.long_rows): in no sketch, read live over the blocks' part of the
        # window from their own index, but for the tail's (read above).
        where = f"created_at >= :wa AND created_at < :wb AND {long_sql(d)} AND NOT ({' OR '.join(live)})"
        parts.append(_raw_part(d, dims, where, f.source, sliced, table=long_table(d)))
        for i, (a, b) in enumerate(((start, wa), (wb, end))):
            if a < b:  # an edge the blocks leave out: every row of it
                params[f"ea{i}"], params[f"eb{i}"] = ts_param(d, a), ts_param(d, b)
                parts.append(_raw_part(d, dims, f"created_at >= :ea{i} AND created_at < :eb{i}", f.source, sliced))
        for i, (a, b) in enumerate(((wa, start), (end, wb))):
            if a < b:  # a borrowed day's part outside the window: its rolled-up rows, negative
                params[f"xa{i}"], params[f"xb{i}"] = ts_param(d, a), ts_param(d, b)
                where = f"created_at >= :xa{i} AND created_at < :xb{i} AND {short_sql(d)} AND NOT ({' OR '.join(live)})"
                parts.append(_raw_part(d, dims, where, f.source, sliced, sign="-"))
        if f.source != "all":
            params["src"] = f.source
        ver = "(SELECT version FROM rollup_state WHERE id = 1) AS v"
        sql = f"SELECT u.*, {ver} FROM ({' UNION ALL '.join(parts)}) u"
        rows = conn.execute(sa.text(sql), params).all()
        seen = rows[0][-1] if rows else read_state(conn).version
        if seen == state.version:  # the tail was planned with the watermark these rollups hold
            return _merge([tuple(r)[:-1] for r in rows], dims)
    return _raw_sketch(conn, f, dims, start, end)


def _merge(rows: list[tuple[Any, ...]], dims: Sequence[str]) -> pd.DataFrame:
    """Rows (dims…, b, n, sketch) as one frame (dims…, b, n) summed per key and bucket (numpy)."""
    if not rows:
        empty = pd.DataFrame({c: pd.Series([], dtype="object") for c in dims})
        return empty.assign(b=np.array([], dtype="int64"), n=np.array([], dtype="int64"))
    nd = len(dims)
    cols = list(zip(*rows))
    ids: dict[tuple[Any, ...], int] = {}
    kid = np.fromiter(
        (ids.setdefault(k, len(ids)) for k in (zip(*cols[:nd]) if nd else [()] * len(rows))), "int64", len(rows)
    )
    stored = np.fromiter((x is not None for x in cols[-1]), bool, len(rows))  # a block (storage.sketch.pack)
    bb, nn, lens = _unpack_all([x for x in cols[-1] if x is not None])
    raw = ~stored  # a raw row: one bucket and its count
    raw_b = np.fromiter((0 if x is None else x for x in cols[-3]), "int64", len(rows))[raw]
    raw_n = np.fromiter((0 if x is None else x for x in cols[-2]), "int64", len(rows))[raw]
    key = np.concatenate([np.repeat(kid[stored], lens), kid[raw]])
    b = np.concatenate([bb, raw_b])
    n = np.concatenate([nn, raw_n])
    # Dense counts per (key, bucket) by one bincount over the buckets in use, no sort.
    lo = int(b.min()) if len(b) else 0
    width = (int(b.max()) - lo + 1) if len(b) else 1
    counts = np.bincount(key * width + (b - lo), weights=n, minlength=len(ids) * width)
    # Exact: bincount sums in float64, exact below 2^53 rows per bucket.
    cells = np.flatnonzero(counts)
    kidx = cells // width
    out = pd.DataFrame({c: _column([k[j] for k in ids])[kidx] for j, c in enumerate(dims)})
    return out.assign(b=(cells % width) + lo, n=counts[cells].astype("int64"))


def latency_sketch(
    conn: sa.Connection, f: Filters, dims: Sequence[str], start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """Bucket counts (dims…, b, n) of the latencies of f's rows, on the connection's facts path."""
    start, end = start or f.start_utc, end or f.read_end_utc
    if reads_rollups(conn):
        from .slice_rows import narrow_sketch  # a narrow slice's rows, read once for the page

        narrow = narrow_sketch(conn, f, dims, start, end)
        if narrow is not None:
            return narrow
        if _has_sketches(conn):
            return _rollup_sketch(conn, f, dims, start, end)
    return _raw_sketch(conn, f, dims, start, end)


def _unpack_all(blobs: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every packed block (storage.sketch.pack: m int16 buckets, then m int64 counts), read
    from one joined buffer: a mask of the count bytes splits it into the two arrays
    (buckets, counts, m of each block)."""
    m = np.fromiter((len(x) // 10 for x in blobs), "int64", len(blobs))
    buf = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    lens = np.empty(2 * len(m), dtype="int64")
    lens[0::2], lens[1::2] = 2 * m, 8 * m
    is_count = np.repeat(np.tile(np.array([False, True]), len(m)), lens)
    return buf[~is_count].view("<i2").astype("int64"), buf[is_count].view("<i8").astype("int64"), m


def _column(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def percentiles(counts: pd.DataFrame, dims: Sequence[str], pcts: Sequence[int] = PERCENTILES) -> pd.DataFrame:
    """Per key: p{q}_latency_ms for each q in pcts, read from the merged bucket counts.

    Vectorised: one sort by (key, bucket), one running sum, and for each q the first
    bucket whose running count reaches the rank ⌈q·n⌉ of its key (keys in order of first
    appearance; keys without counts left out)."""
    cols = [*dims, *[f"p{q}_latency_ms" for q in pcts]]
    if not len(counts):
        return _typed(pd.DataFrame({c: pd.Series([], dtype="object") for c in cols}), dims)
    kid = counts.groupby(list(dims), dropna=False, sort=False).ngroup().to_numpy(dtype="int64")
    b, n = counts["b"].to_numpy(dtype="int64"), counts["n"].to_numpy(dtype="int64")
    order = np.lexsort((b, kid))
    kid, b, n = kid[order], b[order], n[order]
    cum = np.cumsum(n)
    start = np.flatnonzero(np.r_[True, kid[1:] != kid[:-1]])
    last = np.r_[start[1:], len(kid)] - 1
    before = np.r_[0, cum[last[:-1]]]
    total = cum[last] - before
    keep = total > 0
    start, before, total = start[keep], before[keep], total[keep]
    data: dict[str, Any] = {c: counts[c].to_numpy(dtype=object)[order][start] for c in dims}
    for q in pcts:
        rank = -(-(q * total) // 100)  # ⌈q·n⌉ in integers
        data[f"p{q}_latency_ms"] = sketch.representative(b[np.searchsorted(cum, before + rank)])
    return _typed(pd.DataFrame(data, columns=cols), dims)


def _typed(df: pd.DataFrame, dims: Sequence[str]) -> pd.DataFrame:
    for c in dims:
        df[c] = df[c].astype("object").where(df[c].notna(), None)
    return df
