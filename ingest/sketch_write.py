"""Sketch writes: add raw rows, chosen by id ranges, to every grain of the latency sketches.

Called by rollup_write.roll_up inside the refresh's one transaction (same id ranges,
same lock, same watermark move: a row is counted exactly once, late rows and gap rows
too). SQL counts the new rows per (org, source, key, UTC day, bucket), one text line of
"bucket,count,…" per day; numpy adds the days into every grain's blocks and into the
blocks already stored, and each touched block is written back whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.measures import qh_sql
from storage.sketch import DAY, FAMILIES, GRAINS, SketchFamily, bucket_sql, pack, unpack
from storage.sources import source_class_sql

PG_QH_FAST = "CAST(floor(date_part('epoch', created_at) / 900) AS BIGINT)"  # as rollup_write's (it imports us)


def _day_sql(dialect: str) -> str:
    # The UTC day of created_at, floored also before 1970 (% truncates towards zero);
    # PostgreSQL: the double-precision quarter-hour of rollup_write (exact, 3× faster).
    qh = PG_QH_FAST if dialect == "postgresql" else qh_sql(dialect)
    return f"(({qh}) - ((({qh}) % 96) + 96) % 96) / 96"


def _new_counts(conn: sa.Connection, fam: SketchFamily, id_where: str, params: dict[str, Any]) -> pd.DataFrame:
    """The new rows' bucket counts: columns org_id, source, *key_columns, day, b, n."""
    dialect = conn.dialect.name
    agg = (
        "string_agg(CAST(b AS TEXT) || ',' || CAST(n AS TEXT), ',')"
        if dialect == "postgresql"
        else ("group_concat(b || ',' || n, ',')")
    )
    keys = ", ".join(f"{v} AS {c}" for c, v in zip(fam.key_columns, fam.key_values))
    kcols = ", ".join(fam.key_columns)
    sql = (
        f"SELECT org_id, source, {kcols}, day, {agg} FROM ("
        f"SELECT org_id, {source_class_sql(dialect)} AS source, {keys}, {_day_sql(dialect)} AS day,"
        f" {bucket_sql()} AS b, COUNT(*) AS n FROM token_usage_logs"
        f" WHERE ({id_where}) AND latency_ms IS NOT NULL GROUP BY 1, 2, {', '.join(str(i + 3) for i in range(len(fam.key_columns) + 2))}"
        f") s WHERE day IS NOT NULL GROUP BY org_id, source, {kcols}, day"
    )
    rows = conn.execute(sa.text(sql), params).all()
    cols = ["org_id", "source", *fam.key_columns, "day"]
    if not rows:
        return pd.DataFrame(columns=[*cols, "b", "n"])
    head = pd.DataFrame([tuple(r[:-1]) for r in rows], columns=cols)
    texts = [r[-1] for r in rows]
    pairs = np.array(",".join(texts).split(","), dtype="int64").reshape(-1, 2)
    per_row = np.array([t.count(",") + 1 for t in texts], dtype="int64") // 2
    out = head.loc[head.index.repeat(per_row)].reset_index(drop=True)
    out["b"], out["n"] = pairs[:, 0], pairs[:, 1]
    return out


def _stored(conn: sa.Connection, fam: SketchFamily, org: str, grain: int, lo: int, hi: int) -> pd.DataFrame:
    """Stored blocks of one org and grain with lo <= t <= hi, exploded to (key…, t, b, n)."""
    kcols = ", ".join(fam.key_columns)
    rows = conn.execute(
        sa.text(
            f"SELECT source, {kcols}, t, sketch FROM {fam.table}"
            " WHERE org_id = :o AND grain = :g AND t >= :lo AND t <= :hi"
        ),
        {"o": org, "g": grain, "lo": lo, "hi": hi},
    ).all()
    cols = ["source", *fam.key_columns, "t"]
    parts = []
    for r in rows:
        b, n = unpack(bytes(r[-1]))
        part = pd.DataFrame({"b": b, "n": n})
        for c, v in zip(cols, r[:-1]):
            part[c] = v
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*cols, "b", "n"])


def roll_up_sketches(conn: sa.Connection, id_where: str, params: dict[str, Any]) -> None:
    """Add the raw rows matching id_where to every grain of every sketch table.

    Before migration 0004 there are none to fill: 0004 clears the rollups and the
    watermark, so what this refresh rolls up is rolled up again, sketches included."""
    have = sa.inspect(conn)
    for fam in FAMILIES:
        if not have.has_table(fam.table):
            continue
        new = _new_counts(conn, fam, id_where, params)
        if not len(new):
            continue
        key = ["source", *fam.key_columns]
        for org, part in new.groupby("org_id", sort=False):
            cur = part[key].assign(
                t=part["day"].to_numpy(dtype="int64") * DAY, b=part["b"].to_numpy(), n=part["n"].to_numpy()
            )
            for grain in GRAINS:  # each grain from the one below: doubling blocks, fewer rows each time
                cur = cur.assign(t=(cur["t"].to_numpy(dtype="int64") // grain) * grain)
                cur = cur.groupby([*key, "t", "b"], sort=False)["n"].sum().reset_index()
                lo, hi = int(cur["t"].min()), int(cur["t"].max())
                stored = _stored(conn, fam, str(org), grain, lo, hi)
                _write(conn, fam, str(org), grain, cur, stored, key)


def _write(conn, fam: SketchFamily, org: str, grain: int, new: pd.DataFrame, stored: pd.DataFrame, key) -> None:
    """Upsert the blocks the new counts touch, each summed with what it already held."""
    summed = new
    if len(stored):
        touched = new[[*key, "t"]].drop_duplicates()
        old = stored.merge(touched, on=[*key, "t"])  # blocks the new rows do not touch stay as they are
        both = pd.concat([new, old[[*key, "t", "b", "n"]]], ignore_index=True)
        for c in ("t", "b", "n"):
            both[c] = both[c].astype("int64")
        summed = both.groupby([*key, "t", "b"], sort=False)["n"].sum().reset_index()
    summed = summed.sort_values([*key, "t", "b"], kind="stable")
    cols = ["org_id", "grain", "t", "source", *fam.key_columns, "sketch"]
    summed = summed.reset_index(drop=True)
    heads = summed[[*key, "t"]]
    start = np.flatnonzero(heads.ne(heads.shift()).any(axis=1).to_numpy())
    ends = np.r_[start[1:], len(summed)]
    b, n = summed["b"].to_numpy(dtype="int64"), summed["n"].to_numpy(dtype="int64")
    first = heads.iloc[start].to_dict("records")
    records = [
        {
            **{c: (v.item() if hasattr(v, "item") else v) for c, v in h.items()},
            "org_id": org,
            "grain": grain,
            "sketch": pack(b[i:j], n[i:j]),
        }
        for h, i, j in zip(first, start, ends)
    ]
    if not records:
        return
    names = ", ".join(cols)
    conflict = ", ".join(["org_id", "grain", "t", "source", *fam.key_columns])
    conn.execute(
        sa.text(
            f"INSERT INTO {fam.table} ({names}) VALUES ({', '.join(':' + c for c in cols)})"
            f" ON CONFLICT ({conflict}) DO UPDATE SET sketch = excluded.sketch"
        ),
        records,
    )
