"""A narrow slice's raw rows, read once and summed in numpy for every facts() question about them.

A page narrowed to one user (a click in Usuarios) asks facts() about
fifteen questions of the same few thousand rows: the summary, the models, the series by
action, the agents' sparklines, the heatmap, each for the window and the earlier one. No
rollup holds a user with another column, so each question read the slice's rows again,
grouped in SQL (7–35 ms of PostgreSQL apiece on the 10M-row benchmark). Here the first
question of a data stamp reads the slice's rows of its span once, one row each with no
grouping in SQL (the covering user index answers it: ~25 ms for a 0.1 % user's 9,500 rows
of two years), and every question of the same stamp sums them in numpy.

- **Exact**: the same integers as raw_facts: each row's tokens saturated and its cost
  scaled to 1e-8 USD by the SQL raw_facts sums (storage.measures), the instant in whole
  microseconds (PostgreSQL's NUMERIC epoch), the quarter-hour floored from it, the source's
  class as storage.sources gives it; sums of int64 (tests/test_slice_rows.py compares every
  question shape with raw_facts on random slices, windows, sources and measures).
- **When**: PostgreSQL 14 or later, the rollups on (a data stamp exists), a slice on
  user_id (its index covers every column read; INDEXED), and at most MAX_ROWS rows over the
  spans asked (a question about the window reads its earlier one too, with a comparison). A
  slice past that is not narrow: facts() reads as before, and the slice is not tried again
  for NOT_NARROW_S, whatever the span (a shorter one, the projection's month say, would
  read many rows for one question that the user family answers cheaply).
- **Fresh**: rows are kept under the org's data stamp (queries.freshness.data_stamp, read
  before them; the answer's own when it has one): a committed row changes the stamp, so the
  next question reads again. Nothing is kept across stamps.
- **Bounded**: at most MAX_CACHED_ROWS rows in the process (~200 bytes each: 20 MB at
  most), the least recently used slices dropped first.

Over 300 lines: the read, the cache and the grouping (facts and latency buckets) are one
mechanism whose invariants (one stamp, disjoint spans, the same integers) hold together.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage import sketch
from storage.long_rows import long_sql, short_sql
from storage.measures import TOKEN_COLUMNS, TOKEN_PARTS, TOKENS, UNPRICED, cost_sql, measure_names, token_sql
from storage.schema import COST_SCALE
from storage.sources import SPLIT, source_class_sql

from .base import tuples
from .filters import Filters
from .slicing import slice_sql

MAX_ROWS = 50_000  # one slice's rows over the spans asked; past it the slice is read as before
NOT_NARROW_S = 600.0  # a slice found past MAX_ROWS is not tried again for this long
MAX_CACHED_ROWS = 100_000  # every slice's rows kept in this process: ~200 bytes each
OPTION = "ai_usage_narrow_rows"  # a connection's execution option: False reads as before (tests, A/B)
DIMS = ("agent_id", "user_id", "action_type", "provider", "model")
# The user index covers every column read (no table read); the agent index does not: a small
# agent's 24k rows of two years cost ~140 ms of table reads, more than its page's rollup reads.
INDEXED = frozenset({"user_id"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
QH_US = 900_000_000
GAP_US = 2 * 86400 * 10**6  # two spans this close are read as one (the earlier window ends at its now)


def _micros(t: datetime) -> int:
    return (t - EPOCH) // US


@dataclass
class _Rows:
    """One slice's rows of the spans read (`covered`: disjoint [lo, hi) in microseconds)."""

    covered: list[tuple[int, int]] = field(default_factory=list)
    parts: dict[str, np.ndarray] = field(default_factory=dict)  # every row's INTS as read
    codes: dict[str, np.ndarray] = field(default_factory=dict)  # per DIMS: index into values, -1 = NULL
    values: dict[str, np.ndarray] = field(default_factory=dict)  # per DIMS: the names, then None
    sums: dict[str, np.ndarray] = field(default_factory=dict)  # every measure of one row
    n: int = 0


_LOCK = threading.Lock()
_ROWS: OrderedDict[tuple[Any, ...], _Rows] = OrderedDict()  # (database, org, slice, stamp) -> rows
_STRIPES = [threading.Lock() for _ in range(64)]  # one reader per (database, org, slice): a stripe each
_NOT_NARROW: dict[tuple[Any, ...], float] = {}  # (database, org, slice) -> until (time.monotonic())


