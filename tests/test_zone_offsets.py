"""Zones once no whole number of quarter-hours off UTC (queries/zone_offsets.py).

Every figure keys rows by UTC quarter-hour: exact where a zone's offset is a whole number
of quarter-hours. Africa/Monrovia (-0:44:30 until 1972-01-07) and Pacific/Kiritimati
(-10:40 until 1979-10-01) were not, and a window there put a row just before a local
midnight in the next day. Such windows are a 400 naming the first day a window may start
on; the first day allowed is exact, on both engines and both paths.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from support import reference as ref
from support.api import auth, log
from support.db import insert_logs, on_both_paths

from ingest import refresh as rollups
from queries import heatmap, summary, time_series
from queries.filters import BadParameter, parse_filters
from queries.zone_offsets import odd_periods

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ZONES = [
    "Africa/Monrovia",
    "Pacific/Kiritimati",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "Australia/Eucla",
    "America/New_York",
    "Asia/Kolkata",
    "UTC",
]


def _epoch(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


@pytest.mark.parametrize("tz_name", ZONES)
def test_odd_periods_are_exactly_the_instants_of_odd_offsets(tz_name):
    """Every 10 minutes of the years around the changes (and one recent year): an instant is in
    a period iff the zone's offset there is no whole number of quarter-hours."""
    tz = ZoneInfo(tz_name)
    for year in (1970, 1971, 1972, 1978, 1979, 1980, 2026):
        periods = odd_periods(tz_name, year)
        a, b = _epoch(year, 1, 1), _epoch(year + 1, 1, 1)
        for t in range(a, b, 600):
            off = datetime.fromtimestamp(t, tz).utcoffset().total_seconds()
            inside = any(p0 <= t < p1 for p0, p1, _ in periods)
            assert inside == bool(off % 900), (tz_name, datetime.fromtimestamp(t, UTC))


def test_the_changes_are_found_to_the_second():
    (a, b, off), *rest = odd_periods("Africa/Monrovia", 1972)
    assert not rest and (a, b, off) == (_epoch(1972, 1, 1), _epoch(1972, 1, 7, 0, 44, 30), -2670)
    (a, b, off), *rest = odd_periods("Pacific/Kiritimati", 1979)
    assert not rest and (a, b, off) == (_epoch(1979, 1, 1), _epoch(1979, 10, 1, 10, 40), -38400)
    assert odd_periods("Pacific/Kiritimati", 1980) == () and odd_periods("Asia/Kathmandu", 1986) == ()


def _parse(tz: str, start: str, end: str, **more) -> object:
    return parse_filters({"from": start, "to": end, "timezone": tz, **more}, "o", now=NOW)


@pytest.mark.parametrize(
    "tz,start,end,first",
    [
        ("Africa/Monrovia", "1970-01-01", "1970-01-31", "1972-01-08"),
        ("Africa/Monrovia", "1971-12-20", "1972-02-10", "1972-01-08"),
        # 1972-01-07 starts at the change, 00:44:30 UTC: its first quarter-hour began before it.
        ("Africa/Monrovia", "1972-01-07", "1972-01-31", "1972-01-08"),
        ("Pacific/Kiritimati", "1975-03-01", "1975-03-01", "1979-10-02"),
        ("Pacific/Kiritimati", "1978-06-01", "1979-10-01", "1979-10-02"),
    ],
)
def test_a_window_reaching_an_odd_offset_is_refused_naming_its_first_day(tz, start, end, first):
    with pytest.raises(BadParameter) as e:
        _parse(tz, start, end)
    assert (e.value.parameter, e.value.code) == ("from", "zone_offset_out_of_range")
    assert f"windows start on {first} or later" in e.value.message and tz in e.value.message
    f = _parse(tz, first, (date.fromisoformat(first) + timedelta(days=30)).isoformat())
    assert f.start_date.isoformat() == first


