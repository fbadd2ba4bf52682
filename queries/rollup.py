"""Rollups: the SQL that writes the pre-aggregated tables and answers facts() from them.

An answer is the rollups (rows with id <= watermark, minus the gap ranges) plus the
live tail (id > watermark, or inside a gap range) read from token_usage_logs with the
same aggregation, so a committed row counts at once and sums stay exact integers.

Time: a request's window [A, B) (quarter-hours) is cut at the local bucket boundaries
the figure needs; each segment between two cuts is served by whole UTC days inside
it, then whole 6-hour blocks, whole hours, and quarter-hours at its edges
(`plan_ranges`). Each read range carries a key lattice (phase, period) so that SQL
returns one row per segment — the segment's first quarter-hour, which lies in the same
local bucket as every row it sums — rather than one per block read; the heatmap's
clock hours also fold by week where the UTC offset holds (`fold_ranges`).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.engine import ts_param

from .base import MEASURES, QH, cost_e8_sql, frame, qh_sql, raw_facts
from .filters import Filters
from .sources import source_class_sql, source_match_sql

# Quarter-hour, hour, 6 hours, day. The 6-hour grain halves what a local bucket edge
# reads in zones off UTC (e.g. a Kathmandu midnight, 18:15 UTC: 3 six-hour blocks, 5
# hours and 4 quarter-hours instead of 23 hours and 4 quarter-hours).
GRAINS = (900, 3600, 21600, 86400)
# family -> (table, dimensions it keys by); facts(dims) picks the first that covers dims.
FAMILIES = {
    "total": ("rollup_total", ()),
    "action": ("rollup_action", ("action_type",)),
    "model": ("rollup_model", ("provider", "model")),
    "agent": ("rollup_agent", ("agent_id",)),
}
TABLES = [t for t, _ in FAMILIES.values()]
MAX_GAP_BLOCKS = 4  # merge two read ranges across at most this many excluded blocks


def family_for(dims) -> str | None:
    """The narrowest rollup family whose key holds dims (source is in every key)."""
    need = set(dims) - {"source"}
    for name, (_table, have) in FAMILIES.items():
        if need <= set(have):
            return name
    return None


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class State:
    watermark: int
    version: int
    gaps: tuple  # ((lo, hi, seen_at_epoch, pg_xmax | None), ...): missing ids <= watermark

    @property
    def tail_ranges(self) -> list[tuple[int, int | None]]:
        """Id ranges read live: beyond the watermark, and every gap (hi None = open)."""
        return [(self.watermark + 1, None)] + [(int(g[0]), int(g[1])) for g in self.gaps]


def read_state(conn, for_update: bool = False) -> State:
    sql = "SELECT watermark, version, gaps FROM rollup_state WHERE id = 1"
    if for_update and conn.dialect.name == "postgresql":
        sql += " FOR UPDATE"
    row = conn.execute(sa.text(sql)).one()
    return State(int(row[0]), int(row[1]), tuple(tuple(g) for g in json.loads(row[2] or "[]")))


def read_version(conn) -> int:
    return int(conn.execute(sa.text("SELECT version FROM rollup_state WHERE id = 1")).scalar_one())


def write_state(conn, watermark: int, version: int, gaps) -> None:
    conn.execute(
        sa.text("UPDATE rollup_state SET watermark = :w, version = :v, gaps = :g, refreshed_at = :at WHERE id = 1"),
        {"w": int(watermark), "v": int(version), "g": json.dumps([list(g) for g in gaps]),
         "at": datetime.now(UTC)},
    )


_AVAILABLE: dict = {}


def available(conn) -> bool:
    """True when migration 0002 ran on this database (cached: yes forever, no for 30 s)."""
    key = conn.engine.url.render_as_string(hide_password=False)
    hit = _AVAILABLE.get(key)
    if hit is True:
        return True
    if hit is not None and time.monotonic() - hit < 30:
        return False
    ok = sa.inspect(conn).has_table("rollup_state")
    _AVAILABLE[key] = True if ok else time.monotonic()
    return ok


# ---------------------------------------------------------------- planning (pure)


def _ceil(a, n):
    return -((-a) // n)


def plan_ranges(A: int, B: int, cuts=None, by_qh: bool = False) -> list[tuple[int, int, int, int, int]]:
    """Read ranges (grain, lo, hi, phase, period), all in seconds, covering quarter-hours [A, B).

    cuts: quarter-hour indexes where a new bucket starts (by_qh); None with by_qh keeps
    every quarter-hour apart. A row of `grain` at t is read when lo <= t < hi and its
    block fits inside its segment of the lattice phase + k·period; its key is the
    segment's start. Blocks are exactly the decomposition of every segment into whole
    UTC days, then whole 6-hour blocks, whole hours, and quarter-hours.
    """
    if B <= A:
        return []
    if not by_qh:
        s, e = np.array([A], dtype="int64"), np.array([B], dtype="int64")
    elif cuts is None:
        return [(QH, A * QH, B * QH, A * QH, QH)]
    else:
        c = np.unique(np.asarray(cuts, dtype="int64"))
        c = c[(c > A) & (c < B)]
        s = np.concatenate([[A], c]).astype("int64")
        e = np.concatenate([c, [B]]).astype("int64")
    seg = np.arange(len(s))
    pieces = {g: [] for g in GRAINS}
    # Coarsest grain first: whole blocks inside each part, the two leftovers go down a grain.
    parts = [(s, e, seg)]
    for grain in GRAINS[:0:-1]:
        g = grain // QH
        nxt = []
        for x, y, k in parts:
            keep = x < y
            x, y, k = x[keep], y[keep], k[keep]
            a, b = _ceil(x, g) * g, (y // g) * g
            has = a < b
            pieces[grain].append((a[has], b[has], k[has]))
            nxt += [(x, np.where(has, a, y), k), (np.where(has, b, y), y, k)]
        parts = nxt
    pieces[QH] = parts
    out = []
    seg_len = e - s
    for grain, chunks in pieces.items():
        lo = np.concatenate([c[0] for c in chunks])
        hi = np.concatenate([c[1] for c in chunks])
        k = np.concatenate([c[2] for c in chunks])
        keep = lo < hi
        lo, hi, k = lo[keep], hi[keep], k[keep]
        if not len(lo):
            continue
        order = np.argsort(lo, kind="stable")
        lo, hi, k = lo[order], hi[order], k[order]
        out += _merge(grain // QH, lo, hi, k, s, seg_len)
    return out


def _merge(g: int, lo, hi, k, s, seg_len) -> list[tuple[int, int, int, int, int]]:
    """Merge consecutive ranges of one grain that share a key lattice (vectorised)."""
    p = seg_len[k]
    ok = np.zeros(len(lo), dtype=bool)
    if len(lo) > 1:
        gap = lo[1:] - hi[:-1]
        same = (p[1:] == p[:-1]) & ((k[1:] - k[:-1]) <= 1) & (gap >= 0) & (gap <= MAX_GAP_BLOCKS * g)
        # Blocks of this grain inside the gap must not fit their segment (else the
        # lattice predicate would read them too): they straddle a cut, and are served
        # by finer grains.
        phase = s[k[:-1]]
        for j in range(MAX_GAP_BLOCKS):
            tb = hi[:-1] + j * g
            inside = tb < lo[1:]
            fits = ((tb - phase) % p[:-1]) + g <= p[:-1]
            same &= ~(inside & fits)
        ok[1:] = same
    first = np.flatnonzero(~ok)
    last = np.r_[first[1:] - 1, len(lo) - 1]
    return [(g * QH, int(lo[a]) * QH, int(hi[b]) * QH, int(s[k[a]]) * QH, int(p[a]) * QH)
            for a, b in zip(first, last)]


def cuts_from_boundaries(boundaries) -> np.ndarray:
    """Quarter-hour indexes where buckets start: the first quarter-hour at or after each boundary."""
    b = np.asarray(boundaries, dtype="int64")
    return _ceil(b, QH)


# ---------------------------------------------------------------- reading


def _raw_measures(dialect: str) -> str:
    big = "BIGINT"
    return ", ".join([
        f"{cost_e8_sql(dialect)} AS cost_e8",
        *[f"CAST(COALESCE(SUM({c}), 0) AS {big}) AS {c}"
          for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")],
        f"CAST(COUNT(*) AS {big}) AS executions",
        f"CAST(COALESCE(SUM(latency_ms), 0) AS {big}) AS latency_sum",
        f"CAST(COUNT(latency_ms) AS {big}) AS latency_count",
    ])


def _rollup_dim_sql(family: str, d: str) -> str:
    if d == "agent_id":
        return "CASE WHEN x.agent_null = 1 THEN NULL ELSE x.agent_id END"
    return f"x.{d}"


def _values(ranges) -> str:
    """The plan as SQL VALUES rows (g, lo, hi, ph, p, w); w = NO_FOLD unless folded."""
    full = [tuple(r) + (NO_FOLD,) if len(r) == 5 else tuple(r) for r in ranges]
    rows = ["({}, {}, {}, {}, {}, {})".format(*[int(v) for v in r]) for r in full]
    rows[0] = "({})".format(", ".join(f"CAST({int(v)} AS BIGINT)" for v in full[0]))
    return ", ".join(rows)


# ---------------------------------------------------------------- folding (the heatmap)

NO_FOLD = 1 << 62


@lru_cache(maxsize=64)
def offset_stretches(tz_name: str, A: int, B: int) -> tuple[tuple[int, int], ...]:
    """[S, E) in epoch seconds over quarter-hours [A, B) where the zone's UTC offset is constant."""
    qh = np.arange(A, B, dtype="int64")
    utc = pd.to_datetime(qh * QH, unit="s", utc=True)
    local = utc.tz_convert(ZoneInfo(tz_name)).tz_localize(None)
    off = np.asarray((local - utc.tz_localize(None)).total_seconds(), dtype="int64")
    change = np.flatnonzero(off[1:] != off[:-1]) + 1
    edges = np.r_[A, qh[change], B] * QH
    return tuple((int(a), int(b)) for a, b in pairwise(edges))


