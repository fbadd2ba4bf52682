"""An independent computation of every figure, in plain pandas over the raw rows.

Nothing here imports `queries` helpers: rows come from a plain ``SELECT *``, instants
are pandas UTC Timestamps, local time is pandas' own ``tz_convert``, buckets are
``dt.floor`` and calendar arithmetic, the projection is numpy least squares and
scipy's t. The contract (shared/contract.md §2-3) is the only specification followed.

A window is given as plain fields (timezone name, first and last local date, source,
granularity, and the request's clock ``now``); ``Window.of(filters)`` copies them from a
Filters without using its methods. Costs are kept as exact integers of 1e-8 USD (``e8``)
until the end.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from scipy import stats

E8 = 100_000_000
# What one row counts at most (docs/figures.md, «Values out of range»), written here as the
# rule says, not imported: tokens 0..2^31-1 per column, cost within ±1,000,000 USD.
MAX_TOKENS = 2**31 - 1
MAX_COST_USD = 1_000_000
ACTIONS = ("user_interaction", "guardrail_check", "title_generation", "rag_query_embedding", "document_indexing")


@dataclass(frozen=True)
class Window:
    timezone: str
    start_date: date
    end_date: date
    source: str = "all"
    granularity: str = "day"
    now: pd.Timestamp | None = None  # UTC; None: no clock (every bucket of the window)

    @classmethod
    def of(cls, f) -> Window:
        return cls(f.timezone, f.start_date, f.end_date, f.source, f.granularity, pd.Timestamp(f.now))


# ------------------------------------------------------------------ raw rows


def _e8(value) -> int | None:
    """A cost as integer 1e-8 USD; None for no cost (NULL, or PostgreSQL's NUMERIC 'NaN')."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    d = Decimal(str(value))
    return None if d.is_nan() else int((d * E8).to_integral_value())


def load_rows(conn, org_id: str, ids: tuple[int, int] | None = None) -> pd.DataFrame:
    """Every log row of org_id (ids: only those from ids[0] to ids[1]), created_at as UTC
    Timestamps, cost as e8 (0 for NULL)."""
    where = "" if ids is None else f" AND id BETWEEN {int(ids[0])} AND {int(ids[1])}"
    res = conn.execute(sa.text(f"SELECT * FROM token_usage_logs WHERE org_id = :o{where}"), {"o": org_id})
    df = pd.DataFrame(res.mappings().all())
    if df.empty:
        df = pd.DataFrame(columns=list(res.keys()))
    # SQLite hands back UTC text, PostgreSQL aware datetimes: both become UTC Timestamps.
    df["ts"] = pd.to_datetime(
        df["created_at"].astype(str) if len(df) and isinstance(df["created_at"].iloc[0], str) else df["created_at"],
        utc=True,
        format="ISO8601",
    )
    df["cost_is_null"] = [_e8(v) is None for v in df["cost_usd"].astype(object)]
    # A row counts at most MAX_COST_USD either way and 0..MAX_TOKENS tokens per column
    # (docs/figures.md, «Values out of range»): the platform may write anything.
    bound = MAX_COST_USD * E8
    df["e8"] = [min(max(_e8(v) or 0, -bound), bound) for v in df["cost_usd"].astype(object)]
    df["latency"] = pd.to_numeric(df["latency_ms"], errors="coerce")
    for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        df[c] = [min(max(int(v), 0), MAX_TOKENS) for v in df[c]]
        df[c] = df[c].astype("int64")
    df["agent_id"] = df["agent_id"].astype(object).where(df["agent_id"].notna(), None)
    return df


def load_agents(conn, org_id: str) -> dict:
    rows = conn.execute(sa.text("SELECT id, name, avatar_url FROM agents WHERE org_id = :o"), {"o": org_id})
    return {r.id: (r.name, r.avatar_url) for r in rows}


def load_overrides(conn) -> dict:
    rows = conn.execute(
        sa.text("SELECT provider, model, input_usd_per_mtok, cache_read_usd_per_mtok FROM price_overrides")
    )
    return {(r[0], r[1]): (Decimal(str(r[2])), Decimal(str(r[3]))) for r in rows}


# ------------------------------------------------------------------ local time


def _candidates(walls, tz: str) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Both readings of naive wall times (NaT where the wall time does not exist)."""
    walls = pd.DatetimeIndex(walls).as_unit("us")
    n = len(walls)
    a = walls.tz_localize(tz, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    b = walls.tz_localize(tz, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    return a.tz_convert("UTC").tz_localize(None), b.tz_convert("UTC").tz_localize(None)


def _gap_end(walls, tz: str) -> pd.DatetimeIndex:
    """For wall times inside a DST gap: the first instant after the gap.

    pandas' nonexistent="shift_forward" overshoots 30-minute gaps (Lord Howe: 02:00 ->
    03:00), so this is "the last instant before the gap" + 1 µs instead.
    """
    walls = pd.DatetimeIndex(walls).as_unit("us")
    back = walls.tz_localize(tz, ambiguous=np.ones(len(walls), dtype=bool), nonexistent="shift_backward")
    return (back + pd.Timedelta(microseconds=1)).tz_convert("UTC").tz_localize(None)


def local_start(walls, tz: str, before=None) -> pd.DatetimeIndex:
    """The instant each naive wall time starts, in tz.

    Ambiguous (repeated) wall time: the earliest reading, or with `before` (instants) the
    latest reading not after the matching instant. Non-existent: the end of the gap.
    """
    walls = pd.DatetimeIndex(walls).as_unit("us")
    a, b = _candidates(walls, tz)
    av, bv = a.to_numpy(), b.to_numpy()  # naive UTC datetime64, NaT where missing
    if before is None:
        ok_a, ok_b = ~np.isnat(av), ~np.isnat(bv)
        pick_a = ok_a & (~ok_b | (av <= bv))
    else:
        lim = pd.DatetimeIndex(before).tz_convert("UTC").tz_localize(None).as_unit("us").to_numpy()
        ok_a, ok_b = ~np.isnat(av) & (av <= lim), ~np.isnat(bv) & (bv <= lim)
        pick_a = ok_a & (~ok_b | (av >= bv))
    out = np.where(pick_a, av, bv)
    missing = ~(ok_a | ok_b)
    if missing.any():
        out[missing] = _gap_end(walls[missing], tz).to_numpy()
    return pd.DatetimeIndex(out).tz_localize("UTC").tz_convert(tz)


def source_class(sources: pd.Series) -> pd.Series:
    """'system', 'byok' or 'other' per row: trimmed of ASCII whitespace, ASCII case folded
    (str.translate over A-Z; str.lower would also fold e.g. the Kelvin sign to 'k')."""
    ascii_lower = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    folded = sources.astype(str).str.strip(" \t\n\x0b\x0c\r").map(lambda s: s.translate(ascii_lower))
    return folded.where(folded.isin(["system", "byok"]), "other")


def window_bounds(w: Window) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[first local midnight, local midnight after the last day), as UTC Timestamps."""
    a, b = local_start([pd.Timestamp(w.start_date), pd.Timestamp(w.end_date + timedelta(days=1))], w.timezone)
    return a.tz_convert("UTC"), b.tz_convert("UTC")


