"""The detector's days judged together (anomaly_model.judge_full) give exactly judge()'s verdicts.

detect() judges every day with a whole history at once, as rows of 2-D arrays; judge() stays
the definition (one day, its own arrays). Held equal field by field, not approximately: a
verdict at the threshold must not flip between the two.
"""

from __future__ import annotations

import numpy as np
import pytest

from queries import anomaly_model as m


def _series(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    y = rng.gamma(2.0, 10.0, n)
    if kind == "cents":
        y = np.round(y, 2)
    elif kind == "sparse":  # most days without a row
        y[rng.random(n) < 0.6] = 0.0
    elif kind == "credits":  # days whose credits outweigh their costs
        y[rng.integers(0, n, 6)] = -rng.gamma(2.0, 20.0, 6)
    elif kind == "constant":
        y = np.full(n, 3.0)
    elif kind == "growth":
        y = y * np.exp(np.arange(n) / 60)
    elif kind == "weekends off":
        y[(np.arange(n) % 7) >= 5] = 0.0
    elif kind == "zeros":
        y = np.zeros(n)
    y[rng.integers(0, n, 3)] *= rng.choice([0.0, 6.0, 15.0])  # spikes and drops
    return y


def _fields(v: m.Verdict | None) -> tuple | None:
    return None if v is None else (v.index, v.cost, v.expected, v.scale, v.score)


KINDS = ["plain", "cents", "sparse", "credits", "constant", "growth", "weekends off", "zeros"]


@pytest.mark.parametrize("kind", KINDS)
def test_days_judged_together_equal_judge_day_by_day(kind):
    rng = np.random.default_rng(KINDS.index(kind))
    flagged = 0
    for _ in range(12):
        n = int(rng.integers(m.HISTORY_DAYS + 1, 420))
        costs = _series(rng, kind, n)
        dows = (np.arange(n) + int(rng.integers(0, 7))) % 7
        days = list(range(m.HISTORY_DAYS, n))
        together = m.judge_full(costs, dows, days)
        alone = [m.judge(costs, dows, t) for t in days]
        assert [_fields(v) for v in together] == [_fields(v) for v in alone]
        flagged += sum(v is not None and v.anomalous for v in alone)
    if kind not in ("constant", "zeros"):
        assert flagged, "the series must hold anomalies for the comparison to mean something"


def test_detect_equals_judging_each_day_also_without_a_whole_history():
    """Days with less than HISTORY_DAYS behind them (a series that starts in the window), a
    `first` past the series' start, and weekdays that are not of consecutive days all go
    through judge() one by one; detect() keeps the targets' order."""
    rng = np.random.default_rng(11)
    for case in range(30):
        n = int(rng.integers(30, 200))
        costs = _series(rng, KINDS[case % len(KINDS)], n)
        dows = (np.arange(n) + case) % 7
        if case % 5 == 4:  # a gap in the days: not a series judge_full may read
            dows = dows.copy()
            dows[n // 2 :] = (dows[n // 2 :] + 2) % 7
        first = int(rng.integers(0, 20)) if case % 3 == 0 else 0
        targets = range(int(rng.integers(0, n // 2)), n)
        one_by_one = [v for t in targets if (v := m.judge(costs, dows, t, first)) is not None and v.anomalous]
        assert [_fields(v) for v in m.detect(costs, dows, targets, first)] == [_fields(v) for v in one_by_one]


def test_consecutive_weekdays():
    assert m._consecutive(np.array([3, 4, 5, 6, 0, 1], dtype=np.int64))
    assert m._consecutive(np.array([], dtype=np.int64))
    assert not m._consecutive(np.array([3, 4, 6, 0], dtype=np.int64))  # a day missing
    assert not m._consecutive(np.array([3, 3, 4], dtype=np.int64))
    assert not m._consecutive(np.array([7, 8, 9], dtype=np.int64))  # not weekdays


def test_many_days_are_judged_in_chunks():
    """More days than CHUNK: the chunks join in order."""
    rng = np.random.default_rng(5)
    n = m.HISTORY_DAYS + 2 * m.CHUNK + 17
    costs, dows = _series(rng, "plain", n), np.arange(n) % 7
    days = list(range(m.HISTORY_DAYS, n))
    assert [_fields(v) for v in m.judge_full(costs, dows, days)] == [_fields(m.judge(costs, dows, t)) for t in days]


def test_weekday_expected_is_numpys_median():
    rng = np.random.default_rng(3)
    for n in range(0, 12):
        for _ in range(200):
            h = np.round(rng.normal(0, 50, n), int(rng.integers(0, 4)))
            h[rng.random(n) < 0.3] = 0.0  # weeks without rows
            want = float(np.median(h)) if n else 0.0
            assert m.weekday_expected(list(h)) == want
            assert m.weekday_expected(h) == want


def test_a_day_without_a_whole_history_is_refused():
    costs, dows = np.ones(100), np.arange(100) % 7
    with pytest.raises(ValueError, match="days of history"):
        m.judge_full(costs, dows, [m.HISTORY_DAYS - 1, m.HISTORY_DAYS])
    # detect() never asks it: a negative `first` still leaves such days to judge()
    assert m.detect(costs, dows, range(0, 100), first=-10) == [
        v for t in range(100) if (v := m.judge(costs, dows, t, -10)) is not None and v.anomalous
    ]


@pytest.mark.parametrize(
    "tz", ["Europe/Madrid", "America/New_York", "Asia/Kathmandu", "America/Sao_Paulo", "Pacific/Chatham", "UTC"]
)
def test_the_contributors_read_cuts_each_wanted_day_alone(tz):
    """queries.anomalies._cuts_around keeps the local midnights that start or end a wanted day:
    each wanted day is one segment [its first quarter-hour, the next day's), and every other
    segment holds no wanted day (its rows are read, keyed by an unwanted date, and dropped)."""
    from datetime import UTC, date, datetime, timedelta
    from itertools import pairwise

    from queries.anomalies import _cuts_around
    from queries.buckets import bucket_cuts
    from queries.filters import local_midnight, parse_filters

    rng = np.random.default_rng(len(tz))
    f = parse_filters({"preset": "ytd", "timezone": tz}, "org", now=datetime(2026, 12, 5, 12, tzinfo=UTC))
    for _ in range(20):
        flagged = {date(2026, 1, 1) + timedelta(days=int(d)) for d in rng.integers(60, 330, int(rng.integers(1, 15)))}
        wanted = {d - timedelta(days=7 * k) for d in flagged for k in range(9)}
        lo, hi = min(wanted), max(wanted)
        a, b = local_midnight(lo, f.tz), local_midnight(hi + timedelta(days=1), f.tz)
        every = bucket_cuts(f, by="date", start=a, end=b)  # every local midnight of [a, b)
        starts = dict(zip([lo + timedelta(days=i) for i in range(len(every) + 1)], [a.timestamp(), *every.tolist()]))
        ends = [*every.tolist(), b.timestamp()]
        kept = _cuts_around(f, a, b, np.array(sorted(wanted), dtype="datetime64[D]"))
        edges = [a.timestamp(), *kept.tolist(), b.timestamp()]
        segments = list(pairwise(edges))
        days = sorted(starts)
        for s, e in segments:
            inside = [d for i, d in enumerate(days) if starts[d] >= s and ends[i] <= e]
            if any(d in wanted for d in inside):
                assert len(inside) == 1, "a wanted day must be a segment of its own"
        assert sum(1 for s, e in segments if any(starts[d] == s for d in wanted)) == len(wanted)
        assert set(kept.tolist()) <= set(every.tolist())