def fold_ranges(ranges, stretches, period: int) -> list[tuple]:
    """Let rows `period` seconds apart share a key where the clock reads the same.

    Inside a stretch of constant UTC offset, a segment and the one `period` (a week)
    earlier have the same local weekday and hour: a row's key becomes its segment's
    start moved back by whole periods, to the stretch's first period. A segment that
    began before the offset changed keeps its own key.
    """
    out = []
    for g, lo, hi, ph, p in ranges:
        if period % p:
            out.append((g, lo, hi, ph, p, NO_FOLD))
            continue
        for S, E in stretches:
            a, b = max(lo, S), min(hi, E)
            if a >= b:
                continue
            s0 = ph + (a - ph) // p * p  # start of the segment holding a
            if s0 < S:
                out.append((g, a, min(b, s0 + p), ph, p, NO_FOLD))
                a = s0 = s0 + p
                if a >= b:
                    continue
            out.append((g, a, b, s0, p, period))
    return out


def build_query(dialect: str, family: str, dims, by_qh: bool, ranges, tail_ranges, window, edges,
                source: str):
    """One statement (one snapshot): rollup ranges + live tail + unaligned edges, summed.

    window: (a, b) aligned instants the rollups and tail cover; edges: [(a, b)] raw
    instants outside it (read whole). Returns (sql text, params).
    """
    table = FAMILIES[family][0]
    params: dict = {"org": None}
    # The rollups key the source's class (source_key_sql); raw rows are classified as read.
    src_x = " AND x.source = :src" if source != "all" else ""
    src_r = f" AND {source_match_sql(dialect, source)}" if source != "all" else ""
    qh = qh_sql(dialect)
    parts = []
    if ranges:
        key = "(r.ph + (((x.t - r.ph) % r.w) / r.p) * r.p) / 900 AS k, " if by_qh else ""
        dsel = "".join(f"{_rollup_dim_sql(family, d)} AS {d}, " for d in dims)
        msel = ", ".join(f"x.{m}" for m in MEASURES)
        where = (f"x.org_id = :org AND x.grain = r.g AND x.t >= r.lo AND x.t < r.hi"
                 f" AND ((x.t - r.ph) % r.p) + r.g <= r.p{src_x}")
        if dialect == "sqlite":  # CROSS JOIN keeps r outside: one primary-key range per row of r
            parts.append(f"SELECT {key}{dsel}{msel} FROM r CROSS JOIN {table} x WHERE {where}")
        else:
            # LATERAL … OFFSET 0 is evaluated per row of r (one index range scan each),
            # whatever the statistics say; a hash join on grain would test every row.
            parts.append(f"SELECT x.* FROM r CROSS JOIN LATERAL (SELECT {key}{dsel}{msel} FROM {table} x"
                         f" WHERE {where} OFFSET 0) x")
    # The tail: rows not in the rollups, read by id (the primary key; NOT INDEXED keeps
    # SQLite on the rowid range rather than the (org_id, created_at) index).
    table_ref = "token_usage_logs NOT INDEXED" if dialect == "sqlite" else "token_usage_logs"
    rkey = f"{qh} AS k, " if by_qh else ""
    rdims = "".join(f"{d}, " for d in dims)
    rgroup = ", ".join((["k"] if by_qh else []) + list(dims))
    rgroup = f" GROUP BY {rgroup}" if rgroup else ""
    measures = _raw_measures(dialect)
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
    union = " UNION ALL ".join(parts)
    keys = (["k"] if by_qh else []) + list(dims)
    outer_m = ", ".join(f"CAST(COALESCE(SUM(u.{m}), 0) AS BIGINT) AS {m}" for m in MEASURES)
    outer_k = "".join(f"u.{c}, " for c in keys)
    group = f" GROUP BY {', '.join('u.' + c for c in keys)}" if keys else ""
    cte = f"WITH r(g, lo, hi, ph, p, w) AS (VALUES {_values(ranges)}) " if ranges else ""
    # The state version seen by this very snapshot, on every row: the caller checks it
    # against the state it planned the tail with.
    ver = "(SELECT version FROM rollup_state WHERE id = 1) AS v"
    sql = f"{cte}SELECT {outer_k}{outer_m}, {ver} FROM ({union}) u{group}"
    if source != "all":
        params["src"] = source
    return sql, params