def in_window(rows: pd.DataFrame, w: Window) -> pd.DataFrame:
    a, b = window_bounds(w)
    sel = rows[(rows["ts"] >= a) & (rows["ts"] < b)]
    if w.source != "all":
        sel = sel[source_class(sel["source"]) == w.source]
    sel = sel.copy()
    sel["local"] = sel["ts"].dt.tz_convert(w.timezone)
    return sel


def period_start(local: pd.Series, granularity: str, tz: str) -> pd.Series:
    """The local start of each instant's calendar period (hour, day, Monday, 1st).

    An hour is the latest instant not after the row whose wall time is the row's wall
    hour: the two 01:00 hours of a 25-hour day stay apart, while Lord Howe's repeated
    half hour (01:30-02:00) belongs to the one 01:00 hour. Days, weeks and months start
    at the first instant of their first local day.
    """
    if not len(local):
        return pd.Series([], dtype=f"datetime64[us, {tz}]", index=local.index)
    naive = local.dt.tz_localize(None)
    if granularity == "hour":
        return pd.Series(local_start(naive.dt.floor("h"), tz, before=local), index=local.index)
    day = naive.dt.normalize()
    if granularity == "week":
        day = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    elif granularity == "month":
        day = day - pd.to_timedelta(day.dt.day - 1, unit="D")
    return pd.Series(local_start(day, tz), index=local.index)


