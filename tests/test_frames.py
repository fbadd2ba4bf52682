"""The facts frame built from the driver's rows, the users' ranking order and the measures a read sums (no database).

Both were rewritten for speed (numpy instead of Python's transposition and pandas' four-key
sort): these tests hold them to the plain definitions on hostile values — NULL users, ids
that differ only by a trailing NUL, text that looks like numbers, ties everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from queries.base import frame
from queries.users import _ranked
from storage.measures import MEASURES, measure_names

COLS = ["qh", "user_id", "cost_e8", "executions"]


def test_integer_rows_become_int64_columns_and_extra_columns_are_left_out():
    rows = [(10, 5, 1, 99), (11, 7, 2, 99)]  # a trailing version column past cols
    df = frame(rows, ["qh", "cost_e8", "executions"])
    assert list(df.columns) == ["qh", "cost_e8", "executions"]
    assert all(df.dtypes == "int64")
    assert df.to_dict("list") == {"qh": [10, 11], "cost_e8": [5, 7], "executions": [1, 2]}


def test_a_null_past_the_columns_read_does_not_matter():
    df = frame([(1, 2, None), (3, 4, None)], ["qh", "cost_e8"])
    assert df.to_dict("list") == {"qh": [1, 3], "cost_e8": [2, 4]} and all(df.dtypes == "int64")


def test_text_dims_stay_objects_whole_and_none_stays_none():
    big = 2**62
    rows = [(1, "abc", big, 1), (2, None, 0, 2), (3, "12", -5, 3), (4, "a\x00", 7, 4)]
    df = frame(rows, COLS, ("user_id",))
    assert df["user_id"].dtype == object
    assert df["user_id"].tolist() == ["abc", None, "12", "a\x00"]
    assert df["cost_e8"].tolist() == [big, 0, -5, 7] and df["cost_e8"].dtype == "int64"
    assert df["qh"].dtype == "int64" and df["executions"].tolist() == [1, 2, 3, 4]


def test_no_rows_is_an_empty_frame_of_the_right_types():
    df = frame([], COLS, ("user_id",))
    assert len(df) == 0 and df["user_id"].dtype == object and df["cost_e8"].dtype == "int64"


ids = st.one_of(st.none(), st.sampled_from(["a", "a\x00", "b", "B", "ä", "10", "9", "", " a"]), st.text(max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ids, st.integers(0, 3), st.integers(1, 2)), max_size=40, unique_by=lambda r: r[0]))
def test_the_ranking_is_cost_then_executions_descending_then_id_with_no_user_last(users):
    totals = pd.DataFrame(
        {
            "user_id": pd.Series([u for u, _c, _e in users], dtype=object),
            "cost_e8": np.array([c for _u, c, _e in users], dtype="int64"),
            "tokens": np.array([10 * c for _u, c, _e in users], dtype="int64"),
            "executions": np.array([e for _u, _c, e in users], dtype="int64"),
        }
    )
    expected = sorted(users, key=lambda r: (-r[1], -r[2], r[0] is None, r[0] or ""))
    got = _ranked(totals)
    assert got["user_id"].tolist() == [u for u, _c, _e in expected]
    assert got["cost_e8"].tolist() == [c for _u, c, _e in expected]
    assert got["tokens"].tolist() == [10 * c for _u, c, _e in expected]
    assert list(got.index) == list(range(len(users)))


def test_a_subset_of_measures_keeps_their_order_adds_executions_and_refuses_unknown_names():
    """Every part of a statement (rollup rows, raw rows, negatives) is summed in this order:
    UNION ALL matches columns by position, so the order is MEASURES', whatever was asked."""
    assert measure_names(None) == MEASURES
    assert measure_names(["latency_sum", "cost_e8"]) == ["cost_e8", "executions", "latency_sum"]
    assert measure_names(()) == ["executions"]
    with pytest.raises(ValueError, match="cost_usd"):
        measure_names(["cost_usd"])
