"""Projection: the month-end cost of the month holding the window's last day, with an 80% interval."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .base import bucket_cuts, facts, local_dates
from .filters import Filters, local_midnight

MIN_POINTS = 7


@dataclass(frozen=True)
class Projection:
    status: str  # ok | insufficient_data
    daily_points: int
    month_start: date | None = None
    month_end: date | None = None
    month_to_date_usd: float | None = None
    projected_total_usd: float | None = None
    lower80: float | None = None
    upper80: float | None = None
    # Observed cost per local day with rows (date, cost_usd) and the fit over the
    # remaining days of the month (date, yhat): the dashed line of the trend chart.
    daily: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["date", "cost_usd"]))
    forecast: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["date", "yhat"]))


def daily_costs(conn, f: Filters, start: date, end: date) -> pd.DataFrame:
    """Cost (e8) and executions per local day in [start, end], days with rows only."""
    a, b = local_midnight(start, f.tz), local_midnight(end + timedelta(days=1), f.tz)
    df = facts(conn, f, by_qh=True, start=a, end=b, boundaries=bucket_cuts(f, "date", a, b))
    df["date"] = local_dates(df["qh"].to_numpy(), f.tz)
    out = df.groupby("date")[["cost_e8", "executions"]].sum().reset_index()
    return out[out["executions"] > 0].sort_values("date").reset_index(drop=True)


def projection(conn, f: Filters) -> Projection:
    """Fit OLS y = a + b·x over the window's days with rows and project to the month's end."""
    import statsmodels.api as sm
    from scipy import stats

    days = daily_costs(conn, f, f.start_date, f.end_date)
    n = len(days)
    daily = pd.DataFrame({"date": pd.to_datetime(days["date"]).dt.date, "cost_usd": days["cost_e8"] / 1e8})
    if n < MIN_POINTS:
        return Projection(status="insufficient_data", daily_points=n, daily=daily)
    to = f.end_date
    month_start = to.replace(day=1)
    month_end = to.replace(day=calendar.monthrange(to.year, to.month)[1])
    x = np.array([(d - f.start_date).days for d in daily["date"]], dtype=float)
    y = daily["cost_usd"].to_numpy(dtype=float)
    X = sm.add_constant(x, has_constant="add")
    res = sm.OLS(y, X).fit()
    future = [to + timedelta(days=i) for i in range(1, (month_end - to).days + 1)]
    m = len(future)
    xf = np.array([(d - f.start_date).days for d in future], dtype=float)
    XF = sm.add_constant(xf, has_constant="add") if m else np.zeros((0, 2))
    yhat = XF @ res.params if m else np.zeros(0)
    S = float(yhat.sum())
    sigma2 = float(res.scale)
    ones = np.ones(m)
    se = float(np.sqrt(m * sigma2 + ones @ XF @ res.cov_params() @ XF.T @ ones)) if m else 0.0
    t = float(stats.t.ppf(0.90, n - 2))
    mtd = daily_costs(conn, f, month_start, to)
    mtd_usd = int(mtd["cost_e8"].sum()) / 1e8
    return Projection(
        status="ok",
        daily_points=n,
        month_start=month_start,
        month_end=month_end,
        month_to_date_usd=mtd_usd,
        projected_total_usd=mtd_usd + float(np.clip(yhat, 0, None).sum()),
        lower80=mtd_usd + max(0.0, S - t * se),
        upper80=mtd_usd + S + t * se,
        daily=daily,
        forecast=pd.DataFrame({"date": future, "yhat": yhat}),
    )