def test_other_zones_and_dates_are_untouched():
    for tz in ZONES:
        if tz not in ("Africa/Monrovia", "Pacific/Kiritimati"):
            _parse(tz, "1970-01-01", "1970-12-31")
        _parse(tz, "1980-01-01", "1982-12-31")
        parse_filters({"preset": "ytd", "timezone": tz}, "o", now=NOW)


def test_an_earlier_window_reaching_an_odd_offset_is_refused_on_compare():
    with pytest.raises(BadParameter) as e:
        _parse("Africa/Monrovia", "1972-01-08", "1972-02-07", compare="previous")
    assert (e.value.parameter, e.value.code) == ("compare", "zone_offset_out_of_range")
    assert "The earlier window" in e.value.message and "1972-01-08" in e.value.message
    with pytest.raises(BadParameter) as e:
        _parse("Pacific/Kiritimati", "1980-01-01", "1980-01-31", compare="year")
    assert e.value.parameter == "compare"
    assert _parse("Africa/Monrovia", "1973-01-08", "1973-01-31", compare="year").compare == "year"


def test_the_api_answers_400_naming_the_parameter(client, org_id):
    q = {"from": "1971-06-01", "to": "1971-06-30", "timezone": "Africa/Monrovia"}
    r = client.get("/ai/org-usage/time-series", query_string=q, headers=auth(org_id))
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert (err["parameter"], err["code"]) == ("from", "zone_offset_out_of_range")
    assert "1972-01-08" in err["message"]
    q = {"from": "1972-01-08", "to": "1972-01-31", "timezone": "Africa/Monrovia", "compare": "previous"}
    r = client.get("/ai/org-usage/summary", query_string=q, headers=auth(org_id))
    assert r.status_code == 400 and r.get_json()["error"]["parameter"] == "compare"


def test_the_first_day_allowed_is_exact_on_both_paths(engine, org_id):
    """Rows a second either side of the change and of the first allowed midnights: every day,
    hour and heatmap cell equals the reference, from the raw rows and from the rollups."""
    change = datetime(1972, 1, 7, 0, 44, 30, tzinfo=UTC)
    first = datetime(1972, 1, 8, tzinfo=UTC)  # Monrovia's midnight, on GMT since the change
    s = timedelta(seconds=1)
    times = [change - s, change, change + s, first - s, first, first + s, first + timedelta(hours=23, minutes=59)]
    times += [first + timedelta(days=1) + d for d in (-s, timedelta(0), s)]
    insert_logs(engine, [log(org_id, t, cost=0.25 * (i + 1), inp=10 + i) for i, t in enumerate(times)])
    rollups.refresh(engine)
    with engine.connect() as c:
        rows = ref.load_rows(c, org_id)
    for granularity in ("day", "hour"):
        f = parse_filters(
            {"from": "1972-01-08", "to": "1972-01-09", "timezone": "Africa/Monrovia", "granularity": granularity},
            org_id,
            now=NOW,
        )
        w = ref.Window.of(f)
        want = ref.time_series(rows, w)
        for got in on_both_paths(engine, time_series, f):
            assert [pd.Timestamp(b).isoformat() for b in got["bucket"]] == [
                pd.Timestamp(b).isoformat() for b in want["bucket"]
            ]
            assert list(got["executions"]) == list(want["executions"])
            assert [round(c * 1e8) for c in got["cost_usd"]] == list(want["cost_e8"])
        assert int(want["executions"].sum()) == 6  # first - s and everything before are out
        for got in on_both_paths(engine, summary, f):
            assert int(got["executions"].iloc[0]) == 6
        want_h = ref.heatmap(rows, w)
        for got in on_both_paths(engine, heatmap, f):
            assert list(zip(got["dow"], got["hour"], got["executions"])) == list(
                zip(want_h["dow"], want_h["hour"], want_h["executions"])
            )


def test_the_page_says_why_in_its_own_words():
    from callbacks.common import PARAM_MESSAGES, message

    assert "zone_offset_out_of_range" in PARAM_MESSAGES
    assert "cuartos de hora" in message("zone_offset_out_of_range")
