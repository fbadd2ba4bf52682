"""Rollup writes: add raw rows, chosen by id ranges, to every grain of every rollup family.

The refresh (ingest/refresh.py) decides which ids to add and keeps the state row; this
module holds the SQL it runs: the upserts (one statement per family on SQLite, one
GROUPING SETS statement on PostgreSQL), the seal of the blocks that have ended, the id
filters, and the id probes that find the batch end and the gaps (ids with no row) inside
a range. A row goes to its week and 8-day blocks only when they are sealed (they end at or before
the state's `sealed`, :sealed in the statements; storage.rollup_tables.SEALED_GRAINS).
"""

from __future__ import annotations

import sqlalchemy as sa

from storage import local_days, sketch
from storage.local_days import span
from storage.long_rows import short_sql
from storage.measures import PG_QH_FAST, qh_sql, raw_measures_sql, saturated_row_sql
from storage.rollup_tables import (
    BY_NAME,
    DAY,
    FAMILIES,
    FOLD_GRAIN,
    FOLD_SPAN,
    SEALED_GRAINS,
    WEEK,
    align,
    block_start,
)
from storage.sources import source_class_sql

from .sketch_write import roll_up_sketches


def id_filter(ranges, params: dict, prefix: str = "r") -> str:
    """SQL true for the ids inside any of ranges (inclusive pairs); binds their ends into params."""
    conds = []
    for i, (lo, hi) in enumerate(ranges):
        params[f"{prefix}lo{i}"], params[f"{prefix}hi{i}"] = int(lo), int(hi)
        conds.append(f"(id >= :{prefix}lo{i} AND id <= :{prefix}hi{i})")
    return " OR ".join(conds) if conds else "1 = 0"


def _block_t(qh: str = "s.qh") -> str:
    """A quarter-hour's row key t at the grain `gr` (its columns grain, span, step, off): the quarter-hour
    moved back by whole steps of `step` seconds towards the start of its block of `span` seconds,
    blocks starting at `off` + k·span. A grain g is (g, its span, 1, its alignment): the block's start.
    The fold (FOLD_GRAIN, FOLD_SPAN, WEEK, 0): the quarter-hour moved back by whole weeks, into its
    block's first week. Also before 1970 (% truncates towards zero on both engines; the
    division's operand is never negative)."""
    t = f"({qh} * 900)"
    return f"({t} - (((({t} - gr.off) % gr.span) + gr.span) % gr.span) / gr.step * gr.step)"


def _grains_sql(fam) -> str:
    """The family's grains as a subquery `gr` (grain, span, step, off) (SQLite has no VALUES column
    aliases); a folded family's fold too (storage.rollup_tables.FOLD_GRAIN)."""
    grains = (*fam.grains, *(local_days.GRAINS if fam.local_days else ()))  # local days: storage.local_days
    rows = [(g, span(g), 1, align(g)) for g in grains] + ([(FOLD_GRAIN, FOLD_SPAN, WEEK, 0)] if fam.folded else [])
    sel = (f"SELECT {g} AS grain, {s} AS span, {w} AS step, {o} AS off" for g, s, w, o in rows)
    return "(" + " UNION ALL ".join(sel) + ") gr"