def clear(verdicts: bool = False) -> None:
    """Forget every slice's rows (the benchmark times a page whose rows are not read yet, as
    after a commit); verdicts: also which slices were found past MAX_ROWS (tests)."""
    with _LOCK:
        _ROWS.clear()
        if verdicts:
            _NOT_NARROW.clear()


def _missing(covered: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """The parts of [a, b) that no span of covered holds."""
    out, at = [], a
    for lo, hi in covered:
        if hi <= at or lo >= b:
            continue
        if lo > at:
            out.append((at, lo))
        at = max(at, hi)
    if at < b:
        out.append((at, b))
    return out


def _merge(covered: list[tuple[int, int]], new: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(covered + new):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


SOURCE_CODES = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(SPLIT))
INTS = ("us", "src", *TOKEN_COLUMNS, "cost_e8", "unpriced", "latency_ms", "timed", "b")  # read as BIGINT


def _select(dialect: str, f: Filters, params: dict[str, Any]) -> str:
    """One row per raw row of f's org and slice in [:a, :b), at most :n: its names, then its
    instant (µs), source class (SPLIT's index), and measures as raw_facts sums them (tokens
    saturated, the cost in 1e-8 USD, 0 and a flag for no cost or no latency). Short rows
    through the user index (covering: no table read), long ones through their own."""
    ints = [
        "CAST(EXTRACT(EPOCH FROM created_at) * 1000000 AS BIGINT)",
        f"(CASE {source_class_sql(dialect)} {SOURCE_CODES} END)",
        *(token_sql(dialect, c) for c in TOKEN_COLUMNS),
        f"COALESCE(CAST(({cost_sql(dialect)}) * {COST_SCALE} AS BIGINT), 0)",
        f"CASE WHEN ({cost_sql(dialect)}) IS NULL THEN 1 ELSE 0 END",
        "COALESCE(latency_ms, 0)",
        "CASE WHEN latency_ms IS NULL THEN 0 ELSE 1 END",
        f"COALESCE({sketch.bucket_sql()}, 0)",  # the latency's sketch bucket, computed as every read does
    ]
    cols = [*DIMS, *(f"CAST({e} AS BIGINT) AS {n}" for e, n in zip(ints, INTS))]
    where = "org_id = :org AND created_at >= :a AND created_at < :b" + slice_sql(f, lambda c: c, params, tag="nr")
    one = f"SELECT {', '.join(cols)} FROM token_usage_logs WHERE {where}"
    return f"({one} AND {short_sql(dialect)}) UNION ALL ({one} AND {long_sql(dialect)}) LIMIT :n"


def _read(conn: sa.Connection, f: Filters, spans: list[tuple[int, int]], room: int) -> list[tuple[Any, ...]] | None:
    """The slice's rows of spans, or None past `room` rows."""
    params: dict[str, Any] = {}
    sql = sa.text(_select(conn.dialect.name, f, params))
    rows: list[tuple[Any, ...]] = []
    for lo, hi in spans:
        bound = {**params, "org": f.org_id, "a": EPOCH + lo * US, "b": EPOCH + hi * US, "n": room - len(rows) + 1}
        rows += tuples(conn.execute(sql, bound))
        if len(rows) > room:
            return None
    return rows


def _build(rows: list[tuple[Any, ...]], old: _Rows | None, covered: list[tuple[int, int]]) -> _Rows:
    """old's rows and these: names coded (pd.factorize), every measure of one row."""
    cells = np.empty((len(rows), len(DIMS) + len(INTS)), dtype=object)
    if rows:
        cells[:] = rows  # row by row: a name is never read as a sequence of characters
    ints = cells[:, len(DIMS) :].astype("int64")
    parts = {c: ints[:, i] for i, c in enumerate(INTS)}
    names = {d: cells[:, i] for i, d in enumerate(DIMS)}
    if old is not None and old.n:
        parts = {c: np.concatenate([old.parts[c], v]) for c, v in parts.items()}
        names = {d: np.concatenate([old.values[d][old.codes[d]], v]) for d, v in names.items()}
    r = _Rows(covered=covered, parts=parts, n=len(parts["us"]))
    for d in DIMS:  # kept as codes into each name once (a row's own string objects are dropped)
        codes, uniques = pd.factorize(names[d], use_na_sentinel=True)
        r.codes[d] = codes.astype("int32")
        r.values[d] = np.array([*uniques, None], dtype=object)  # code -1 reads the trailing None
    s = r.sums
    s.update({c: parts[c] for c in ("us", "src", *TOKEN_COLUMNS, "cost_e8")})
    s["executions"] = np.ones(r.n, dtype="int64")
    s["latency_sum"], s["latency_count"], s["timed"], s["b"] = (parts[c] for c in ("latency_ms", "timed", "timed", "b"))
    s[TOKENS] = parts[TOKEN_PARTS[0]] + parts[TOKEN_PARTS[1]] + parts[TOKEN_PARTS[2]]
    none = parts["unpriced"]
    s.update(zip(UNPRICED, [none, *(parts[c] * none for c in TOKEN_COLUMNS)]))
    return r


def _wanted(f: Filters, a: int, b: int) -> list[tuple[int, int]]:
    """[a, b), and when that is f's window and f has a comparison, the earlier window too: a
    page asks both (one read). A question of a span of its own (the projection's month, an
    anomaly's weeks) reads that span alone."""
    from .compare import earlier

    own = (a, b) == (_micros(f.start_utc), _micros(f.read_end_utc))
    e = earlier(f) if f.compare and own else None
    if e is None or e.read_end_utc <= e.start_utc:
        return [(a, b)]
    lo, hi = _micros(e.start_utc), _micros(e.read_end_utc)
    if hi < a and a - hi <= GAP_US:  # the earlier window cut at now moved back: read the rest of its day too
        hi = a
    return _merge([(a, b)], [(lo, hi)])


def _rows(conn: sa.Connection, f: Filters, a: int, b: int) -> _Rows | None:
    """The slice's rows holding [a, b) under the org's data stamp, read as needed; None: not narrow."""
    from .freshness import STAMP_OPTION, data_stamp  # freshness builds on the facts module

    slice_key = _slice_key(conn, f)
    with _LOCK:
        if _NOT_NARROW.get(slice_key, 0.0) > time.monotonic():
            return None
    org, stamp = conn.get_execution_options().get(STAMP_OPTION, (None, None))
    if org != f.org_id or stamp is None:
        stamp = data_stamp(conn, f.org_id)
    if stamp is None:
        return None
    key = (*slice_key, stamp)
    with _STRIPES[hash(slice_key) % len(_STRIPES)]:  # one reader per slice: the page's sections arrive together
        with _LOCK:
            have = _ROWS.get(key)
            if have is not None:
                _ROWS.move_to_end(key)
        covered = have.covered if have else []
        if not _missing(covered, a, b):
            return have
        spans = [m for lo, hi in _wanted(f, a, b) for m in _missing(covered, lo, hi)]
        got = _read(conn, f, spans, MAX_ROWS - (have.n if have else 0))
        if got is None:
            with _LOCK:
                _not_narrow(slice_key)
                _ROWS.pop(key, None)
            return None
        rows = _build(got, have, _merge(covered, spans))  # other slices go on meanwhile
        with _LOCK:
            for k in [k for k in _ROWS if k[:3] == slice_key and k != key]:
                del _ROWS[k]  # an older stamp's: never asked again
            _ROWS[key] = rows
            total = sum(r.n for r in _ROWS.values())
            while total > MAX_CACHED_ROWS and len(_ROWS) > 1:
                total -= _ROWS.popitem(last=False)[1].n
            return rows


def _slice_key(conn: sa.Connection, f: Filters) -> tuple[Any, ...]:
    return (conn.engine.url.render_as_string(hide_password=False), f.org_id, f.slice_items)


def _not_narrow(slice_key: tuple[Any, ...]) -> None:
    """Not tried again for NOT_NARROW_S (under _LOCK); expired verdicts pruned past 1,000."""
    now = time.monotonic()
    if len(_NOT_NARROW) > 1000:
        for k in [k for k, until in _NOT_NARROW.items() if until <= now]:
            del _NOT_NARROW[k]
    _NOT_NARROW[slice_key] = now + NOT_NARROW_S


def known_rows(conn: sa.Connection, f: Filters, rows: int) -> None:
    """The caller knows that f's slice holds `rows` raw rows in f's window (the users' ranking
    knows its top users' executions, each a row). Past MAX_ROWS a read would stop at the limit
    and mark the slice not narrow: it is marked at once, without that read (the top 50 users'
    sparklines of a 30-day page read 50,001 rows to learn it, ~20 MB and a statement per new
    set of users). At or under it, nothing changes."""
    if rows > MAX_ROWS:
        with _LOCK:
            _not_narrow(_slice_key(conn, f))


def _taken(
    conn: sa.Connection, f: Filters, dims: Sequence[str], start: datetime, end: datetime
) -> tuple[_Rows, np.ndarray] | None:
    """The slice's rows and the positions of those in [start, end) and f's source; None when
    this slice or question is not for this path."""
    if (
        conn.dialect.name != "postgresql"
        or not (f.slice_dims & INDEXED)
        or not set(dims) <= set(DIMS)
        or conn.get_execution_options().get(OPTION, True) is False
        or (conn.dialect.server_version_info or (0,)) < (14,)  # extract(epoch) is exact (NUMERIC) from 14
    ):
        return None
    a, b = _micros(start), _micros(end)
    rows = _rows(conn, f, a, b) if a < b else None
    if rows is None:
        return None
    s = rows.sums
    take = (s["us"] >= a) & (s["us"] < b)
    if f.source != "all":
        take &= s["src"] == SPLIT.index(f.source)
    return rows, take


def _key(rows: _Rows, at: np.ndarray, col: str) -> tuple[str, np.ndarray, int, int]:
    """(column, codes from 0, how many, what code 0 stands for) of the rows at `at`: an
    integer column (qh, b) by its offset from its least value; a name by its code, NULL first."""
    if col in DIMS:
        return col, rows.codes[col][at] + 1, len(rows.values[col]), 0
    v = rows.sums["us"][at] // QH_US if col == "qh" else rows.sums[col][at]
    low = int(v.min()) if len(v) else 0
    return col, v - low, (int(v.max()) - low + 1) if len(v) else 1, low


def _grouped(rows: _Rows, at: np.ndarray, keys: list[str], names: list[str]) -> pd.DataFrame:
    """One row per key of the rows at `at` with the sums of names (an aggregate without a key:
    one row, zeros for no row), named like raw_facts' columns."""
    if not keys:
        return pd.DataFrame({m: [int(rows.sums[m][at].sum())] for m in names}, columns=names)
    coded = [_key(rows, at, k) for k in keys]
    group = np.zeros(len(at), dtype="int64")
    for _, c, n, _low in coded:
        group = group * n + c
    ids, inverse = np.unique(group, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(ids)))
    out: dict[str, Any] = {}
    rest = ids.copy()
    for col, _, n, low in reversed(coded):
        part = rest % n
        rest //= n
        out[col] = pd.Series(rows.values[col][part - 1], dtype="object") if col in DIMS else part + low  # 0: None
    for m in names:
        out[m] = np.add.reduceat(rows.sums[m][at][order], starts) if len(at) else np.zeros(0, dtype="int64")
    return pd.DataFrame(out, columns=[*keys, *names])