def rollup_facts(conn, f: Filters, dims=(), by_qh=False, start: datetime | None = None,
                 end: datetime | None = None, boundaries=None, period=None) -> pd.DataFrame:
    """facts() from the rollups plus the live tail: equal to raw_facts, bucket for bucket.

    With by_qh, a returned qh may stand for a whole segment between two boundaries
    (sorted UTC epoch seconds of local bucket starts); without boundaries every
    quarter-hour is its own key. period (seconds; the heatmap's week): buckets repeat
    with it, so segments that far apart on the same clock share one key.
    """
    dims = tuple(dims)
    start, end = start or f.start_utc, end or f.end_utc
    fam = family_for(dims)
    if fam is None or not available(conn):
        return raw_facts(conn, f, dims=dims, by_qh=by_qh, start=start, end=end)
    s_epoch, e_epoch = start.timestamp(), end.timestamp()
    A, B = int(-(-s_epoch // QH)), int(e_epoch // QH)
    if B <= A:
        return raw_facts(conn, f, dims=dims, by_qh=by_qh, start=start, end=end)
    cuts = cuts_from_boundaries(boundaries) if (by_qh and boundaries is not None) else None
    ranges = plan_ranges(A, B, cuts, by_qh)
    if period and cuts is not None:
        ranges = fold_ranges(ranges, offset_stretches(f.timezone, A, B), int(period))
    wa = datetime.fromtimestamp(A * QH, UTC)
    wb = datetime.fromtimestamp(B * QH, UTC)
    edges = [(a, b) for a, b in ((start, wa), (wb, end)) if a < b]
    dialect = conn.dialect.name
    cols = (["qh"] if by_qh else []) + list(dims) + MEASURES
    key = conn.engine.url.render_as_string(hide_password=False)
    state = _STATE.get(key)
    if state is not None and state.watermark == 0:
        state = None  # the first refresh may have happened since: look again
    for _attempt in range(4):
        if state is None:
            state = _STATE[key] = read_state(conn)
        if state.watermark == 0:  # never refreshed: the rollups hold nothing
            return raw_facts(conn, f, dims=dims, by_qh=by_qh, start=start, end=end)
        sql, params = build_query(dialect, fam, dims, by_qh, ranges, state.tail_ranges, (wa, wb), edges,
                                  f.source)
        params["org"] = f.org_id
        rows = conn.execute(sa.text(sql), params).all()
        # Rows carry the version their snapshot saw. Another version means the tail was
        # planned with another watermark than the rollups read: read the state, again.
        seen = rows[0][-1] if rows else read_version(conn)
        if seen == state.version:
            return _frame(rows, cols, dims)
        state = None
    return raw_facts(conn, f, dims=dims, by_qh=by_qh, start=start, end=end)


# The last state read per database: most requests plan with it and never re-read it.
_STATE: dict = {}


def _frame(rows, cols, dims) -> pd.DataFrame:
    """base.frame's result, built column-wise (pandas probes every Row object otherwise)."""
    if not rows:
        return frame([], cols, dims)
    data = {}
    for c, values in zip(cols, zip(*rows)):  # the trailing version column is left out
        if c in dims:
            data[c] = pd.Series(values, dtype="object")
        else:
            data[c] = np.fromiter(values, dtype="int64", count=len(rows))
    return pd.DataFrame(data)


# ---------------------------------------------------------------- writing


def _id_filter(ranges, params: dict, prefix: str = "r") -> str:
    conds = []
    for i, (lo, hi) in enumerate(ranges):
        params[f"{prefix}lo{i}"], params[f"{prefix}hi{i}"] = int(lo), int(hi)
        conds.append(f"(id >= :{prefix}lo{i} AND id <= :{prefix}hi{i})")
    return " OR ".join(conds) if conds else "1 = 0"


def _floor_t(g: int) -> str:
    # Floor to the grain also before 1970 (% truncates towards zero on both engines).
    return f"(s.qh * 900 - (((s.qh * 900) % {g}) + {g}) % {g})"


# Family -> (key columns in the table, their values from a staged row `s`).
_KEYS = {
    "total": ([], []),
    "action": (["action_type"], ["s.action_type"]),
    "model": (["provider", "model"], ["s.provider", "s.model"]),
    "agent": (["agent_id", "agent_null"],
              ["COALESCE(s.agent_id, '')", "CASE WHEN s.agent_id IS NULL THEN 1 ELSE 0 END"]),
}
# PostgreSQL: the quarter-hour from the epoch as double precision. Equal to qh_sql's
# numeric floor for every microsecond timestamp (52-bit mantissa, checked on 10M rows and
# on 1 µs either side of 17k boundaries), at a third of its cost.
PG_QH_FAST = "CAST(floor(date_part('epoch', created_at) / 900) AS BIGINT)"


def _insert_grains(table: str, family: str, where_s: str) -> str:
    """INSERT … SELECT adding staged quarter-hour rows `s` to every grain of one table."""
    cols, vals = _KEYS[family]
    n_keys = 4 + len(cols)
    update = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURES)
    return (
        f"INSERT INTO {table} (org_id, grain, t, source, {''.join(c + ', ' for c in cols)}{', '.join(MEASURES)}) "
        f"SELECT s.org_id, gr.grain, {_floor_t('gr.grain')}, s.source, {''.join(v + ', ' for v in vals)}"
        f"{', '.join(f'SUM(s.{m})' for m in MEASURES)} FROM s CROSS JOIN gr WHERE {where_s}"
        f" GROUP BY {', '.join(str(i) for i in range(1, n_keys + 1))}"
        # In key order: PostgreSQL then lays rows out as reads scan them (few pages).
        f" ORDER BY {', '.join(str(i) for i in range(1, n_keys + 1))}"
        f" ON CONFLICT (org_id, grain, t, source{''.join(', ' + c for c in cols)}) DO UPDATE SET {update}"
    )


def source_key_sql(dialect: str) -> str:
    """What the rollup tables key as `source`: its class ('system', 'byok', 'other'), so
    'BYOK' and ' system ' add to the rows of their class (migration 0003 re-keyed older rollups)."""
    return source_class_sql(dialect)


def upsert_sql(dialect: str, family: str, id_where: str) -> str:
    """SQLite: aggregate the raw rows matching id_where into every grain of one family."""
    dims = {"total": [], "action": ["action_type"], "model": ["provider", "model"], "agent": ["agent_id"]}[family]
    qh = qh_sql(dialect)
    src = source_key_sql(dialect)
    sd = "".join(f"{d}, " for d in dims)
    sg = "".join(f", {d}" for d in dims)
    grains = " UNION ALL ".join(f"SELECT {g} AS grain" for g in GRAINS)
    return (
        f"WITH s AS (SELECT org_id, {src} AS source, {sd}{qh} AS qh, {_raw_measures(dialect)}"
        f" FROM token_usage_logs WHERE {id_where} GROUP BY org_id, {src}{sg}, {qh}),"
        f" gr AS ({grains}) "
        # strftime() is NULL for text it cannot read: such a row has no quarter-hour.
        + _insert_grains(FAMILIES[family][0], family, "s.qh IS NOT NULL")
    )


def upsert_all_pg(id_where: str) -> str:
    """PostgreSQL: one scan of the raw rows, grouped by every family at once (GROUPING
    SETS), added to every grain of the four tables (data-modifying CTEs): one statement."""
    masks = {"total": 15, "action": 7, "model": 9, "agent": 14}  # GROUPING(action, provider, model, agent)
    inserts = ", ".join(f"i_{fam} AS ({_insert_grains(FAMILIES[fam][0], fam, f's.gs = {masks[fam]}')})"
                        for fam in FAMILIES)
    return (
        f"WITH r AS (SELECT org_id, {source_key_sql('postgresql')} AS source, action_type, provider, model,"
        f" agent_id, {PG_QH_FAST} AS qh,"
        f" input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms"
        f" FROM token_usage_logs WHERE {id_where}),"
        f" s AS (SELECT org_id, source, action_type, provider, model, agent_id, qh,"
        f" GROUPING(action_type, provider, model, agent_id) AS gs, {_raw_measures('postgresql')} FROM r"
        f" GROUP BY GROUPING SETS ((org_id, source, qh), (org_id, source, qh, action_type),"
        f" (org_id, source, qh, provider, model), (org_id, source, qh, agent_id))),"
        f" gr(grain) AS (VALUES {', '.join(f'({g})' for g in GRAINS)}), {inserts} SELECT 1"
    )


def roll_up(conn, id_ranges) -> None:
    """Add the raw rows whose ids fall in id_ranges (inclusive pairs) to every rollup family."""
    if not id_ranges:
        return
    params: dict = {}
    where = _id_filter(id_ranges, params)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(upsert_all_pg(where)), params)
        return
    for family in FAMILIES:
        conn.execute(sa.text(upsert_sql(conn.dialect.name, family, where)), params)


