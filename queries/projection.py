"""Projection (v2): the cost of the month holding asOf = min(to, today), with an 80% interval.

Days after today are not data, and today is not over: the fit uses the window's days up
to asOf except today; today's remaining share is forecast with the days left in the
month. A window in a past month answers that month's actual total ("closed").
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa

from .base import facts
from .buckets import bucket_cuts, local_dates
from .filters import Filters, local_midnight

MIN_POINTS = 7

# The fit: x origin, coefficients (a, b), their covariance, σ̂² and t.
Fit = tuple[date, npt.NDArray[np.float64], npt.NDArray[np.float64], float, float]


@dataclass(frozen=True)
class Projection:
    status: str  # ok | closed | insufficient_data
    daily_points: int
    month_start: date | None = None
    month_end: date | None = None
    month_to_date_usd: float | None = None
    projected_total_usd: float | None = None
    lower80: float | None = None
    upper80: float | None = None
    # Observed cost per local day that is a fitting point (date, cost_usd) and the fit over
    # the forecast days (date, yhat, weight): weight 1 for whole days, r < 1 for the rest
    # of today.
    daily: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["date", "cost_usd"]))
    forecast: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["date", "yhat", "weight"]))
    as_of: date | None = None
    # The fit (status ok): x origin, coefficients (a, b), their covariance, σ̂² and t, so
    # that any group of forecast days gets its sum and 80 % interval the contract's way.
    fit: Fit | None = field(default=None, compare=False, repr=False)

    def band(self, dates: Sequence[date], weights: Sequence[float]) -> tuple[float, float, float]:
        """(Σ w·max(ŷ, 0), lower, upper) over these forecast days: the same formulas as the
        month's interval (lower = max(0, S − t·se), upper = S + t·se, S = Σ w·ŷ)."""
        assert self.fit is not None, "band() needs the fit of an ok projection"
        t = self.fit[4]
        clipped, S, se = self.moments(dates, weights)
        return clipped, max(0.0, S - t * se), S + t * se

    def moments(self, dates: Sequence[date], weights: Sequence[float]) -> tuple[float, float, float]:
        """(Σ w·max(ŷ, 0), S = Σ w·ŷ, se) over these forecast days: the sum of their costs is
        predicted as S + se·T with T Student's t of `dof` degrees of freedom (contract §3)."""
        assert self.fit is not None, "moments() needs the fit of an ok projection"
        origin, beta, cov, sigma2, _t = self.fit
        w = np.asarray(weights, dtype=float)
        X = np.column_stack([np.ones(len(w)), [(d - origin).days for d in dates]]) if len(w) else np.zeros((0, 2))
        yhat = X @ beta
        se = float(np.sqrt(float(w @ w) * sigma2 + w @ X @ cov @ X.T @ w)) if len(w) else 0.0
        return float(w @ np.clip(yhat, 0, None)), float(w @ yhat), se

    @property
    def dof(self) -> int:
        """Degrees of freedom of the predictive t (n − 2, n the fitting points)."""
        return self.daily_points - 2


def daily_costs(conn: sa.Connection, f: Filters, start: date, end: date) -> pd.DataFrame:
    """Cost (e8) and executions per local day in [start, end], days with rows only."""
    if end < start:
        return pd.DataFrame(
            {
                "date": pd.Series(dtype="datetime64[s]"),
                "cost_e8": pd.Series(dtype="int64"),
                "executions": pd.Series(dtype="int64"),
            }
        )
    a, b = local_midnight(start, f.tz), local_midnight(end + timedelta(days=1), f.tz)
    df = facts(conn, f, by_qh=True, start=a, end=b, boundaries=bucket_cuts(f, "date", a, b), measures=("cost_e8",))
    df["date"] = local_dates(df["qh"].to_numpy(), f.tz)
    out = df.groupby("date")[["cost_e8", "executions"]].sum().reset_index()
    return out[out["executions"] > 0].sort_values("date").reset_index(drop=True)


def cost_between(conn: sa.Connection, f: Filters, start: datetime, end: datetime) -> float:
    """Actual cost (USD, exact to 1e-8) of f's org and source in [start, end)."""
    if end <= start:
        return 0.0
    df = facts(conn, f, start=start, end=end, measures=("cost_e8",))
    return (int(df["cost_e8"].sum()) if len(df) else 0) / 1e8


def remaining_share(f: Filters) -> float:
    """r: the share of today's local length still to come at f.now (23- and 25-hour days
    measured as they are), in (0, 1]."""
    a, b = local_midnight(f.today, f.tz), local_midnight(f.today + timedelta(days=1), f.tz)
    return (b - f.now).total_seconds() / (b - a).total_seconds()


