"""The anomaly detector's core, on in-memory daily series (the query and the benchmark share it).

Model (chosen by measurement, docs/anomalies.md): for a day t, the HISTORY_DAYS days before
it (8 weeks, only from the first day with data on):
- weekday factors s_k = median cost of weekday k / mean of the seven medians (multiplicative
  week; a factor is floored at FACTOR_FLOOR so that quiet weekends stay finite);
- the deseasonalised series z_i = cost_i / s_k(i) and its level at t by Theil–Sen (the
  median of pairwise slopes, and the median intercept): growth is followed, and holidays,
  spikes and drops in the history move neither the slope nor the level much;
- expected_t = level_t · s_k(t); the residuals of the history relative to their fitted
  values give a robust relative scale σ = 1.4826 · MAD; the day's scale is
  max(σ, REL_FLOOR) · max(expected_t, LEVEL_FLOOR · level_t), at least ABS_FLOOR_USD;
- score = (cost_t − expected_t) / scale (a robust z); |score| ≥ THRESHOLD is an anomaly.
Fewer than MIN_HISTORY days of history, or fewer than MIN_ACTIVE days with cost in it: no
verdict (no anomalies rather than noise).

Contributors (per agent, model or action series): the series' cost that day minus its
expected, the median of the same weekday over the CONTRIB_WEEKS weeks before (0 on days
without rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

HISTORY_DAYS = 56  # 8 weeks
MIN_HISTORY = 28  # days of history with data before a day can be judged
MIN_ACTIVE = 14  # of which with some cost
THRESHOLD = 3.5  # |robust z|
FACTOR_FLOOR = 0.05  # a weekday's factor never below 5 % of the average day
REL_FLOOR = 0.10  # the relative scale never below 10 %
LEVEL_FLOOR = 0.10  # ... of at least 10 % of the level (a quiet weekend is judged against the week)
ABS_FLOOR_USD = 0.01  # and never below a cent
CONTRIB_WEEKS = 8
MAD_K = 1.4826

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Verdict:
    index: int  # position of the day in the series
    cost: float
    expected: float
    scale: float
    score: float

    @property
    def anomalous(self) -> bool:
        return abs(self.score) >= THRESHOLD

    @property
    def direction(self) -> str:
        return "up" if self.score > 0 else "down"


def _theil_sen(x: Floats, y: Floats) -> tuple[float, float]:
    """(slope, intercept) of the Theil–Sen line through (x, y)."""
    i, j = np.triu_indices(len(x), k=1)
    dx = x[j] - x[i]
    slope = float(np.median((y[j] - y[i]) / dx)) if len(dx) else 0.0
    return slope, float(np.median(y - slope * x))


def judge(costs: Floats, dows: npt.NDArray[np.int64], t: int, first: int = 0) -> Verdict | None:
    """The verdict on day t of a contiguous daily series (costs in USD, dows 0–6), from the
    days in [max(first, t − HISTORY_DAYS), t); None without enough history."""
    lo = max(first, t - HISTORY_DAYS)
    if t - lo < MIN_HISTORY:
        return None
    y = np.asarray(costs[lo:t], dtype=float)
    if int(np.count_nonzero(y > 0)) < MIN_ACTIVE:
        return None
    d = dows[lo:t]
    med = np.array([np.median(y[d == k]) if np.any(d == k) else np.nan for k in range(7)])
    mean = float(np.nanmean(med))
    factors = np.ones(7) if mean <= 0 else np.nan_to_num(med / mean, nan=1.0)
    factors = np.maximum(factors, FACTOR_FLOOR)
    x = np.arange(lo, t, dtype=float) - t  # day t at x = 0
    z = y / factors[d]
    # Growth is multiplicative: the line is fitted to log(z + eps), eps a tenth of the typical
    # day; a day whose credits outweigh its costs (negative) weighs as a day of 0 (no NaN).
    eps = max(LEVEL_FLOOR * float(np.median(z)), ABS_FLOOR_USD)
    slope, intercept = _theil_sen(x, np.log(np.maximum(z, 0.0) + eps))
    levels = np.maximum(np.exp(intercept + slope * x) - eps, 0.0)
    level = max(float(np.exp(intercept)) - eps, 0.0)
    fitted = levels * factors[d]
    floor_i = np.maximum(LEVEL_FLOOR * levels, ABS_FLOOR_USD)
    rel = (y - fitted) / np.maximum(fitted, floor_i)
    sigma = MAD_K * float(np.median(np.abs(rel - np.median(rel))))
    expected = level * float(factors[dows[t]])
    scale = max(max(sigma, REL_FLOOR) * max(expected, LEVEL_FLOOR * level), ABS_FLOOR_USD)
    cost = float(costs[t])
    return Verdict(t, cost, expected, scale, (cost - expected) / scale)


def detect(costs: Floats, dows: npt.NDArray[np.int64], targets: range | list[int], first: int = 0) -> list[Verdict]:
    """The anomalous verdicts among the target days (ascending): judge() of each. The days with
    a whole HISTORY_DAYS of history in a series of consecutive days are judged together
    (judge_full), the others one by one."""
    costs = np.asarray(costs, dtype=float)
    ts = [int(t) for t in targets]
    full = {t for t in ts if t - HISTORY_DAYS >= max(first, 0)} if _consecutive(dows) else set()
    verdicts = dict(zip(sorted(full), judge_full(costs, dows, sorted(full)), strict=True))
    out = []
    for t in ts:
        v = verdicts[t] if t in full else judge(costs, dows, t, first)
        if v is not None and v.anomalous:
            out.append(v)
    return out


def _consecutive(dows: npt.NDArray[np.int64]) -> bool:
    """dows are the weekdays of consecutive days (each the one before plus one, mod 7)."""
    d = np.asarray(dows, dtype=np.int64)
    return bool(len(d) == 0 or (np.all((d[1:] - d[:-1]) % 7 == 1) and 0 <= d[0] < 7))


assert HISTORY_DAYS % 7 == 0, "judge_full reads the history as whole weeks"
PAIRS = np.triu_indices(HISTORY_DAYS, k=1)  # Theil–Sen's pairs of a whole history
CHUNK = 128  # days judged at once: ~1.6 MB per pairwise array of them


def judge_full(costs: Floats, dows: npt.NDArray[np.int64], ts: list[int]) -> list[Verdict | None]:
    """judge(costs, dows, t) of each t with t − HISTORY_DAYS ≥ 0, in a series of consecutive days
    (_consecutive), computed for CHUNK days at once: the same operations on rows of a 2-D array,
    so the same numbers (tests/test_anomaly_model.py holds them equal). A page of 365 days spent
    ~190 ms of CPU judging them one by one (twelve medians each), ~27 ms this way."""
    out: list[Verdict | None] = []
    for k in range(0, len(ts), CHUNK):
        out += _judge_chunk(np.asarray(costs, dtype=float), np.asarray(dows, dtype=np.int64), ts[k : k + CHUNK])
    return out


def _judge_chunk(costs: Floats, dows: npt.NDArray[np.int64], ts: list[int]) -> list[Verdict | None]:
    if not ts:
        return []
    n, t = HISTORY_DAYS, np.asarray(ts, dtype=np.int64)
    if int(t.min()) < n:  # a negative index would read the series' end as history
        raise ValueError(f"judge_full needs {n} days of history before each day")
    rows = t[:, None] - n + np.arange(n)  # each day's history, oldest first
    y, d = costs[rows], dows[rows]
    active = np.count_nonzero(y > 0, axis=1) >= MIN_ACTIVE
    # Weekday medians: day j of a history is on weekday d[:, j], and so are j + 7, j + 14, …
    by_slot = np.median(y.reshape(len(t), n // 7, 7), axis=1)
    med = np.empty_like(by_slot)
    np.put_along_axis(med, d[:, :7], by_slot, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.nanmean(med, axis=1)
        factors = np.where(mean[:, None] <= 0, 1.0, np.nan_to_num(med / mean[:, None], nan=1.0))
    factors = np.maximum(factors, FACTOR_FLOOR)
    x = np.arange(-n, 0, dtype=float)
    fd = np.take_along_axis(factors, d, axis=1)
    z = y / fd
    eps = np.maximum(LEVEL_FLOOR * np.median(z, axis=1), ABS_FLOOR_USD)[:, None]
    logz = np.log(np.maximum(z, 0.0) + eps)
    i, j = PAIRS
    slope = np.median((logz[:, j] - logz[:, i]) / (x[j] - x[i]), axis=1)[:, None]
    intercept = np.median(logz - slope * x, axis=1)[:, None]
    levels = np.maximum(np.exp(intercept + slope * x) - eps, 0.0)
    level = np.maximum(np.exp(intercept) - eps, 0.0)[:, 0]
    fitted = levels * fd
    floor_i = np.maximum(LEVEL_FLOOR * levels, ABS_FLOOR_USD)
    rel = (y - fitted) / np.maximum(fitted, floor_i)
    sigma = MAD_K * np.median(np.abs(rel - np.median(rel, axis=1)[:, None]), axis=1)
    expected = level * factors[np.arange(len(t)), dows[t]]
    scale = np.maximum(np.maximum(sigma, REL_FLOOR) * np.maximum(expected, LEVEL_FLOOR * level), ABS_FLOOR_USD)
    cost = costs[t]
    score = (cost - expected) / scale
    return [
        Verdict(int(t[r]), float(cost[r]), float(expected[r]), float(scale[r]), float(score[r])) if active[r] else None
        for r in range(len(t))
    ]


def weekday_expected(history: Sequence[float]) -> float:
    """A contributor series' expected cost: the median of the same weekday over the weeks before
    (history: its cost on t − 7, t − 14, …, zeros for days without rows). np.median's number
    (the middle value, or the two middle ones' sum halved), from a sorted list: a page's
    contributors ask it of every agent, model and action of every flagged day (~450 times for
    a year), and np.median costs ~10 µs of overhead each on eight values."""
    h = sorted(float(v) for v in history)
    if not h:
        return 0.0
    mid = len(h) // 2
    return h[mid] if len(h) % 2 else (h[mid - 1] + h[mid]) / 2
