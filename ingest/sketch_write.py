"""Sketch writes: add raw rows, chosen by id ranges, to every grain of the latency sketches.

Called by rollup_write.roll_up inside the refresh's one transaction (same id ranges,
same lock, same watermark move: a row is counted exactly once, late rows and gap rows
too). SQL counts the new rows per (org, source, key, UTC day, bucket), one text line of
"bucket,count,…" per day — on PostgreSQL both families in one scan (GROUPING SETS);
numpy adds the days into every grain's blocks (integer codes, one sort per grain) and
into the blocks already stored (read in one statement per family and org), and each
touched block is written back whole (one statement per family and org on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa

from storage.long_rows import short_sql
from storage.measures import PG_QH_FAST, qh_sql
from storage.sketch import DAY, FAMILIES, GRAINS, SketchFamily, bucket_sql, pack, unpack
from storage.sources import source_class_sql

B_OFF = 1 << 12  # |bucket| < 4096 for any 64-bit latency: b + B_OFF fits 13 bits
B_BITS = 13


def _day_sql(dialect: str) -> str:
    # The UTC day of created_at, floored also before 1970 (% truncates towards zero);
    # PostgreSQL: the double-precision quarter-hour of rollup_write (exact, 3× faster).
    qh = PG_QH_FAST if dialect == "postgresql" else qh_sql(dialect)
    return f"(({qh}) - ((({qh}) % 96) + 96) % 96) / 96"


class _Counts:
    """One family's new counts: key tuples (org, source, *key_columns) and per pair: key id, day, b, n."""

    def __init__(self) -> None:
        self.keys: dict[tuple[Any, ...], int] = {}
        self.kid: list[int] = []
        self.day: list[int] = []
        self.texts: list[str] = []

    def add(self, key: tuple[Any, ...], day: int, text: str) -> None:
        self.kid.append(self.keys.setdefault(key, len(self.keys)))
        self.day.append(int(day))
        self.texts.append(text)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(key id, day, b, n), one entry per (key, day, bucket)."""
        pairs = np.array(",".join(self.texts).split(","), dtype="int64").reshape(-1, 2)
        per = np.array([t.count(",") + 1 for t in self.texts], dtype="int64") // 2
        kid = np.repeat(np.array(self.kid, dtype="int64"), per)
        day = np.repeat(np.array(self.day, dtype="int64"), per)
        return kid, day, pairs[:, 0], pairs[:, 1]


def _new_counts(conn: sa.Connection, fams: list[SketchFamily], id_where: str, params: dict[str, Any]) -> list[_Counts]:
    """The new rows' bucket counts per family: one scan on PostgreSQL, one per family on SQLite."""
    dialect = conn.dialect.name
    src = source_class_sql(dialect)
    out = [_Counts() for _ in fams]
    if dialect == "postgresql":
        cols = [[f"f{i}_{c}" for c in fam.key_columns] for i, fam in enumerate(fams)]
        inner = ", ".join(f"{v} AS {a}" for i, fam in enumerate(fams) for a, v in zip(cols[i], fam.key_values))
        allc = [a for c in cols for a in c]
        sets = ", ".join(f"(org_id, source, day, b, {', '.join(c)})" for c in cols)
        firsts = ", ".join(c[0] for c in cols)
        sql = (
            f"SELECT g, org_id, source, {', '.join(allc)}, day,"
            " string_agg(CAST(b AS TEXT) || ',' || CAST(n AS TEXT), ',') FROM ("
            f"SELECT GROUPING({firsts}) AS g, org_id, source, {', '.join(allc)}, day, b, COUNT(*) AS n FROM ("
            f"SELECT org_id, {src} AS source, {inner}, {_day_sql(dialect)} AS day, {bucket_sql()} AS b"
            f" FROM token_usage_logs WHERE ({id_where}) AND latency_ms IS NOT NULL AND {short_sql(dialect)}) r"
            f" WHERE day IS NOT NULL GROUP BY GROUPING SETS ({sets})) s"
            f" GROUP BY g, org_id, source, {', '.join(allc)}, day"
        )
        # GROUPING(first key column of each family) has every bit set but the grouped family's.
        full = (1 << len(fams)) - 1
        which = {full - (1 << (len(fams) - 1 - i)): i for i in range(len(fams))}
        for r in conn.execute(sa.text(sql), params):
            i = which[r[0]]
            lo = 3 + sum(len(c) for c in cols[:i])
            out[i].add((r[1], r[2], *r[lo : lo + len(cols[i])]), r[-2], r[-1])
        return out
    for i, fam in enumerate(fams):
        keys = ", ".join(f"{v} AS {c}" for c, v in zip(fam.key_columns, fam.key_values))
        kcols = ", ".join(fam.key_columns)
        n_keys = len(fam.key_columns)
        sql = (
            f"SELECT org_id, source, {kcols}, day, group_concat(b || ',' || n, ',') FROM ("
            f"SELECT org_id, {src} AS source, {keys}, {_day_sql(dialect)} AS day,"
            f" {bucket_sql()} AS b, COUNT(*) AS n FROM token_usage_logs"
            f" WHERE ({id_where}) AND latency_ms IS NOT NULL AND {short_sql(dialect)}"
            f" GROUP BY {', '.join(str(k + 1) for k in range(n_keys + 4))}"
            f") s WHERE day IS NOT NULL GROUP BY org_id, source, {kcols}, day"
        )
        for r in conn.execute(sa.text(sql), params):
            out[i].add(tuple(r[: 2 + n_keys]), r[-2], r[-1])
    return out


