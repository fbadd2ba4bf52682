"""The «Acumulado» view (a burn-down): month-to-date cumulative cost and the projection to month end.

For the month of the projection's asOf: the actual cumulative cost at the end of each local
day from the 1st up to asOf (at `now` for today, so its last value is monthToDateUsd), then,
when the projection is `ok`, the cumulative forecast at the end of each forecast day with
its 80 % band: monthToDateUsd + Projection.band(the forecast days up to that one), so the
month's last point is exactly (projectedTotalUsd, lower80, upper80).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from .budget import month_bounds
from .filters import Filters
from .projection import Projection, daily_costs


@dataclass(frozen=True)
class BurnDown:
    month_start: date
    month_end: date
    status: str  # the projection's: ok | closed | insufficient_data
    # at: the local wall-clock instant (naive) the cumulative cost is counted up to; cum_usd.
    actual: pd.DataFrame
    # at (end of each forecast day, naive local), cum_usd (Σ max(ŷ, 0)), lower80, upper80.
    forecast: pd.DataFrame


def burn_down(conn: sa.Connection, f: Filters, p: Projection) -> BurnDown | None:
    """The burn-down of p's month under f's org, source and slice; None when p has no asOf."""
    bounds = month_bounds(p)
    if bounds is None:
        return None
    start, end = bounds
    last = min(p.as_of or end, end)
    days = daily_costs(conn, f, start, last)
    per_day = {pd.Timestamp(d).date(): int(c) for d, c in zip(days["date"], days["cost_e8"])}
    now_local = f.now.astimezone(f.tz).replace(tzinfo=None)
    at: list[datetime] = [datetime.combine(start, datetime.min.time())]
    cum: list[float] = [0.0]
    total = 0
    d = start
    while d <= last:
        total += per_day.get(d, 0)
        ends = datetime.combine(d + timedelta(days=1), datetime.min.time())
        at.append(min(ends, now_local) if d == f.today else ends)
        cum.append(total / 1e8)
        d += timedelta(days=1)
    if p.status in ("ok", "closed") and p.month_to_date_usd is not None:
        cum[-1] = p.month_to_date_usd  # the card's figure, to the cent (it also counts up to now)
    actual = pd.DataFrame({"at": at, "cum_usd": cum})
    forecast = pd.DataFrame(columns=["at", "cum_usd", "lower80", "upper80"])
    if p.status == "ok" and p.month_to_date_usd is not None and len(p.forecast):
        mtd = p.month_to_date_usd
        dates, weights = list(p.forecast["date"]), list(p.forecast["weight"])
        rows = []
        for k in range(1, len(dates) + 1):
            clipped, low, high = p.band(dates[:k], weights[:k])
            rows.append(
                (
                    datetime.combine(dates[k - 1] + timedelta(days=1), datetime.min.time()),
                    mtd + clipped,
                    mtd + low,
                    mtd + high,
                )
            )
        forecast = pd.DataFrame(rows, columns=["at", "cum_usd", "lower80", "upper80"])
    return BurnDown(start, end, p.status, actual, forecast)