def _insert_grains(fam, where_s: str, pg_sort: bool = False, qh: str = "s.qh", staged: str = "s") -> str:
    """INSERT … SELECT adding staged rows `s` (quarter-hours `qh`) to every grain (and fold) of one family's table.

    pg_sort: group and order the text keys under COLLATE "C" (PostgreSQL): byte order, which
    is also the order of the database's C.UTF-8 (code points), so the rows still arrive in
    key order; but the sort compares bytes and abbreviated keys instead of calling strcoll
    (NOTES-catchup.md has the measured sorts). Equality, hence the groups, is the same
    under every deterministic collation."""
    table, cols, vals, measures = fam.table, fam.key_columns, fam.key_values, fam.measures
    n_keys = 4 + len(cols)
    update = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures)

    def text(v: str, col: str) -> str:
        return f'({v}) COLLATE "C"' if pg_sort and not col.endswith("_null") else v

    keys = [text("s.org_id", ""), "gr.grain", _block_t(qh), text("s.source", "")]
    keys += [text(v, c) for v, c in zip(vals, cols)]
    # A week or 8-day block only once sealed.
    sealed_grains = ", ".join(str(g) for g in SEALED_GRAINS)
    where_s = f"({where_s}) AND (gr.grain NOT IN ({sealed_grains}) OR {_block_t(qh)} + gr.grain <= :sealed)"
    return (
        f"INSERT INTO {table} (org_id, grain, t, source, {''.join(c + ', ' for c in cols)}{', '.join(measures)}) "
        f"SELECT {', '.join(keys)}, "
        f"{', '.join(f'SUM(s.{m})' for m in measures)} FROM {staged} s CROSS JOIN {_grains_sql(fam)} WHERE {where_s}"
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
    fam = BY_NAME[family]
    dims = fam.dims
    qh = qh_sql(dialect)
    src = source_key_sql(dialect)
    sd = "".join(f"{d}, " for d in dims)
    sg = "".join(f", {d}" for d in dims)
    return (
        f"WITH s AS (SELECT org_id, {src} AS source, {sd}{qh} AS qh, {raw_measures_sql(dialect, fam.unpriced)}"
        f" FROM token_usage_logs WHERE ({id_where}) AND {short_sql(dialect)} GROUP BY org_id, {src}{sg}, {qh}) "
        + _insert_grains(fam, "s.qh IS NOT NULL")
        # strftime() is NULL for text it cannot read: such a row has no quarter-hour.
    )


def upsert_all_pg(id_where: str, fams=FAMILIES) -> str:
    """PostgreSQL: one scan of the raw rows, one statement (data-modifying CTEs).

    The raw rows are grouped twice (GROUPING SETS): by quarter-hour and every column but
    the user (the combo family's key), and by UTC day and user (the user family keeps
    whole days and coarser). Every family without the user sums the combo rows into its
    own key and grains (sums of exact integers: the same totals as from the raw rows), so
    the raw rows feed two sets of aggregates rather than one per family."""
    user = any(fam.name == "user" for fam in fams)
    parts = []
    for fam in fams:
        if fam.name == "user":
            assert all(g % DAY == 0 for g in fam.grains), "the user family is staged by whole days"
            parts.append(f"i_{fam.name} AS ({_insert_grains(fam, 's.gs = 0', True, 's.dq')})")
        elif fam.name == "combo":
            parts.append(f"i_{fam.name} AS ({_insert_grains(fam, 's.gs = 1', True)})")
        else:
            # The combo rows summed to this family's key per quarter-hour first (a hash
            # aggregate), then to its grains: few rows to sort, also for a full rebuild.
            keys = ["org_id", "source", "qh", *fam.dims]
            sel = ", ".join(k if k == "qh" else f'{k} COLLATE "C" AS {k}' for k in keys)
            sums = ", ".join(f"SUM({m}) AS {m}" for m in fam.measures)
            parts.append(
                f"s_{fam.name} AS (SELECT {sel}, {sums} FROM s WHERE gs = 1"
                f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))})"
            )
            parts.append(f"i_{fam.name} AS ({_insert_grains(fam, 'TRUE', True, staged=f's_{fam.name}')})")
    combo_set = "(org_id, source, qh, action_type, provider, model, agent_id)"
    sets = combo_set + (", (org_id, source, dq, user_id)" if user else "")
    return (
        f"WITH r0 AS (SELECT org_id, {source_key_sql('postgresql')} AS source, action_type, provider, model,"
        f" agent_id, user_id, {PG_QH_FAST} AS qh, {saturated_row_sql('postgresql')}, latency_ms"
        # OFFSET 0 keeps this subquery a step of its own: each row is saturated once, not once
        # per measure that sums it (13 of them). The statement over 100k new rows took as long
        # as before the saturation (docs/figures.md, «Values out of range»).
        # isfinite: PostgreSQL keeps created_at = 'infinity'; no window holds such a row, and
        # its epoch (Infinity) cannot be a BIGINT quarter-hour (the refresh failed for every org).
        # Long rows (storage.long_rows) stay out: their names may not fit a rollup key.
        f" FROM token_usage_logs WHERE ({id_where}) AND isfinite(created_at) AND {short_sql('postgresql')} OFFSET 0),"
        # dq: the quarter-hour starting the row's UTC day (floored also before 1970).
        f" r AS (SELECT r0.*, r0.qh - (((r0.qh % {DAY_QH}) + {DAY_QH}) % {DAY_QH}) AS dq FROM r0),"
        f" s AS (SELECT org_id, source, action_type, provider, model, agent_id, user_id, qh, dq,"
        f" {'GROUPING(user_id)' if user else '1'} AS gs, {raw_measures_sql('postgresql', True, saturated=True)}"
        f" FROM r GROUP BY GROUPING SETS ({sets})), {', '.join(parts)} SELECT 1"
    )


DAY_QH = DAY // 900  # quarter-hours in a day


def present(conn) -> list:
    """The families whose table exists (a database at an older revision has fewer; tests
    seed such databases and refresh them)."""
    have = sa.inspect(conn)
    return [fam for fam in FAMILIES if have.has_table(fam.table)]


def roll_up(conn, id_ranges, sealed: int) -> None:
    """Add the raw rows whose ids fall in id_ranges (inclusive pairs) to every rollup family
    (to their week and 8-day blocks only where those end at or before `sealed`) and every
    latency sketch (storage/sketch.py), in the caller's transaction."""
    if not id_ranges:
        return
    params: dict = {"sealed": int(sealed)}
    where = id_filter(id_ranges, params)
    fams = present(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(upsert_all_pg(where, fams)), params)
    else:
        for fam in fams:
            conn.execute(sa.text(upsert_sql(conn.dialect.name, fam.name, where)), params)
    roll_up_sketches(conn, where, params)