def _sum_codes(code: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct codes (ascending) and the exact int64 sum of n for each."""
    order = np.argsort(code, kind="stable")
    code, n = code[order], n[order]
    start = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    return code[start], np.add.reduceat(n, start) if len(n) else n


def roll_up_sketches(conn: sa.Connection, id_where: str, params: dict[str, Any]) -> None:
    """Add the raw rows matching id_where to every grain of every sketch table.

    Before migration 0004 there are none to fill: 0004 clears the rollups and the
    watermark, so what this refresh rolls up is rolled up again, sketches included."""
    have = sa.inspect(conn)
    fams = [fam for fam in FAMILIES if have.has_table(fam.table)]
    if not fams:
        return
    for fam, counts in zip(fams, _new_counts(conn, fams, id_where, params)):
        if not counts.kid:
            continue
        kid, day, b, n = counts.arrays()
        keys = list(counts.keys)
        org_ids: dict[Any, int] = {}
        org_of = np.array([org_ids.setdefault(key[0], len(org_ids)) for key in keys], dtype="int64")[kid]
        order = np.argsort(org_of, kind="stable")
        start = np.flatnonzero(np.r_[True, org_of[order][1:] != org_of[order][:-1]])
        for sel in np.split(order, start[1:]):
            org = keys[int(kid[sel[0]])][0]
            _add_org(conn, fam, str(org), keys, kid[sel], day[sel], b[sel], n[sel])


def _add_org(
    conn: sa.Connection,
    fam: SketchFamily,
    org: str,
    keys: list[tuple[Any, ...]],
    kid: np.ndarray,
    day: np.ndarray,
    b: np.ndarray,
    n: np.ndarray,
) -> None:
    """Add one org's day counts to every grain, summed with the blocks already stored; write them back."""
    d0 = int(day.min()) - int(day.min()) % (GRAINS[-1] // DAY)  # aligned on every grain
    span = (int(day.max()) - d0) // (GRAINS[-1] // DAY) * (GRAINS[-1] // DAY) + GRAINS[-1] // DAY
    # code = ((key id · span + day − d0) << B_BITS) | (b + B_OFF): sorting codes sorts by key, block, bucket.
    code, cnt = _sum_codes(((kid * span + (day - d0)) << B_BITS) | (b + B_OFF), n)
    index = {key[1:]: k for k, key in enumerate(keys) if key[0] == org}
    per_grain = []
    for grain in GRAINS:  # each grain from the one below: doubling blocks
        g_days = grain // DAY
        block = code >> B_BITS
        k, dd = block // span, block % span
        code, cnt = _sum_codes(((k * span + dd // g_days * g_days) << B_BITS) | (code & ((1 << B_BITS) - 1)), cnt)
        per_grain.append((grain, code, cnt))
    ranges = [
        (g, d0 + int(((c >> B_BITS) % span).min()), d0 + int(((c >> B_BITS) % span).max())) for g, c, _ in per_grain
    ]
    old = _stored(conn, fam, org, ranges, index, span, d0)
    rows: list[tuple[int, int, tuple[Any, ...], bytes]] = []
    for grain, code, cnt in per_grain:
        if grain in old:
            o_code, o_cnt = old[grain]
            touched = np.isin(o_code >> B_BITS, np.unique(code >> B_BITS))  # untouched blocks stay as they are
            code, cnt = _sum_codes(np.r_[code, o_code[touched]], np.r_[cnt, o_cnt[touched]])
        block = code >> B_BITS
        start = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        ends = np.r_[start[1:], len(block)]
        bucket = (code & ((1 << B_BITS) - 1)) - B_OFF
        for i, e in zip(start.tolist(), ends.tolist()):
            kk, day_i = divmod(int(block[i]), span)
            rows.append((grain, (d0 + day_i) * DAY, keys[kk][1:], pack(bucket[i:e], cnt[i:e])))
    _write(conn, fam, org, rows)


def _stored(
    conn: sa.Connection,
    fam: SketchFamily,
    org: str,
    ranges: list[tuple[int, int, int]],
    index: dict[tuple[Any, ...], int],
    span: int,
    d0: int,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Stored blocks of one org in the day ranges [lo, hi] per grain, as (code, count) per grain.

    Blocks of keys the new rows do not have are left out (they are not touched)."""
    params: dict[str, Any] = {"o": org}
    conds = []
    for i, (g, lo, hi) in enumerate(ranges):
        params[f"g{i}"], params[f"lo{i}"], params[f"hi{i}"] = g, lo * DAY, hi * DAY
        conds.append(f"(grain = :g{i} AND t >= :lo{i} AND t <= :hi{i})")
    kcols = ", ".join(fam.key_columns)
    rows = conn.execute(
        sa.text(
            f"SELECT grain, source, {kcols}, t, sketch FROM {fam.table} WHERE org_id = :o AND ({' OR '.join(conds)})"
        ),
        params,
    ).all()
    parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for r in rows:
        k = index.get(tuple(r[1:-2]))
        if k is None:
            continue
        bb, nn = unpack(bytes(r[-1]))
        block = k * span + int(r[-2]) // DAY - d0
        parts.setdefault(int(r[0]), []).append(((np.int64(block) << B_BITS) | (bb + B_OFF), nn))
    return {g: (np.concatenate([c for c, _ in p]), np.concatenate([x for _, x in p])) for g, p in parts.items()}


def _write(
    conn: sa.Connection, fam: SketchFamily, org: str, rows: list[tuple[int, int, tuple[Any, ...], bytes]]
) -> None:
    """Upsert whole blocks: one statement (arrays) on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    kc = list(fam.key_columns)
    names = ", ".join(["org_id", "grain", "t", "source", *kc, "sketch"])
    conflict = ", ".join(["org_id", "grain", "t", "source", *kc])
    upsert = f" ON CONFLICT ({conflict}) DO UPDATE SET sketch = excluded.sketch"
    if conn.dialect.name == "postgresql":
        cols: dict[str, list[Any]] = {"grain": [r[0] for r in rows], "t": [r[1] for r in rows]}
        for i, c in enumerate(["source", *kc]):
            cols[f"k_{c}"] = [r[2][i] for r in rows]
        types = {c: "BIGINT" if isinstance(v[0], int) else "TEXT" for c, v in cols.items()}
        cols["sketch"], types["sketch"] = [r[3] for r in rows], "BYTEA"
        arrays = ", ".join(f"CAST(:{c} AS {types[c]}[])" for c in cols)
        conn.execute(
            sa.text(
                f"INSERT INTO {fam.table} ({names}) SELECT :org, u.* FROM unnest({arrays})"
                f" AS u({', '.join(cols)}){upsert}"
            ),
            {"org": org, **cols},
        )
        return
    conn.execute(
        sa.text(
            f"INSERT INTO {fam.table} ({names}) VALUES (:org, :g, :t, {', '.join(f':k{i}' for i in range(len(kc) + 1))}, :s){upsert}"
        ),
        [{"org": org, "g": g, "t": t, **{f"k{i}": v for i, v in enumerate(key)}, "s": s} for g, t, key, s in rows],
    )
