"""The comparison (contract §3.2): the earlier window of a question, and its figures beside the current ones.

`earlier(f)` is f moved back: `previous` by the window's own number of local days (the
same number of days just before `from`), `year` by one calendar year (29 February → 28
February). Its clock (`now`) moves back by the same shift, so a window that ends after
now is compared with the earlier window cut at the same point: "so far" with "so far"
(`cut_at_now`: its rows are read up to its now, its buckets end there). The earlier
window keeps f's applied granularity, source and slice; it has no comparison of its own.
`check_earlier` refuses a comparison whose earlier window would start before 1970, or reach
a time when the zone's offset was no whole number of quarter-hours (queries/zone_offsets.py).

`align_points` puts bucket i of the earlier series beside bucket i of the current one
(by position: an earlier bucket past the current series' end is dropped, a current
bucket with no earlier one compares with 0); `beside_rows` puts each key's earlier
totals beside its current ones (a key only in the earlier window appears with zeros).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from .buckets import bucket_flags, window_buckets
from .filters import MIN_DATE, BadParameter, Filters, local_instant
from .zone_offsets import check_offsets

PREVIOUS_COLUMNS = {"cost_usd": "previous_cost_usd", "tokens": "previous_tokens", "executions": "previous_executions"}


def year_back(d: date) -> date:
    """The same local date one year earlier; 29 February → 28 February."""
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February of a leap year
        return d.replace(year=d.year - 1, day=28)


def _shift(f: Filters) -> Callable[[date], date]:
    if f.compare == "previous":
        days = timedelta(days=f.days)
        return lambda d: d - days
    if f.compare == "year":
        return year_back
    raise ValueError(f"compare {f.compare!r}")


def earlier(f: Filters) -> Filters | None:
    """The earlier window of f (None without a comparison)."""
    if f.compare is None:
        return None
    shift = _shift(f)
    wall = f.now.astimezone(f.tz).replace(tzinfo=None)
    then = local_instant(datetime.combine(shift(wall.date()), wall.time()), f.tz)
    return replace(
        f,
        start_date=shift(f.start_date),
        end_date=shift(f.end_date),
        now=then,
        preset=None,
        compare=None,
        cut_at_now=True,
    )


def check_earlier(f: Filters) -> None:
    """Raise BadParameter("compare") when f's earlier window would start before MIN_DATE, or
    reach a time of the zone's no whole quarter-hour offsets (queries/zone_offsets.py)."""
    before = earlier(f)
    if before is None:
        return
    if before.start_date < MIN_DATE:
        raise BadParameter(
            "compare",
            f"The earlier window would start on {before.start_date.isoformat()}; dates start at "
            f"{MIN_DATE.isoformat()}.",
            "date_out_of_range",
        )
    check_offsets(before.timezone, before.start_utc, before.end_utc, "compare", "The earlier window")


def align_points(current: pd.DataFrame, before: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
    """current with previous_cost_usd, previous_tokens, previous_executions: the earlier
    series' bucket of the same position (per key, e.g. action_type, in bucket order), 0
    where the earlier series is shorter."""
    out = current.copy()
    cur_pos = out.groupby(list(keys), sort=False).cumcount() if keys else pd.Series(range(len(out)), index=out.index)
    b = before.reset_index(drop=True)
    b_pos = b.groupby(list(keys), sort=False).cumcount() if keys else pd.Series(range(len(b)))
    lookup = {(*(row[k] for k in keys), int(pos)): row for pos, row in zip(b_pos, b.to_dict("records"), strict=True)}
    cur_rows = out.to_dict("records")
    for col, prev in PREVIOUS_COLUMNS.items():
        zero = 0.0 if col == "cost_usd" else 0
        out[prev] = [
            lookup.get((*(r[k] for k in keys), int(p)), {}).get(col, zero)
            for r, p in zip(cur_rows, cur_pos, strict=True)
        ]
    out["previous_cost_usd"] = out["previous_cost_usd"].astype("float64")
    for c in ("previous_tokens", "previous_executions"):
        out[c] = out[c].astype("int64")
    return out


def beside_rows(current: pd.DataFrame, before: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """current's rows with previous_cost_usd, previous_tokens, previous_executions of the
    same key in `before`; keys only in `before` are appended with zeros for every current
    measure (and None for descriptive columns), after the current rows, by earlier cost."""
    keys = list(keys)

    def key_of(r: dict[Any, Any]) -> tuple[Any, ...]:
        # A missing key (no agent, no user) is None however the frame holds it (None or NaN).
        return tuple(None if pd.isna(r[k]) else r[k] for k in keys)

    prev = {key_of(r): {**r, "tokens": _tokens(r)} for r in before.to_dict("records")}
    rows = current.to_dict("records")
    seen = set()
    for r in rows:
        k = key_of(r)
        seen.add(k)
        p = prev.get(k, {})
        r["previous_cost_usd"] = float(p.get("cost_usd", 0.0))  # cost_e8 / 1e8: exact to the cent
        r["previous_tokens"] = int(p.get("tokens", 0))
        r["previous_executions"] = int(p.get("executions", 0))
    gone = [p for k, p in prev.items() if k not in seen]
    gone.sort(key=lambda p: -float(p["cost_usd"]))  # stable: the earlier frame's tie order
    for p in gone:
        r = {c: _zero_like(c) for c in current.columns}
        for c in current.columns:
            if c in keys or c in ("name", "avatar_url", "provider", "model"):
                r[c] = None if pd.isna(p.get(c)) else p.get(c)
        r["previous_cost_usd"] = float(p["cost_usd"])
        r["previous_tokens"] = int(p["tokens"])
        r["previous_executions"] = int(p["executions"])
        rows.append(r)
    cols = list(current.columns) + list(PREVIOUS_COLUMNS.values())
    return pd.DataFrame(rows, columns=cols)


def _tokens(r: dict[Any, Any]) -> int:
    """A row's tokens: its own column, else input + output + cache read (model rows)."""
    if "tokens" in r:
        return int(r["tokens"])
    return int(r["input_tokens"]) + int(r["output_tokens"]) + int(r["cache_read_tokens"])


def zero_sparklines(rows: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """rows with every missing sparkline (a row only in the earlier window) as zeros, one
    per bucket of f's window up to now, and its sparkline_partial_last as f's last bucket's."""
    if "sparkline" not in rows.columns or not len(rows):
        return rows
    out = rows.copy()
    buckets = window_buckets(f)
    last = bool(len(buckets)) and bool(bucket_flags(f, buckets)[0][-1])
    missing = [s is None for s in out["sparkline"]]
    out["sparkline"] = [[0.0] * len(buckets) if m else s for m, s in zip(missing, out["sparkline"], strict=True)]
    if "sparkline_partial_last" in out.columns:
        col = out["sparkline_partial_last"].astype(object)
        out["sparkline_partial_last"] = [last if m else v for m, v in zip(missing, col, strict=True)]
    return out


ZERO_MEASURES = ("cost_usd", "cost_e8", "tokens", "executions", "input_tokens", "output_tokens", "cache_read_tokens")


def _zero_like(col: str) -> float | int | None:
    """A current measure of a row with no current usage: 0 for sums and counts, None for
    the rest (latencies, a sparkline: the caller fills it with its bucket count of zeros)."""
    if col == "cost_usd":
        return 0.0
    return 0 if col in ZERO_MEASURES else None
