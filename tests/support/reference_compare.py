"""The comparison (contract §3.2) and the users (§3.3), computed independently in plain pandas.

No `queries` code: the earlier window's dates are calendar arithmetic written out here,
its clock is the request's local wall time moved back by the same shift and read with
pandas' own zone rules (``reference.local_start``), and "cut at now" is a plain filter of
the rows (created_at before that instant). Each expectation is what the API should
answer, as plain Python (costs as exact integers of 1e-8 USD).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from . import reference as ref


def _year_back(d: date) -> date:
    if (d.month, d.day) == (2, 29):
        return date(d.year - 1, 2, 28)
    return date(d.year - 1, d.month, d.day)


def _back(d: date, mode: str, days: int) -> date:
    return d - timedelta(days=days) if mode == "previous" else _year_back(d)


def earlier(rows: pd.DataFrame, w: ref.Window, mode: str) -> tuple[pd.DataFrame, ref.Window, pd.Timestamp]:
    """(the rows the earlier window may count, the earlier window, its clock `then`).

    previous: the same number of local days just before `from`; year: the same local dates
    a year before (29 February -> 28 February). `then` is now's local wall time on the
    shifted date; rows at or after it are not counted ("so far" with "so far")."""
    days = (w.end_date - w.start_date).days + 1
    wall = w.now.tz_convert(w.timezone).tz_localize(None)
    moved = datetime.combine(_back(wall.date(), mode, days), wall.time())
    then = ref.local_start([pd.Timestamp(moved)], w.timezone)[0].tz_convert("UTC")
    win = ref.Window(
        w.timezone, _back(w.start_date, mode, days), _back(w.end_date, mode, days), w.source, w.granularity, then
    )
    return rows[rows["ts"] < then], win, then


def bounds(w: ref.Window, then: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The earlier window's `from` and `to` as the answer states them: its first local
    midnight and its end, cut at `then` when that comes first (local, with offset)."""
    a, b = ref.window_bounds(w)
    return a.tz_convert(w.timezone), min(b, then).tz_convert(w.timezone)


def users(rows: pd.DataFrame, w: ref.Window) -> list[dict]:
    """Every user of the window, ranked: cost, then executions descending, then user id
    (the rows without a user last among ties); each with its cost sparkline (e8 per bucket)."""
    d, buckets = ref.bucketed(rows, w)
    if not len(d):
        return []
    key = d["user_id"].map(lambda u: "\x00none" if u is None or u != u else str(u))
    d = d.assign(key=key)
    spark = d.groupby(["key", "bucket"])["e8"].sum().unstack("bucket").reindex(columns=buckets).fillna(0)
    out = []
    for k, g in d.groupby("key"):
        out.append(
            {
                "user_id": None if k == "\x00none" else k,
                "cost_e8": int(g["e8"].sum()),
                "tokens": int(g["tokens"].sum()),
                "executions": len(g),
                "sparkline_e8": [int(v) for v in spark.loc[k].to_numpy()],
            }
        )
    out.sort(key=lambda u: (-u["cost_e8"], -u["executions"], u["user_id"] is None, u["user_id"] or ""))
    return out


def _sum(rows: list[dict]) -> dict:
    return {k: sum(r[k] for r in rows) for k in ("cost_e8", "tokens", "executions")}


def by_user(cur: list[dict], prev: list[dict] | None, limit: int, n_buckets: int) -> dict:
    """The by-user answer from the ranked users of each window (prev None: no comparison).

    The current ranking and limit decide the rows; with a comparison each listed user gets
    its earlier totals (whatever its earlier rank), the users with usage only in the earlier
    window that are among its top `limit` follow (zeros now, a zero sparkline), and `others`
    holds everyone not listed, in each window."""
    top = cur[:limit]
    rows = [dict(u) for u in top]
    others = _sum(cur[limit:])
    if prev is not None:
        now_ids = {u["user_id"] for u in cur}
        before = {u["user_id"]: u for u in prev}
        gone = [u for u in prev[:limit] if u["user_id"] not in now_ids]
        for r in rows:
            p = before.get(r["user_id"], {"cost_e8": 0, "tokens": 0, "executions": 0})
            r.update({f"previous_{k}": p[k] for k in ("cost_e8", "tokens", "executions")})
        for g in gone:
            rows.append(
                {
                    "user_id": g["user_id"],
                    "cost_e8": 0,
                    "tokens": 0,
                    "executions": 0,
                    "sparkline_e8": [0] * n_buckets,
                    **{f"previous_{k}": g[k] for k in ("cost_e8", "tokens", "executions")},
                }
            )
        listed = {r["user_id"] for r in rows}
        others.update({f"previous_{k}": v for k, v in _sum([u for u in prev if u["user_id"] not in listed]).items()})
    return {"users": rows, "total_users": len(cur), "others": others}


def by_position(current: list[dict], before: list[dict], key=None) -> list[dict]:
    """For each current point, the earlier point of the same position (per `key`, e.g. the
    action type, in bucket order), or zeros where the earlier series is shorter."""
    seen: dict = {}
    groups: dict = {}
    for p in before:
        groups.setdefault(p.get(key) if key else None, []).append(p)
    out = []
    for p in current:
        k = p.get(key) if key else None
        i = seen.get(k, 0)
        seen[k] = i + 1
        g = groups.get(k, [])
        out.append(g[i] if i < len(g) else {"cost_e8": 0, "tokens": 0, "executions": 0})
    return out
