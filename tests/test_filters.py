"""parse_filters: presets, auto granularity, every refusal, and local midnights lost to DST."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from queries.filters import (
    MAX_DAYS,
    BadParameter,
    Filters,
    auto_granularity,
    local_instant,
    local_midnight,
    parse_filters,
)

UTC = UTC


def parse(now=None, **params):
    return parse_filters(params, "org-1", now=now or datetime(2026, 3, 10, 12, tzinfo=UTC))


# ------------------------------------------------------------------ presets


@pytest.mark.parametrize(
    "now,tz,preset,start,end,granularity",
    [
        # Noon UTC: the same local day in every zone but Kiritimati (+14).
        ("2026-03-10T12:00:00+00:00", "UTC", "7d", "2026-03-04", "2026-03-10", "hour"),
        ("2026-03-10T12:00:00+00:00", "UTC", "30d", "2026-02-09", "2026-03-10", "day"),
        ("2026-03-10T12:00:00+00:00", "UTC", "90d", "2025-12-11", "2026-03-10", "day"),
        ("2026-03-10T12:00:00+00:00", "UTC", "ytd", "2026-01-01", "2026-03-10", "day"),
        ("2026-03-10T12:00:00+00:00", "Pacific/Kiritimati", "7d", "2026-03-05", "2026-03-11", "hour"),
        # One second after local midnight: "today" is already the new day there...
        ("2026-03-10T18:30:01+00:00", "Asia/Kolkata", "7d", "2026-03-05", "2026-03-11", "hour"),
        ("2026-03-10T18:15:01+00:00", "Asia/Kathmandu", "30d", "2026-02-10", "2026-03-11", "day"),
        ("2026-03-08T05:00:01+00:00", "America/New_York", "7d", "2026-03-02", "2026-03-08", "hour"),
        # ...and one second before it, still the old one.
        ("2026-03-10T18:29:59+00:00", "Asia/Kolkata", "7d", "2026-03-04", "2026-03-10", "hour"),
        ("2026-03-08T04:59:59+00:00", "America/New_York", "7d", "2026-03-01", "2026-03-07", "hour"),
        # ytd on the first seconds of a year: one day; on its last: the whole (365-day) year.
        ("2026-01-01T05:00:01+00:00", "America/New_York", "ytd", "2026-01-01", "2026-01-01", "hour"),
        ("2025-12-31T18:14:59+00:00", "Asia/Kathmandu", "ytd", "2025-01-01", "2025-12-31", "week"),
        ("2025-12-31T18:15:00+00:00", "Asia/Kathmandu", "ytd", "2026-01-01", "2026-01-01", "hour"),
        ("2026-12-31T13:00:00+00:00", "Australia/Lord_Howe", "ytd", "2027-01-01", "2027-01-01", "hour"),
        ("2028-12-31T12:00:00+00:00", "UTC", "ytd", "2028-01-01", "2028-12-31", "month"),  # 366 days
        # 90 days across the New York fall-back day.
        ("2026-11-02T04:59:59+00:00", "America/New_York", "90d", "2026-08-04", "2026-11-01", "day"),
        ("2026-11-02T05:00:00+00:00", "America/New_York", "90d", "2026-08-05", "2026-11-02", "day"),
    ],
)
def test_presets(now, tz, preset, start, end, granularity):
    f = parse(now=datetime.fromisoformat(now), timezone=tz, preset=preset)
    assert (f.start_date.isoformat(), f.end_date.isoformat(), f.granularity) == (start, end, granularity)
    assert f.preset == preset and f.timezone == tz
    # The window runs to the local midnight after today, so "today so far" is inside it.
    assert f.start_utc <= datetime.fromisoformat(now) < f.end_utc


def test_default_is_30_days_utc_all_auto():
    f = parse()
    assert (f.timezone, f.source, f.requested_granularity, f.preset) == ("UTC", "all", "auto", "30d")
    assert (f.start_date, f.end_date, f.days) == (date(2026, 2, 9), date(2026, 3, 10), 30)
    assert parse(timezone="", source="", granularity="", preset="") == f  # empty means default


def test_dates_win_over_preset_and_default_source_is_callers():
    f = parse_filters({"from": "2026-01-05", "to": "2026-01-06", "preset": "7d"}, "o", default_source="system")
    assert (f.start_date, f.end_date, f.preset, f.source) == (date(2026, 1, 5), date(2026, 1, 6), None, "system")


def test_choices_are_case_and_space_insensitive():
    f = parse(preset="7D", source=" BYOK ", granularity="Week")
    assert (f.preset, f.source, f.granularity) == ("7d", "byok", "week")


def test_filters_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse().source = "byok"


# ------------------------------------------------------------------ auto granularity


@pytest.mark.parametrize(
    "days,granularity",
    [
        (1, "hour"),
        (7, "hour"),
        (8, "day"),
        (90, "day"),
        (91, "week"),
        (365, "week"),
        (366, "month"),
        (MAX_DAYS, "month"),
    ],
)
def test_auto_granularity_thresholds(days, granularity):
    assert auto_granularity(days) == granularity
    start = date(2024, 1, 1)
    f = parse(**{"from": start.isoformat(), "to": (start + timedelta(days=days - 1)).isoformat()})
    assert (f.days, f.granularity, f.requested_granularity) == (days, granularity, "auto")


@pytest.mark.parametrize("granularity", ["hour", "day", "week", "month"])
def test_explicit_granularity_is_applied(granularity):
    f = parse(**{"from": "2026-01-01", "to": "2026-03-01", "granularity": granularity})
    assert (f.granularity, f.requested_granularity) == (granularity, granularity)


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "params,parameter",
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "America/New York"}, "timezone"),
        ({"timezone": "utc"}, "timezone"),  # IANA names are case-sensitive
        ({"timezone": "localtime"}, "timezone"),  # the server's own zone is no IANA name
        ({"timezone": "+05:30"}, "timezone"),
        ({"timezone": ["UTC"]}, "timezone"),
        ({"from": "2026-1-05", "to": "2026-01-06"}, "from"),
        ({"from": "20260105", "to": "2026-01-06"}, "from"),
        ({"from": "2026-02-30", "to": "2026-03-06"}, "from"),
        ({"from": "2026-01-05", "to": "2026-13-01"}, "to"),
        ({"from": "2026-01-05", "to": "2026-01-06T00:00"}, "to"),
        ({"from": "2026-01-05", "to": "2026-01-06\n"}, "to"),
        ({"from": "２０２６-01-05", "to": "2026-01-06"}, "from"),  # full-width digits
        ({"from": "05/01/2026", "to": "2026-01-06"}, "from"),
        ({"from": "2026-01-07", "to": "2026-01-06"}, "from"),  # from after to
        ({"from": "2026-01-05"}, "to"),  # only one of the two
        ({"to": "2026-01-05"}, "from"),
        ({"from": "2023-01-01", "to": "2026-01-01"}, "from"),  # 1097 days: over 3 years
        ({"from": "1969-12-31", "to": "1970-01-01"}, "from"),  # before the epoch
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"from": "2199-12-31", "to": "2200-01-01"}, "to"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, "to"),  # its window end would overflow
        ({"preset": "14d"}, "preset"),
        ({"preset": "all"}, "preset"),
        ({"source": "both"}, "source"),
        ({"granularity": "minute"}, "granularity"),
        ({"granularity": "hour", "preset": "90d"}, None),  # 90 days of hours is allowed...
        ({"granularity": "hour", "from": "2026-01-01", "to": "2026-04-03"}, "granularity"),  # ...93 are not
    ],
)
def test_bad_parameters(params, parameter):
    if parameter is None:
        assert parse(**params).granularity == "hour"
        return
    with pytest.raises(BadParameter) as e:
        parse(**params)
    assert e.value.parameter == parameter
    assert e.value.message and e.value.code and str(e.value) == e.value.message


@pytest.mark.parametrize("text", ["2026-01-06\n", "٢٠٢٦-٠١-٠٦", "２０２６-01-06", "2026-01-0\u0666"])
def test_a_date_in_other_digits_or_with_a_newline_is_no_yyyy_mm_dd(text):
    """`\\d` takes any script's digits and `$` a trailing newline: such a text was called «not a real
    calendar date»; it is not written as YYYY-MM-DD at all."""
    with pytest.raises(BadParameter) as e:
        parse(**{"from": "2026-01-05", "to": text})
    assert e.value.parameter == "to" and "must be a date as YYYY-MM-DD" in e.value.message


@pytest.mark.parametrize(
    "start,end,ok",
    [
        ("2024-01-01", "2026-12-31", True),  # 3 calendar years with a leap day: 1096 days
        ("2025-01-01", "2027-12-31", True),  # 1095 days
        ("2025-01-01", "2028-01-01", False),  # 1096 days, but 3 years and a day
        ("2024-01-01", "2027-01-01", False),
        ("2024-02-29", "2027-02-28", True),  # from a leap day: up to the day before 1 March
        ("2024-02-29", "2027-03-01", False),
        ("2025-03-01", "2028-02-29", True),
        ("2197-01-01", "2199-12-31", True),  # the last dates offered
    ],
)
def test_three_calendar_years_is_the_limit(start, end, ok):
    if ok:
        assert parse(**{"from": start, "to": end}).granularity == "month"
    else:
        with pytest.raises(BadParameter) as e:
            parse(**{"from": start, "to": end})
        assert (e.value.parameter, e.value.code) == ("from", "window_too_long")


def test_longest_windows():
    ok = parse(**{"from": "2024-01-01", "to": "2026-12-31"})
    assert (ok.days, ok.granularity) == (MAX_DAYS, "month")
    assert parse(**{"from": "2026-01-01", "to": "2026-04-02", "granularity": "hour"}).days == 92


# ------------------------------------------------------------------ local midnights


def _transitions_at_midnight(tz: str, day: date) -> tuple[bool, bool]:
    """(midnight skipped, midnight repeated) on day in tz, checked with zoneinfo itself."""
    z = ZoneInfo(tz)
    naive = datetime.combine(day, time(0))
    readings = {naive.replace(tzinfo=z, fold=f).astimezone(UTC) for f in (0, 1)}
    skipped = all(r.astimezone(z).replace(tzinfo=None) != naive for r in readings)
    return skipped, len(readings) == 2 and not skipped


@pytest.mark.parametrize(
    "tz,day,expected",
    [
        # Midnight does not exist: the day starts when the clocks jump, at 01:00.
        ("America/Santiago", date(2026, 9, 6), "2026-09-06T01:00:00-03:00"),
        ("America/Havana", date(2026, 3, 8), "2026-03-08T01:00:00-04:00"),
        ("Africa/Cairo", date(2026, 4, 24), "2026-04-24T01:00:00+03:00"),
        ("Asia/Beirut", date(2026, 3, 29), "2026-03-29T01:00:00+03:00"),
    ],
)
def test_local_midnight_lost_to_dst(tz, day, expected):
    assert _transitions_at_midnight(tz, day) == (True, False)  # the premise holds in tzdata
    m = local_midnight(day, ZoneInfo(tz))
    assert m.tzinfo is not None and m.utcoffset() == timedelta(0)
    assert m.astimezone(ZoneInfo(tz)).isoformat() == expected
    f = parse(**{"from": day.isoformat(), "to": day.isoformat(), "timezone": tz})
    assert f.start_utc == m
    assert f.end_utc - f.start_utc == timedelta(hours=23)


@pytest.mark.parametrize(
    "tz,day,expected,hours",
    [
        # Midnight happens twice (Havana falls back from 01:00 to 00:00): the day starts at the first.
        ("America/Havana", date(2026, 11, 1), "2026-11-01T00:00:00-04:00", 25),
        # Santiago falls back from 24:00 to 23:00: Saturday has 25 hours, Sunday starts once.
        ("America/Santiago", date(2026, 4, 4), "2026-04-04T00:00:00-03:00", 25),
        ("America/Santiago", date(2026, 4, 5), "2026-04-05T00:00:00-04:00", 24),
    ],
)
def test_local_midnight_repeated_or_after_fall_back(tz, day, expected, hours):
    m = local_midnight(day, ZoneInfo(tz))
    assert m.astimezone(ZoneInfo(tz)).isoformat() == expected
    f = parse(**{"from": day.isoformat(), "to": day.isoformat(), "timezone": tz})
    assert f.end_utc - f.start_utc == timedelta(hours=hours)


@pytest.mark.parametrize(
    "tz",
    [
        "America/Santiago",
        "America/Havana",
        "Africa/Cairo",
        "Asia/Beirut",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "Pacific/Apia",
    ],
)
def test_local_midnight_is_the_first_instant_of_the_day(tz):
    """For every day of 2025-2027: the instant reads as that day, 1 µs earlier as the day before."""
    z = ZoneInfo(tz)
    d = date(2025, 1, 1)
    while d < date(2028, 1, 1):
        m = local_midnight(d, z)
        assert m.astimezone(z).date() == d, d
        assert (m - timedelta(microseconds=1)).astimezone(z).date() == d - timedelta(days=1), d
        d += timedelta(days=1)


@pytest.mark.parametrize(
    "wall,tz,expected",
    [
        (datetime(2026, 10, 4, 2, 0), "Australia/Lord_Howe", "2026-10-04T02:30:00+11:00"),  # 30-minute gap
        (datetime(2026, 10, 4, 2, 15), "Australia/Lord_Howe", "2026-10-04T02:30:00+11:00"),
        (datetime(2026, 4, 5, 1, 30), "Australia/Lord_Howe", "2026-04-05T01:30:00+11:00"),  # first of two
        (datetime(2026, 3, 8, 2, 30), "America/New_York", "2026-03-08T03:00:00-04:00"),  # inside a gap
        (datetime(2011, 12, 30, 0, 0), "Pacific/Apia", "2011-12-31T00:00:00+14:00"),  # a day that never was
        (datetime(2026, 11, 1, 1, 0), "America/New_York", "2026-11-01T01:00:00-04:00"),
    ],
)
def test_local_instant(wall, tz, expected):
    assert local_instant(wall, ZoneInfo(tz)).astimezone(ZoneInfo(tz)).isoformat() == expected


def test_window_bounds_are_local_midnights():
    f = parse(**{"from": "2026-03-08", "to": "2026-03-08", "timezone": "America/New_York"})
    assert isinstance(f, Filters)
    assert (f.start_utc.isoformat(), f.end_utc.isoformat()) == (
        "2026-03-08T05:00:00+00:00",
        "2026-03-09T04:00:00+00:00",
    )
    f = parse(**{"from": "2026-11-01", "to": "2026-11-01", "timezone": "Asia/Kathmandu"})
    assert (f.start_utc.isoformat(), f.end_utc.isoformat()) == (
        "2026-10-31T18:15:00+00:00",
        "2026-11-01T18:15:00+00:00",
    )


# ------------------------------------------------------------------ anything a client may send

_VALUE = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2026-03-08",
            "2026-11-01",
            "1970-01-01",
            "2199-12-31",
            "0001-01-01",
            "9999-12-31",
            "2026-02-29",
            "UTC",
            "America/Santiago",
            "Asia/Kathmandu",
            "hour",
            "week",
            "ytd",
            "7d",
            "byok",
            "all",
        ]
    ),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    params=st.dictionaries(
        st.sampled_from(["timezone", "from", "to", "preset", "source", "granularity"]), _VALUE, max_size=6
    ),
    now=st.datetimes(datetime(1970, 1, 2), datetime(2199, 12, 30), timezones=st.just(UTC)),
)
def test_any_input_is_filters_or_bad_parameter(params, now):
    """Whatever arrives: a Filters whose window can be computed, or a BadParameter."""
    try:
        f = parse_filters(params, "org-1", now=now)
    except BadParameter as e:
        assert e.parameter in ("timezone", "from", "to", "preset", "source", "granularity")
        return
    assert f.start_utc < f.end_utc and 1 <= f.days <= MAX_DAYS
    assert f.granularity in ("hour", "day", "week", "month")
