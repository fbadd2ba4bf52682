"""Filters: parse and validate the window parameters once, into a frozen object."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from storage.schema import ACTION_TYPES

from .bad_input import BadParameter as BadParameter, quoted, single  # BadParameter: callers import it from here
from .zone_offsets import check_offsets

PRESETS = ("7d", "30d", "90d", "ytd")
COMPARES = ("previous", "year")  # contract §3.2: the earlier window (queries/compare.py)
SOURCES = ("all", "system", "byok")
GRANULARITIES = ("auto", "hour", "day", "week", "month")
MAX_YEARS = 3  # "a range over 3 years" is refused
MAX_DAYS = MAX_YEARS * 365 + 1  # the longest MAX_YEARS calendar years
MAX_HOURLY_DAYS = 92  # hourly buckets beyond a quarter would be tens of thousands of points
# Dates the engines and pandas bucket exactly (no negative epochs, no datetime overflow at
# a window's end); the API documents the same range (api/openapi.py).
MIN_DATE, MAX_DATE = date(1970, 1, 1), date(2199, 12, 31)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits (\d takes any script's), whole text
# The slice (contract §3.1): (Filters field, API parameter, log column). `none` in a
# nullable column's filter matches its NULL rows.
SLICE = (
    ("agent_ids", "agentId", "agent_id"),
    ("user_ids", "userId", "user_id"),
    ("providers", "provider", "provider"),
    ("models", "model", "model"),
    ("action_types", "actionType", "action_type"),
)
NULLABLE = ("agent_id", "user_id")
SINGLE = ("timezone", "preset", "from", "to", "source", "granularity", "compare")  # each given once
NONE = "none"
MAX_VALUES, MAX_VALUE_CHARS = 50, 200


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    # "localtime" (a Debian symlink to /etc/localtime) is no IANA name: it would make the
    # answer depend on the server's own zone.
    return (frozenset(available_timezones()) - {"localtime", "posixrules"}) | {"UTC"}


def zone(name: str) -> ZoneInfo:
    """Return the IANA zone called name, or raise BadParameter."""
    if not isinstance(name, str) or name not in _zones():
        raise BadParameter(
            "timezone", f"Unknown timezone {quoted(name)}: use an IANA name such as Europe/Madrid.", "invalid_timezone"
        )
    return ZoneInfo(name)


@lru_cache(maxsize=1 << 16)  # every bucket edge of every answer asks for these: a few thousand days per zone
def local_midnight(d: date, tz: ZoneInfo) -> datetime:
    """The first instant of local day d, in UTC (a midnight lost to DST maps to the gap's end)."""
    return local_instant(datetime.combine(d, time(0)), tz)


def local_instant(naive: datetime, tz: ZoneInfo) -> datetime:
    """The first instant, in UTC, at which tz's clocks read `naive` (a repeated wall time:
    its first reading; one lost to DST: the end of the gap)."""
    utc = naive.replace(tzinfo=tz).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == naive:
        return utc
    # A non-existent wall time (e.g. a DST gap at 00:00): it starts when the gap ends,
    # the instant the clocks jump. fold=1 reads it before the jump, fold=0 after: bisect
    # between them (stepping by the wall-clock difference overshoots a time inside a gap).
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo_s, hi_s = math.floor(min(lo, utc).timestamp()), math.ceil(max(lo, utc).timestamp())
    after = utc.astimezone(tz).utcoffset()

    def jumped(s: int) -> bool:
        return datetime.fromtimestamp(s, UTC).astimezone(tz).utcoffset() == after

    while hi_s - lo_s > 1:  # tz transitions fall on whole seconds
        mid = (lo_s + hi_s) // 2
        lo_s, hi_s = (lo_s, mid) if jumped(mid) else (mid, hi_s)
    return datetime.fromtimestamp(hi_s, UTC)


@dataclass(frozen=True)
class Filters:
    """One validated question: whose rows, which local window, which source, which buckets."""

    org_id: str
    timezone: str
    start_date: date  # local, inclusive
    end_date: date  # local, inclusive ("to")
    source: str = "all"
    granularity: str = "day"  # the applied one: hour | day | week | month
    requested_granularity: str = "auto"
    preset: str | None = None
    # The request's clock (aware, UTC): one instant per request, so that "today", the
    # bucket in progress and the projection agree with each other. parse_filters sets it
    # (tests pass a fixed one); a Filters built by hand reads the clock once, here.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The slice: sorted distinct values, () = no filter (OR within one, AND across them).
    agent_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    action_types: tuple[str, ...] = ()
    # The comparison (contract §3.2): None, "previous" or "year"; queries.compare.earlier(f)
    # is the earlier window, whose rows are read up to its (moved back) now: cut_at_now.
    compare: str | None = None
    cut_at_now: bool = False

    @property
    def slice_items(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(log column, values) of each filter applied."""
        return tuple((col, getattr(self, name)) for name, _, col in SLICE if getattr(self, name))

    @property
    def slice_dims(self) -> frozenset[str]:
        """The log columns the slice filters on."""
        return frozenset(col for col, _ in self.slice_items)

    @property
    def slice_echo(self) -> dict[str, list[str]]:
        """The filters applied, by API name (the answers' `filters`)."""
        return {api: list(getattr(self, name)) for name, api, _ in SLICE if getattr(self, name)}

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.start_date, self.tz)

    @property
    def end_utc(self) -> datetime:
        """Exclusive end of the window: local midnight after `to`."""
        return local_midnight(self.end_date + timedelta(days=1), self.tz)

    @property
    def read_end_utc(self) -> datetime:
        """Where reading rows stops: end_utc, or min(end_utc, now) with cut_at_now."""
        return min(self.end_utc, self.now) if self.cut_at_now else self.end_utc

    @property
    def today(self) -> date:
        """The local date of `now`."""
        return self.now.astimezone(self.tz).date()

    @property
    def until_utc(self) -> datetime:
        """The end of the window up to now: min(end_utc, now)."""
        return min(self.end_utc, self.now)

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def with_source(self, source: str) -> Filters:
        return replace(self, source=source)


def auto_granularity(days: int) -> str:
    if days <= 7:
        return "hour"
    if days <= 90:
        return "day"
    if days <= 365:
        return "week"
    return "month"


def _within_years(start: date, end: date, years: int) -> bool:
    """[start, end] spans at most `years` calendar years: end is before the same calendar
    day `years` later (29 February: 1 March when that year has none). Compared as tuples,
    so that dates near 9999-12-31 cannot overflow."""
    y = start.year + years
    limit = (y, 3, 1) if (start.month, start.day) == (2, 29) and not calendar.isleap(y) else (y, start.month, start.day)
    return (end.year, end.month, end.day) < limit


def _parse_date(value: str, parameter: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise BadParameter(
            parameter, f"{parameter!r} must be a date as YYYY-MM-DD, got {quoted(value)}.", "invalid_date"
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(
            parameter, f"{parameter!r} is not a real calendar date: {quoted(value)}.", "invalid_date"
        ) from None


def _choice(params: Mapping[str, Any], name: str, allowed: Collection[str], default: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        return default
    value = str(value).strip().lower()
    if value not in allowed:
        raise BadParameter(
            name, f"Unknown {name} {quoted(params.get(name))}: use one of {', '.join(allowed)}.", f"invalid_{name}"
        )
    return value


def _slice_values(params: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The distinct values of one repeatable filter (sorted), validated; "" counts as absent."""
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist is not None else params.get(name)
    if raw is None:
        return ()
    values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if len(values) > MAX_VALUES:
        raise BadParameter(name, f"At most {MAX_VALUES} values of {name!r}; got {len(values)}.", "too_many_values")
    out = set()
    for v in values:
        if not isinstance(v, str) or "\x00" in v:  # PostgreSQL text holds no NUL: it would be a 500
            raise BadParameter(name, f"{name!r} values must be strings without NUL characters.", f"invalid_{name}")
        if len(v) > MAX_VALUE_CHARS:
            raise BadParameter(name, f"{name!r} values are at most {MAX_VALUE_CHARS} characters.", "value_too_long")
        if v == "":
            continue
        if name == "actionType" and v not in ACTION_TYPES:
            raise BadParameter(
                name, f"Unknown actionType {quoted(v)}: use one of {', '.join(ACTION_TYPES)}.", "invalid_actionType"
            )
        out.add(v)
    return tuple(sorted(out))


def parse_filters(
    params: Mapping[str, Any], org_id: str, *, now: datetime | None = None, default_source: str = "all"
) -> Filters:
    """Validate request parameters into Filters; raise BadParameter on anything wrong."""
    for name in SINGLE:
        single(params, name)  # given twice with different values: 400
    tz_name = params.get("timezone") or "UTC"
    tz = zone(tz_name)
    source = _choice(params, "source", SOURCES, default_source)
    requested = _choice(params, "granularity", GRANULARITIES, "auto")
    raw_from, raw_to = params.get("from") or None, params.get("to") or None
    preset = None
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if raw_from or raw_to:
        if not (raw_from and raw_to):
            missing = "to" if raw_from else "from"
            raise BadParameter(missing, "'from' and 'to' go together: give both dates or neither.", "incomplete_window")
        start, end = _parse_date(raw_from, "from"), _parse_date(raw_to, "to")
        if start < MIN_DATE:
            raise BadParameter("from", f"Dates start at {MIN_DATE.isoformat()}.", "date_out_of_range")
        if end > MAX_DATE:
            raise BadParameter("to", f"Dates end at {MAX_DATE.isoformat()}.", "date_out_of_range")
        if start > end:
            raise BadParameter("from", f"'from' ({start}) is after 'to' ({end}).", "invalid_window")
    else:
        preset = _choice(params, "preset", PRESETS, "30d")
        today = now.astimezone(tz).date()
        end = today
        start = date(today.year, 1, 1) if preset == "ytd" else today - timedelta(days=int(preset[:-1]) - 1)
    days = (end - start).days + 1
    if not _within_years(start, end, MAX_YEARS):
        raise BadParameter(
            "from", f"The window spans {days} days; at most {MAX_YEARS} years are allowed.", "window_too_long"
        )
    applied = auto_granularity(days) if requested == "auto" else requested
    if applied == "hour" and days > MAX_HOURLY_DAYS:
        raise BadParameter(
            "granularity",
            f"Hourly buckets are offered for windows up to {MAX_HOURLY_DAYS} days; "
            f"this one spans {days}. Choose day, week or month.",
            "too_many_buckets",
        )
    compare = _choice(params, "compare", COMPARES, "") or None
    out = Filters(
        org_id=org_id,
        timezone=tz_name,
        start_date=start,
        end_date=end,
        source=source,
        granularity=applied,
        requested_granularity=requested,
        preset=preset,
        now=now,
        compare=compare,
        **{fld: _slice_values(params, api) for fld, api, _ in SLICE},  # type: ignore[arg-type]
    )
    check_offsets(tz_name, out.start_utc, out.end_utc, "from" if raw_from else "preset", "The window")
    if compare is not None:
        from .compare import check_earlier  # compare builds on this module

        check_earlier(out)
    return out