def seal(conn, old: int, new: int) -> None:
    """Write the week and 8-day blocks that end in (old, new] (epoch seconds) from the family's
    day rows, in the caller's transaction. Until now no refresh wrote them (their rows, if any,
    are left from before migration 0016 and replaced). The day rows hold exactly the rolled-up
    rows, so the blocks do too; rows rolled up later are added to them (roll_up).
    Read and written org by org (ORG_CHUNK at a time): every key starts with the org."""
    if new <= old:
        return
    orgs = list(conn.execute(sa.text(ORGS_SQL)).scalars())
    for i in range(0, len(orgs), ORG_CHUNK):
        chunk = {"orgs": orgs[i : i + ORG_CHUNK]}
        for fam in present(conn):
            for g in SEALED_GRAINS:
                if g in fam.grains:
                    _seal_grain(conn, fam, g, old, new, chunk)


ORG_CHUNK = 500
# Every org with rollup rows (each is in rollup_total): one index descent per org.
ORGS_SQL = (
    "WITH RECURSIVE o(org) AS (SELECT MIN(org_id) FROM rollup_total UNION ALL"
    " SELECT (SELECT MIN(org_id) FROM rollup_total WHERE org_id > o.org) FROM o WHERE o.org IS NOT NULL)"
    " SELECT org FROM o WHERE org IS NOT NULL"
)


def _seal_grain(conn, fam, g: int, old: int, new: int, chunk: dict) -> None:
    """The blocks of grain g (week or 8 days: whole days) ending in (old, new], from the day rows."""
    first = block_start(old - g, g) + g  # the first block start t with t + g > old
    last = block_start(new - g, g)  # the last with t + g <= new
    if first > last:
        return
    orgs: sa.BindParameter[list[str]] = sa.bindparam("orgs", expanding=True)
    span = {**chunk, "lo": first, "hi": last, "end": last + g}
    conn.execute(
        sa.text(f"DELETE FROM {fam.table} WHERE org_id IN :orgs AND grain = {g} AND t >= :lo AND t <= :hi").bindparams(
            orgs
        ),
        span,
    )
    cols = "".join(f", {c}" for c in fam.key_columns)
    o = align(g)
    t = f"(t - ((((t - {o}) % {g}) + {g}) % {g}))"  # the block's start, also before 1970
    keys = f"org_id, {g}, {t}, source{cols}"
    at = ", ".join(str(i) for i in (1, *range(3, 5 + len(fam.key_columns))))  # the keys but the grain
    conn.execute(
        sa.text(
            f"INSERT INTO {fam.table} (org_id, grain, t, source{cols}, {', '.join(fam.measures)})"
            f" SELECT {keys}, {', '.join(f'SUM({m})' for m in fam.measures)} FROM {fam.table}"
            f" WHERE org_id IN :orgs AND grain = {DAY} AND t >= :lo AND t < :end"
            f" GROUP BY {at} ORDER BY {at}"
        ).bindparams(orgs),
        span,
    )


def clear(conn) -> None:
    for table in [fam.table for fam in present(conn)] + sketch.TABLES:
        conn.execute(sa.text(f"DELETE FROM {table}"))


def holes(conn, lo: int, hi: int) -> list[tuple[int, int]]:
    """Id ranges inside [lo, hi] with no row (in this snapshot)."""
    rows = conn.execute(
        sa.text(
            "SELECT prev + 1, id - 1 FROM (SELECT id, LAG(id, 1, :before) OVER (ORDER BY id) AS prev"
            " FROM token_usage_logs WHERE id >= :lo AND id <= :hi) s WHERE id - prev > 1"
        ),
        {"before": int(lo) - 1, "lo": int(lo), "hi": int(hi)},
    ).all()
    out = [(int(a), int(b)) for a, b in rows]
    top = conn.execute(
        sa.text("SELECT MAX(id) FROM token_usage_logs WHERE id >= :lo AND id <= :hi"), {"lo": int(lo), "hi": int(hi)}
    ).scalar()
    last = int(top) if top is not None else int(lo) - 1
    if last < hi:
        out.append((last + 1, int(hi)))
    return out


def max_id(conn) -> int:
    return int(conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM token_usage_logs")).scalar())


def nth_id_after(conn, after: int, n: int) -> int | None:
    """The id n rows past `after` (a batch's end), or None when fewer rows follow."""
    v = conn.execute(
        sa.text("SELECT id FROM token_usage_logs WHERE id > :a ORDER BY id LIMIT 1 OFFSET :o"),
        {"a": int(after), "o": int(n) - 1},
    ).scalar()
    return int(v) if v is not None else None