class OLSFit:
    """statsmodels' OLS fit (method "pinv", the default) of y = a + b·x: params (a, b),
    cov_params (the parameters' covariance) and scale (the residual variance).

    The same operations as `statsmodels.api.OLS(y, add_constant(x)).fit()`, on statsmodels'
    own pseudo-inverse (`statsmodels.tools.tools.pinv_extended`), so the floats are the same
    (tests/test_projection_fit.py compares them bit for bit) — without importing
    `statsmodels.api`, which loads every model and scipy.stats: ~86 MB more resident memory
    in every worker process, and seconds of import on a cold start (docs/operations.md,
    «Memory per worker»)."""

    def __init__(self, x: npt.ArrayLike, y: npt.ArrayLike) -> None:
        from statsmodels.tools.tools import pinv_extended

        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        X = np.column_stack([np.ones(x.shape[0]), x])  # add_constant: the constant first
        pinv, singular = pinv_extended(X)
        self.params = np.dot(pinv, y)
        rank = np.linalg.matrix_rank(np.diag(singular))
        resid = y - np.dot(X, self.params)
        self.scale = np.dot(resid, resid) / (float(X.shape[0]) - rank)
        self.cov_params = np.dot(pinv, np.transpose(pinv)) * self.scale


def t_quantile(q: float, dof: float) -> float:
    """Student's t quantile: scipy.stats.t.ppf(q, dof), which is scipy.special.stdtrit(dof, q)
    (without importing scipy.stats: see OLSFit)."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, q))


def t_survival(x: float, dof: float) -> float:
    """P(T > x) for Student's t: scipy.stats.t.sf(x, dof), which is scipy.special.stdtr(dof, -x)."""
    from scipy.special import stdtr

    return float(stdtr(dof, -x))


def projection(conn: sa.Connection, f: Filters) -> Projection:
    """Contract §3 "Projection": closed, insufficient_data, or OLS y = a + b·x to month end."""
    today = f.today
    as_of = min(f.end_date, today)
    month_start = as_of.replace(day=1)
    month_end = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    last_point = as_of if as_of < today else as_of - timedelta(days=1)  # today is not over
    days = daily_costs(conn, f, f.start_date, last_point)
    n = len(days)
    daily = pd.DataFrame({"date": pd.to_datetime(days["date"]).dt.date, "cost_usd": days["cost_e8"] / 1e8})
    if month_end < today:  # the window lies in a past month: its total is known
        total = cost_between(
            conn, f, local_midnight(month_start, f.tz), local_midnight(month_end + timedelta(days=1), f.tz)
        )
        return Projection(
            status="closed",
            daily_points=n,
            month_start=month_start,
            month_end=month_end,
            month_to_date_usd=total,
            projected_total_usd=total,
            lower80=total,
            upper80=total,
            daily=daily,
            as_of=as_of,
        )
    if n < MIN_POINTS:
        return Projection(status="insufficient_data", daily_points=n, daily=daily, as_of=as_of)
    x = np.array([(d - f.start_date).days for d in daily["date"]], dtype=float)
    y = daily["cost_usd"].to_numpy(dtype=float)
    res = OLSFit(x, y)
    future = [as_of + timedelta(days=i) for i in range(1, (month_end - as_of).days + 1)]
    weights = [1.0] * len(future)
    if as_of == today:  # the rest of today is forecast too, for its remaining share
        future, weights = [today] + future, [remaining_share(f)] + weights
    w = np.array(weights, dtype=float)
    XF = (
        np.column_stack([np.ones(len(future)), [(d - f.start_date).days for d in future]])
        if future
        else np.zeros((0, 2))
    )
    yhat = XF @ res.params if future else np.zeros(0)
    S = float(w @ yhat)
    sigma2 = float(res.scale)
    se = float(np.sqrt(float(w @ w) * sigma2 + w @ XF @ res.cov_params @ XF.T @ w)) if future else 0.0
    t = t_quantile(0.90, n - 2)
    end = f.now if as_of == today else local_midnight(as_of + timedelta(days=1), f.tz)
    mtd = cost_between(conn, f, local_midnight(month_start, f.tz), end)
    return Projection(
        status="ok",
        daily_points=n,
        month_start=month_start,
        month_end=month_end,
        month_to_date_usd=mtd,
        projected_total_usd=mtd + float(w @ np.clip(yhat, 0, None)),
        lower80=mtd + max(0.0, S - t * se),
        upper80=mtd + S + t * se,
        daily=daily,
        forecast=pd.DataFrame({"date": future, "yhat": yhat, "weight": w}),
        as_of=as_of,
        fit=(f.start_date, np.asarray(res.params, dtype=float), np.asarray(res.cov_params, dtype=float), sigma2, t),
    )
