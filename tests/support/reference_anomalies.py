"""An independent pandas computation of the anomalies' figures (contract §3.3, docs/anomalies.md):
each row's local day by tz_convert, sums per day and series, the contributors' definition
(the day's cost minus the median of the same weekday over the 8 weeks before, zeros where a
series has no rows; in the anomaly's direction; largest |delta| first, ties agent, model,
action, then id; at most 5)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

KINDS = (("agent", "agent_id"), ("model", "model"), ("action", "action_type"))


def _frame(rows: list[dict], tz: str) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["day"] = pd.to_datetime(df["created_at"]).dt.tz_localize("UTC").dt.tz_convert(tz).dt.date
    df["cost"] = df["cost_usd"].map(float)
    return df


def daily_costs(rows: list[dict], tz: str) -> dict[date, float]:
    return _frame(rows, tz).groupby("day")["cost"].sum().to_dict()


def contributors(rows: list[dict], tz: str, day: date, direction: str) -> list[dict]:
    df = _frame(rows, tz)
    weeks = [day - timedelta(days=7 * k) for k in range(1, 9)]
    found = []
    for order, (kind, col) in enumerate(KINDS):
        key = df[col].map(lambda v: "\0none" if v is None or pd.isna(v) else v)
        per = df.assign(key=key).groupby(["key", "day"])["cost"].sum().unstack(fill_value=0.0)
        for k, row in per.iterrows():
            history = [float(row.get(w, 0.0)) for w in weeks]
            delta = float(row.get(day, 0.0)) - float(pd.Series(history).median())
            if (delta > 0) if direction == "up" else (delta < 0):
                ident = None if k == "\0none" else k
                found.append((-abs(delta), order, ident or "", {"kind": kind, "id": ident, "deltaUsd": delta}))
    found.sort(key=lambda r: r[:3])
    return [pytest_approx(r[3]) for r in found[:5]]


def pytest_approx(c: dict) -> dict:
    import pytest

    return {**c, "deltaUsd": pytest.approx(c["deltaUsd"], abs=1e-6)}
