"""queries/compare.py and queries/users.py pieces without a database: the earlier window's
dates and clock, and rows beside rows (missing keys as None or NaN, model rows without a
tokens column)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from queries import BadParameter, parse_filters
from queries.compare import beside_rows, earlier, year_back


def filters(start, end, compare, tz="UTC", now=datetime(2027, 1, 4, 12, tzinfo=UTC)):
    return parse_filters({"from": start, "to": end, "timezone": tz, "compare": compare}, "org", now=now)


@pytest.mark.parametrize(
    "start,end,mode,want",
    [
        ("2024-03-01", "2024-03-31", "previous", (date(2024, 1, 30), date(2024, 2, 29))),
        ("2024-02-29", "2024-02-29", "year", (date(2023, 2, 28), date(2023, 2, 28))),
        ("2024-02-01", "2024-02-29", "year", (date(2023, 2, 1), date(2023, 2, 28))),
        ("2025-03-01", "2025-03-01", "previous", (date(2025, 2, 28), date(2025, 2, 28))),
        ("2026-01-01", "2026-12-31", "previous", (date(2025, 1, 1), date(2025, 12, 31))),
    ],
)
def test_earlier_dates(start, end, mode, want):
    e = earlier(filters(start, end, mode))
    assert (e.start_date, e.end_date) == want and e.compare is None and e.cut_at_now


def test_earlier_is_cut_at_now_moved_back():
    now = datetime(2026, 3, 10, 3, 15, tzinfo=UTC)  # 2026-03-09 23:15 in New York (EDT since the 8th)
    f = filters("2026-03-01", "2026-03-31", "year", "America/New_York", now)
    e = earlier(f)
    assert e.now == datetime(2025, 3, 10, 3, 15, tzinfo=UTC)  # 2025-03-09 23:15 EDT too
    assert e.read_end_utc == e.now < e.end_utc
    assert f.read_end_utc == f.end_utc  # the current window is read whole, as without compare
    p = earlier(filters("2026-03-01", "2026-03-31", "previous", "America/New_York", now))
    assert p.now.astimezone(p.tz).replace(tzinfo=None) == datetime(2026, 2, 6, 23, 15)


def test_year_back_of_29_february():
    assert year_back(date(2028, 2, 29)) == date(2027, 2, 28) and year_back(date(2027, 3, 1)) == date(2026, 3, 1)


def test_before_1970_is_refused_naming_compare():
    with pytest.raises(BadParameter) as e:
        filters("1970-01-01", "1970-01-05", "previous")
    assert e.value.parameter == "compare"


def test_beside_rows_missing_keys_and_model_tokens():
    cur = pd.DataFrame({"user_id": [None, "u1"], "cost_usd": [1.0, 2.0], "tokens": [3, 4], "executions": [1, 1]})
    before = pd.DataFrame(
        {"user_id": [float("nan"), "u2"], "cost_usd": [5.0, 6.0], "tokens": [7, 8], "executions": [2, 3]}
    )
    out = beside_rows(cur, before, ["user_id"]).to_dict("records")
    assert [r["previous_cost_usd"] for r in out] == [5.0, 0.0, 6.0]
    assert (out[2]["cost_usd"], out[2]["tokens"], out[2]["previous_executions"]) == (0.0, 0, 3)
    m = pd.DataFrame(
        {"provider": ["p"], "model": ["m"], "cost_usd": [1.0], "input_tokens": [1], "output_tokens": [2]}
        | {"cache_read_tokens": [3], "executions": [1], "avg_latency_ms": [9.0]}
    )
    gone = m.assign(model="old")
    rows = beside_rows(m, pd.concat([m, gone]), ["provider", "model"]).to_dict("records")
    assert [r["previous_tokens"] for r in rows] == [6, 6]
    assert rows[1]["model"] == "old" and rows[1]["executions"] == 0 and pd.isna(rows[1]["avg_latency_ms"])
