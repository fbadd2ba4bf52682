"""What an answer depends on besides its parameters: the data's stamp and the clock's, for cache keys.

An answer of org O is a function of (its Filters, the rows of O, O's agents, the price
overrides, the clock). The rows are the rollups (named by the state's `version`, bumped by
every refresh, `refresh --full` included) plus the live tail (ids past the watermark and
in the gap ranges): `data_stamp` reads the version, the count and the highest id of O's
tail rows, O's agents and the price overrides in ONE statement (one snapshot), so a
row committed after it changes every later stamp — the freshness rule holds for cached
answers: a committed row counts at once, a late row in a gap range included. The stamp
is read before the answer is computed, so an entry is never older than its key. Answers of
one org asked at once share the stamp's read (`cached_on`, queries/batches.py), but only a
read whose statement began after each of them asked: the rule holds for each.

The clock: an answer whose window ended before now depends on today's local date only
(which buckets are in progress, the projection's "today"); one whose window holds now is
keyed by the 5-second step of now (CLOCK_STEP_S): a bucket that starts, and the
projection's share of today still to come, may show up to 5 s late; rows never do.

Without rollups (AI_USAGE_ROLLUPS=0 or never refreshed) the tail is the whole table: no
stamp, no caching (a count over every row of the org would cost what the answer does);
likewise while more than TAIL_CAP rows (of all orgs) wait past the watermark.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import pickle
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from storage import execute, metrics
from storage.answer_cache import AnswerCache
from storage.rollup_tables import State, available, read_state

from .base import FACTS_OPTION, reads_rollups
from .batches import Batches
from .filters import Filters

CACHE_OPTION = "ai_usage_answer_cache"  # the connection's answer cache while an answer is computed (shared())
STAMP_OPTION = "ai_usage_data_stamp"  # (org, stamp) of the answer the connection computes: its parts' stamp
TAIL_CAP = 100_000  # rows past the watermark (all orgs) read per stamp; more: the catch-up is behind, no caching
CLOCK_STEP_S = 5  # a window holding now: one answer per 5 s (the catch-up's period); rows still count at once
FORMAT = "2"  # bump when an answer's shape or meaning changes: old entries are then never read


def _text_agg(dialect: str, expr: str, order: str, table: str, where: str = "") -> str:
    if dialect == "postgresql":
        return f"(SELECT string_agg({expr}, chr(30) ORDER BY {order}) FROM {table}{where})"
    return f"(SELECT group_concat({expr}, char(30)) FROM (SELECT * FROM {table}{where} ORDER BY {order}))"


def stamp_sql(dialect: str, tail_ranges: Sequence[tuple[int, int | None]]) -> tuple[str, dict[str, Any]]:
    """The one statement of data_stamp: version; the rows past the watermark (all orgs'
    count, :org's count and max id, among the first TAIL_CAP); :org's count and max id in
    the gap ranges; agents; prices.

    The watermark is read inside the statement, not bound as a value: a bound id past the
    column's histogram makes the planner probe the id index's end for the real maximum,
    stepping over every dead entry there (rows deleted or rolled back, not yet vacuumed):
    49 ms of planning per request measured at 3M dead rows. Unknown at planning, it gets
    the ordered index scan under the LIMIT, whatever the statistics say."""
    params: dict[str, Any] = {}  # and :org, :cap (TAIL_CAP) at each execution
    conds = []
    for i, (lo, hi) in enumerate(tail_ranges):
        if hi is None:
            continue  # the open tail: past the watermark this statement reads
        params[f"lo{i}"], params[f"hi{i}"] = int(lo), int(hi)
        conds.append(f"(id >= :lo{i} AND id <= :hi{i})")
    sep = "chr(31)" if dialect == "postgresql" else "char(31)"
    agents = _text_agg(
        dialect,
        f"id || {sep} || name || {sep} || COALESCE(avatar_url, '')",
        "id",
        "agents",
        " WHERE org_id = :org",
    )
    cols = ("provider", "model", "input_usd_per_mtok", "cache_read_usd_per_mtok", "output_usd_per_mtok")
    prices = _text_agg(
        dialect,
        f" || {sep} || ".join(f"COALESCE(CAST({c} AS TEXT), '')" for c in cols),
        "provider, model",
        "price_overrides",
    )
    tail = (
        "SELECT COUNT(*) AS n_all, COALESCE(SUM(CASE WHEN org_id = :org THEN 1 ELSE 0 END), 0) AS n,"
        " COALESCE(MAX(CASE WHEN org_id = :org THEN id END), 0) AS m"
        " FROM (SELECT id, org_id FROM token_usage_logs"
        " WHERE id > (SELECT watermark FROM rollup_state WHERE id = 1) ORDER BY id LIMIT :cap) AS tail_rows"
    )
    gaps = (
        f"SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS m FROM token_usage_logs WHERE org_id = :org AND ({' OR '.join(conds)})"
        if conds
        else "SELECT 0 AS n, 0 AS m"
    )
    sql = (
        "SELECT (SELECT version FROM rollup_state WHERE id = 1), t.n_all, t.n, t.m, g.n, g.m,"
        f" {agents}, {prices}"
        f" FROM ({tail}) AS t, ({gaps}) AS g"
    )
    return sql, params


_STATE: dict[str, State] = {}  # the last state read per database (planning only; the statement checks it)
_DATABASE: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()  # engine -> its URL, rendered once
_SQL: dict[tuple[str, tuple[tuple[int, int | None], ...]], tuple[sa.TextClause, dict[str, Any]]] = {}


def _stamp_statement(dialect: str, state: State) -> tuple[sa.TextClause, dict[str, Any]]:
    """stamp_sql for this state's tail, made once per (dialect, tail ranges)."""
    ranges = tuple(state.tail_ranges)
    hit = _SQL.get((dialect, ranges))
    if hit is None:
        if len(_SQL) > 64:
            _SQL.clear()
        sql, params = stamp_sql(dialect, ranges)
        hit = _SQL[(dialect, ranges)] = (sa.text(sql), params)
    return hit


def _database(engine: sa.Engine) -> str:
    key = _DATABASE.get(engine)
    if key is None:
        key = _DATABASE[engine] = engine.url.render_as_string(hide_password=False)
    return key


def data_stamp(conn: sa.Connection, org_id: str) -> str | None:
    """The stamp of org_id's data as this connection sees it now; None: do not cache."""
    if not reads_rollups(conn):
        return None
    key = _database(conn.engine)
    state = _STATE.get(key)
    if state is None and not available(conn):
        return None
    for _attempt in range(4):
        if state is None:
            state = _STATE[key] = read_state(conn)
        if state.watermark == 0:
            _STATE.pop(key, None)  # the first refresh may come any moment
            return None
        statement, params = _stamp_statement(conn.dialect.name, state)
        row = conn.execute(statement, {**params, "org": org_id, "cap": TAIL_CAP}).one()
        if int(row[0]) == state.version:
            if int(row[1]) >= TAIL_CAP:
                return None  # the tail may hold more of :org's rows than were read
            meta = hashlib.sha256(f"{row[6]}\x1d{row[7]}".encode()).hexdigest()[:16]
            return f"v{row[0]}:n{int(row[2]) + int(row[4])}:m{max(int(row[3]), int(row[5]))}:{meta}"
        state = None  # a refresh moved the watermark since the tail was planned: plan again
    return None


def clock_key(f: Filters) -> str:
    """The part of `now` an answer for f can depend on (see the module's docstring)."""
    if f.end_utc <= f.now:
        return "d" + f.today.isoformat()
    return "s" + str(int(f.now.timestamp()) // CLOCK_STEP_S)


def answer_digest(kind: str, f: Filters, extra: Sequence[Any], stamp: str) -> str:
    """sha256 of (format, kind, every field of f but now, the clock's part, extra args, data stamp)."""
    fields = {fld.name: getattr(f, fld.name) for fld in dataclasses.fields(f) if fld.name != "now"}
    text = repr((FORMAT, kind, sorted(fields.items()), clock_key(f), tuple(extra), stamp))
    return hashlib.sha256(text.encode()).hexdigest()


def _pickle(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _from_cache(
    cache: AnswerCache,
    kind: str,
    f: Filters,
    extra: Sequence[Any],
    stamp: str,
    compute: Callable[[], Any],
    encode: Callable[[Any], bytes],
    decode: Callable[[bytes], Any],  # only values this app signed reach it (answer_cache)
) -> tuple[Any, str]:
    """compute()'s answer from cache under (org, kind, f, clock, extra, stamp), and that key,
    which names the answer's bytes exactly (the API compresses each once: api/compression.py)."""
    key = cache.full_key(f.org_id, answer_digest(kind, f, extra, stamp))
    return cache.get_or_compute(key, compute, encode, decode), key


def cached(
    conn: sa.Connection,
    cache: AnswerCache | None,
    kind: str,
    f: Filters,
    compute: Callable[[], Any],
) -> Any:
    """compute(), or its answer from `cache`, the stamp read on conn: a part shared by the
    answer conn is computing (shared()). No cache, or no stamp (rollups off): computed."""
    if cache is None:
        return compute()
    conn.execution_options(**{CACHE_OPTION: cache})  # for the parts it shares in turn
    # The stamp of the answer conn computes, read before it began computing (so before this
    # part): an entry is never older than its key; else read here.
    org, stamp = conn.get_execution_options().get(STAMP_OPTION, (None, None))
    if org != f.org_id:
        stamp = data_stamp(conn, f.org_id)
    if stamp is None:
        return compute()
    return _from_cache(cache, kind, f, (), stamp, compute, _pickle, pickle.loads)[0]


# The data stamp's reads, shared by concurrent answers of one org (/metrics: ai_usage_data_stamps_total).
STAMPS: Batches[str | None] = Batches(observe=metrics.data_stamp)


def cached_on(
    engine: sa.Engine,
    cache: AnswerCache | None,
    kind: str,
    f: Filters,
    compute: Callable[[sa.Connection], Any],
    extra: Sequence[Any] = (),
    encode: Callable[[Any], bytes] = _pickle,
    decode: Callable[[bytes], Any] = pickle.loads,
) -> tuple[Any, str | None]:
    """compute(conn), or its answer from `cache` (no cache, or no stamp: computed), and the
    key it is stored under (None: not cached); the API and the page's callbacks come through
    here, taking engine's connections as needed. The data stamp is read by a
    statement that begins after this call did, shared with the answers of the same org
    waiting for it (STAMPS, queries/batches.py): the caller that reads it keeps that
    connection to compute the answer if it is not cached; a caller that shared another's
    read takes a connection only then. One connection per answer at most, none for a cached
    answer whose stamp was shared. A database failure leaves as storage.execute.DatabaseFault."""
    with contextlib.ExitStack() as stack:
        mine: list[sa.Connection] = []

        def connection() -> sa.Connection:
            if not mine:
                mine.append(stack.enter_context(execute.connect(engine)))
            return mine[0]

        def run(stamp: str | None = None) -> Any:
            conn = connection()
            if cache is not None:  # for the parts it shares with other answers (shared()), and their stamp
                conn.execution_options(**{CACHE_OPTION: cache, STAMP_OPTION: (f.org_id, stamp)})
            return compute(conn)

        if cache is None or engine.get_execution_options().get(FACTS_OPTION) != "rollup":
            return run(), None  # no cache, or the raw rows answer: no stamp (data_stamp)
        stamp = STAMPS.run((_database(engine), f.org_id), lambda: data_stamp(connection(), f.org_id))
        if stamp is None:
            return run(), None
        return _from_cache(cache, kind, f, extra, stamp, lambda: run(stamp), encode, decode)


def shared(conn: sa.Connection, kind: str, f: Filters, compute: Callable[[], Any]) -> Any:
    """compute(), or its value from the answer cache of the answer conn is computing (cached_on()
    leaves it on the connection), under kind "part:<kind>" and f: a part several answers need
    of the same window (every user's totals: the users' ranking, «Mayores cambios», the
    Usuario select), computed once while the org's data has not moved. The freshness rule is
    cached()'s; outside a cached answer (no cache), compute()."""
    return cached(conn, conn.get_execution_options().get(CACHE_OPTION), "part:" + kind, f, compute)