def narrow_facts(
    conn: sa.Connection,
    f: Filters,
    dims: Sequence[str],
    by_qh: bool,
    start: datetime,
    end: datetime,
    unpriced: bool,
    measures: Sequence[str] | None,
) -> pd.DataFrame | None:
    """facts() for a narrow slice, from its rows (one key per quarter-hour with by_qh); None
    when this slice or question is not for it (facts() then reads as before)."""
    taken = _taken(conn, f, dims, start, end)
    if taken is None:
        return None
    rows, take = taken
    names = measure_names(measures) + (list(UNPRICED) if unpriced else [])
    return _grouped(rows, np.flatnonzero(take), (["qh"] if by_qh else []) + list(dims), names)


def narrow_sketch(
    conn: sa.Connection, f: Filters, dims: Sequence[str], start: datetime, end: datetime
) -> pd.DataFrame | None:
    """queries.latency's bucket counts (dims…, b, n) for a narrow slice: the rows with a
    latency, by the bucket PostgreSQL gave each (storage.sketch.bucket_sql); None as narrow_facts."""
    taken = _taken(conn, f, dims, start, end)
    if taken is None:
        return None
    rows, take = taken
    out = _grouped(rows, np.flatnonzero(take & (rows.sums["timed"] == 1)), [*dims, "b"], ["executions"])
    # Built as queries.latency builds its own (names from object arrays: pandas infers their type).
    names = pd.DataFrame({d: out[d].to_numpy(dtype=object) for d in dims})
    return names.assign(b=out["b"].to_numpy(dtype="int64"), n=out["executions"].to_numpy(dtype="int64"))