def clear(conn) -> None:
    for table in TABLES:
        conn.execute(sa.text(f"DELETE FROM {table}"))


def holes(conn, lo: int, hi: int) -> list[tuple[int, int]]:
    """Id ranges inside [lo, hi] with no row (in this snapshot)."""
    rows = conn.execute(sa.text(
        "SELECT prev + 1, id - 1 FROM (SELECT id, LAG(id, 1, :before) OVER (ORDER BY id) AS prev"
        " FROM token_usage_logs WHERE id >= :lo AND id <= :hi) s WHERE id - prev > 1"
    ), {"before": int(lo) - 1, "lo": int(lo), "hi": int(hi)}).all()
    out = [(int(a), int(b)) for a, b in rows]
    top = conn.execute(sa.text("SELECT MAX(id) FROM token_usage_logs WHERE id >= :lo AND id <= :hi"),
                       {"lo": int(lo), "hi": int(hi)}).scalar()
    last = int(top) if top is not None else int(lo) - 1
    if last < hi:
        out.append((last + 1, int(hi)))
    return out


def max_id(conn) -> int:
    return int(conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM token_usage_logs")).scalar())


def nth_id_after(conn, after: int, n: int) -> int | None:
    """The id n rows past `after` (a batch's end), or None when fewer rows follow."""
    v = conn.execute(sa.text("SELECT id FROM token_usage_logs WHERE id > :a ORDER BY id LIMIT 1 OFFSET :o"),
                     {"a": int(after), "o": int(n) - 1}).scalar()
    return int(v) if v is not None else None