def _every_bucket(w: Window) -> list:
    """Every bucket label of the window, future ones included (built from every minute / day)."""
    tz = w.timezone
    if w.granularity == "hour":
        a, b = window_bounds(w)
        minutes = pd.Series(pd.date_range(a, b, freq="min", inclusive="left").tz_convert(tz))
        starts = period_start(minutes, "hour", tz)
    else:
        days = pd.date_range(pd.Timestamp(w.start_date), pd.Timestamp(w.end_date), freq="D")
        if w.granularity == "week":
            days = days - pd.to_timedelta(days.day_of_week, unit="D")
        elif w.granularity == "month":
            days = days - pd.to_timedelta(days.day - 1, unit="D")
        starts = pd.Series(local_start(days.unique(), tz))
    return list(pd.DatetimeIndex(starts).unique().sort_values())


def all_buckets(w: Window) -> list:
    """Every bucket label of the window that does not start after now, ascending."""
    every = _every_bucket(w)
    return every if w.now is None else [b for b in every if b <= w.now]


def partial_flags(w: Window, buckets: list) -> list[bool]:
    """Contract: a bucket is partial when its calendar period is not wholly inside
    [window start, min(window end, now)). Hours end at the next hour label (the window's
    end for the last); days, weeks and months at the local start of the next period."""
    a, b = window_bounds(w)
    upto = b if w.now is None else min(b, w.now)
    if w.granularity == "hour":
        every = _every_bucket(w)
        nxt = dict(zip(every, every[1:] + [b.tz_convert(w.timezone)]))
        ends = [nxt[x] for x in buckets]
    else:
        step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(days=7), "month": pd.DateOffset(months=1)}
        starts = [pd.Timestamp(x.date()) + step[w.granularity] for x in buckets]
        ends = list(local_start(starts, w.timezone)) if starts else []
    return [bool(x < a or e > upto) for x, e in zip(buckets, ends)]


# ------------------------------------------------------------------ figures


def _tokens(df: pd.DataFrame) -> pd.Series:
    return df["input_tokens"] + df["output_tokens"] + df["cache_read_tokens"]


def summary(rows, w: Window) -> dict:
    d = in_window(rows, w)
    return {
        "total_cost_e8": int(d["e8"].sum()),
        "total_tokens": int(_tokens(d).sum()),
        "total_input_tokens": int((d["input_tokens"] + d["cache_read_tokens"]).sum()),
        "total_output_tokens": int(d["output_tokens"].sum()),
        "total_cache_read_tokens": int(d["cache_read_tokens"].sum()),
        "executions": len(d),
    }


# Cache savings, the write premium and unpriced calls: reference_cost.py (prices over time).


_BUCKETED: dict = {}


def bucketed(rows, w: Window) -> tuple[pd.DataFrame, list]:
    """The window's rows with their bucket and tokens, and every bucket of the window.

    Memoised per (rows, window): the series with and without actions and the agents'
    sparklines of one window share it. Callers must not modify the frame.
    """
    key = (id(rows), w)
    hit = _BUCKETED.get(key)
    if hit is not None and hit[0] is rows:
        return hit[1], hit[2]
    d = in_window(rows, w)
    d["bucket"] = period_start(d["local"], w.granularity, w.timezone)
    d["tokens"] = _tokens(d)
    d["executions"] = 1
    buckets = all_buckets(w)
    # Every row in the window must land in a listed bucket (rows dated after now aside).
    assert set(d["bucket"]) <= set(_every_bucket(w)), "a row's bucket is not a bucket of the window"
    if len(_BUCKETED) > 64:
        _BUCKETED.clear()
    _BUCKETED[key] = (rows, d, buckets)
    return d, buckets


def time_series(rows, w: Window, by_action: bool = False) -> pd.DataFrame:
    """bucket, [action_type], cost_e8, tokens, executions: every bucket (x action), zero-filled."""
    d, buckets = bucketed(rows, w)
    if by_action:
        actions = list(ACTIONS) + sorted(set(d["action_type"]) - set(ACTIONS))
        index = pd.MultiIndex.from_product([buckets, actions], names=["bucket", "action_type"])
        keys = ["bucket", "action_type"]
    else:
        index, keys = pd.Index(buckets, name="bucket"), ["bucket"]
    agg = d.groupby(keys)[["e8", "tokens", "executions"]].sum()
    out = agg.reindex(index, fill_value=0).reset_index().rename(columns={"e8": "cost_e8"})
    flags = dict(zip(buckets, partial_flags(w, buckets)))
    out["partial"] = [flags[b] for b in out["bucket"]]
    return out.astype({"cost_e8": "int64", "tokens": "int64", "executions": "int64"})


def nearest_rank(values, q: int) -> float | None:
    """The exact nearest-rank q-th percentile: the value at rank ceil(q/100 · n) of the sorted values."""
    v = sorted(float(x) for x in values)
    if not v:
        return None
    rank = -(-(q * len(v)) // 100)
    return v[max(rank, 1) - 1]


def model_efficiency(rows, w: Window) -> pd.DataFrame:
    d = in_window(rows, w)
    out = []
    for (provider, model), g in d.groupby(["provider", "model"]):
        lat = g["latency"].dropna()
        out.append(
            {
                "provider": provider,
                "model": model,
                "cost_e8": int(g["e8"].sum()),
                "input_tokens": int(g["input_tokens"].sum()),
                "output_tokens": int(g["output_tokens"].sum()),
                "cache_read_tokens": int(g["cache_read_tokens"].sum()),
                "executions": len(g),
                "avg_latency_ms": float(lat.mean()) if len(lat) else None,
                **{f"p{q}_latency_ms": nearest_rank(lat, q) for q in (50, 95, 99)},
            }
        )
    return pd.DataFrame(out, columns=["provider", "model", "cost_e8"] if not out else None)


def by_agent(rows, agents: dict, w: Window) -> pd.DataFrame:
    d, buckets = bucketed(rows, w)
    out = []
    d = d.assign(key=d["agent_id"].map(lambda a: "\x00" if a is None else a))
    spark = d.groupby(["key", "bucket"])["e8"].sum().unstack("bucket").reindex(columns=buckets).fillna(0)
    for key, g in d.groupby("key"):
        agent = None if key == "\x00" else key
        out.append(
            {
                "agent_id": agent,
                "name": agents[agent][0] if agent in agents else None,
                "avatar_url": agents[agent][1] if agent in agents else None,
                "known": agent in agents,
                "cost_e8": int(g["e8"].sum()),
                "tokens": int(g["tokens"].sum()),
                "executions": len(g),
                "sparkline_e8": [int(v) for v in spark.loc[key].to_numpy()],
                "p95_latency_ms": nearest_rank(g["latency"].dropna(), 95),
            }
        )
    df = pd.DataFrame(out, columns=["agent_id", "name", "avatar_url"] if not out else None)
    for c in ("agent_id", "name", "avatar_url"):  # keep None (pandas would infer NaN)
        df[c] = pd.Series([r[c] for r in out], dtype=object)
    return df


def by_user(rows, w: Window) -> pd.DataFrame:
    """Per user (None: rows without one): cost_e8, tokens, executions, sparkline_e8 (cost per
    bucket), ranked by cost, then executions, descending, then user_id with None last."""
    d, buckets = bucketed(rows, w)
    d = d.assign(key=d["user_id"].map(lambda u: "\x00" if u is None or pd.isna(u) else u))
    spark = d.groupby(["key", "bucket"])["e8"].sum().unstack("bucket").reindex(columns=buckets).fillna(0)
    out = [
        {
            "user_id": None if key == "\x00" else key,
            "cost_e8": int(g["e8"].sum()),
            "tokens": int(g["tokens"].sum()),
            "executions": len(g),
            "sparkline_e8": [int(v) for v in spark.loc[key].to_numpy()],
        }
        for key, g in d.groupby("key")
    ]
    out.sort(key=lambda r: (-r["cost_e8"], -r["executions"], r["user_id"] is None, r["user_id"] or ""))
    df = pd.DataFrame(out, columns=["user_id", "cost_e8", "tokens", "executions", "sparkline_e8"])
    df["user_id"] = pd.Series([r["user_id"] for r in out], dtype=object)
    return df


def heatmap(rows, w: Window) -> pd.DataFrame:
    d = in_window(rows, w)
    d["dow"] = [int(t.strftime("%w")) for t in d["local"]]  # %w: Sunday = 0
    d["hour"] = d["local"].dt.hour
    d["tokens"] = _tokens(d)
    d["n"] = 1
    agg = d.groupby(["dow", "hour"])[["tokens", "e8", "n"]].sum().reset_index()
    return agg.rename(columns={"e8": "cost_e8", "n": "executions"}).sort_values(["dow", "hour"]).reset_index(drop=True)


def _midnight(day: date, tz: str) -> pd.Timestamp:
    return local_start([pd.Timestamp(day)], tz)[0].tz_convert("UTC")


def projection(rows, w: Window) -> dict:
    """Contract §3 "Projection" (v2), with numpy least squares and scipy's t."""
    tz, now = w.timezone, w.now
    today = now.tz_convert(tz).date()
    as_of = min(w.end_date, today)
    month_start = as_of.replace(day=1)
    month_end = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    d = in_window(rows, w)
    d["day"] = d["local"].dt.date
    daily = d.groupby("day")["e8"].sum().sort_index()
    daily = daily[[(day <= as_of and day != today) for day in daily.index]]
    n = len(daily)
    src = rows if w.source == "all" else rows[source_class(rows["source"]) == w.source]

    def cost(a, b) -> float:
        return int(src[(src["ts"] >= a) & (src["ts"] < b)]["e8"].sum()) / E8

    if month_end < today:
        total = cost(_midnight(month_start, tz), _midnight(month_end + timedelta(days=1), tz))
        return {
            "status": "closed",
            "daily_points": n,
            "as_of": as_of,
            "month_start": month_start,
            "month_end": month_end,
            "month_to_date_usd": total,
            "projected_total_usd": total,
            "lower80": total,
            "upper80": total,
            "daily": {day: v / E8 for day, v in daily.items()},
            "forecast": {},
        }
    if n < 7:
        return {"status": "insufficient_data", "daily_points": n, "as_of": as_of}
    x = np.array([(day - w.start_date).days for day in daily.index], dtype=float)
    y = daily.to_numpy(dtype=float) / E8
    X = np.column_stack([np.ones(n), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    sigma2 = float(resid @ resid) / (n - 2)
    cov = sigma2 * np.linalg.inv(X.T @ X)
    future = [as_of + timedelta(days=i) for i in range(1, (month_end - as_of).days + 1)]
    weights = [1.0] * len(future)
    if as_of == today:
        start, end = _midnight(today, tz), _midnight(today + timedelta(days=1), tz)
        r = (end - now) / (end - start)  # the real length of today: 23 or 25 hours on DST days
        future, weights = [today] + future, [float(r)] + weights
    m = len(future)
    wv = np.array(weights)
    XF = np.column_stack([np.ones(m), [(f - w.start_date).days for f in future]]) if m else np.zeros((0, 2))
    yhat = XF @ beta
    S = float(wv @ yhat)
    se = float(np.sqrt(float(wv @ wv) * sigma2 + wv @ XF @ cov @ XF.T @ wv)) if m else 0.0
    t = float(stats.t.ppf(0.90, n - 2))
    # Month to date: the whole month so far, also days before the window's first day.
    upto = now if as_of == today else _midnight(as_of + timedelta(days=1), tz)
    mtd = cost(_midnight(month_start, tz), upto)
    return {
        "status": "ok",
        "daily_points": n,
        "as_of": as_of,
        "month_start": month_start,
        "month_end": month_end,
        "month_to_date_usd": mtd,
        "projected_total_usd": mtd + float(wv @ np.clip(yhat, 0, None)),
        "lower80": mtd + max(0.0, S - t * se),
        "upper80": mtd + S + t * se,
        "daily": {day: v / E8 for day, v in daily.items()},
        "forecast": dict(zip(future, yhat.tolist())),
        "weights": dict(zip(future, weights)),
    }


# ------------------------------------------------------------------ the slice (contract §3.1)

SLICE_COLUMNS = {
    "agentId": "agent_id",
    "userId": "user_id",
    "provider": "provider",
    "model": "model",
    "actionType": "action_type",
}


def sliced(rows: pd.DataFrame, filters: dict) -> pd.DataFrame:
    """The rows a slice keeps: OR within a filter, AND across them; `none` matches a missing
    agent or user. filters: API name -> list of values (absent or empty: no filter)."""
    keep = pd.Series(True, index=rows.index)
    for name, values in filters.items():
        values = [v for v in values if v != ""]
        if not values:
            continue
        col = rows[SLICE_COLUMNS[name]]
        hit = col.isin([v for v in values if not (v == "none" and name in ("agentId", "userId"))])
        if "none" in values and name in ("agentId", "userId"):
            hit = hit | col.isna()
        keep &= hit.fillna(False).astype(bool)
    return rows[keep]
