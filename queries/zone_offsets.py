"""Windows only where the zone's clocks are a whole number of quarter-hours off UTC (pure).

Every figure keys rows by UTC quarter-hour (queries/base.py) and converts the keys to local
time: exact wherever the zone's offset is a whole number of quarter-hours, as every IANA
zone's has been since 1 October 1979. Two had other offsets after 1970, where windows may
start (queries.filters.MIN_DATE): Africa/Monrovia was 0:44:30 behind UTC until 7 January
1972, Pacific/Kiritimati 10:40 behind until 1 October 1979. A local midnight there falls
inside a quarter-hour, and a row on the wrong side of it would count in the wrong day: such
a window is refused with a 400 naming the first day it may start on, rather than answered
inexactly. Nothing here names those zones: the offsets are read from the zone itself (every
6 hours of each UTC year a window touches, each change then found to the second).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .bad_input import BadParameter

QUARTER = 900
STEP = 6 * 3600  # offsets hold for months: none lasting under 6 hours is real

Period = tuple[int, int, int]  # [a, b) epoch seconds, and the offset (seconds) in it


def _odd(tz: ZoneInfo, t: int) -> int:
    """tz's offset at epoch second t in seconds, or 0 when it is a whole number of quarter-hours."""
    off = datetime.fromtimestamp(t, tz).utcoffset()
    s = int(off.total_seconds()) if off is not None else 0
    return s if s % QUARTER else 0


def _change(tz: ZoneInfo, lo: int, hi: int) -> int:
    """The first second in (lo, hi] whose oddness differs from lo's (it differs at hi)."""
    at_lo = bool(_odd(tz, lo))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if bool(_odd(tz, mid)) == at_lo else (lo, mid)
    return hi


@lru_cache(maxsize=4096)
def odd_periods(tz_name: str, year: int) -> tuple[Period, ...]:
    """The periods of UTC year `year` in which tz_name's offset is no whole number of
    quarter-hours, exact to the second, cut at the year's ends."""
    tz = ZoneInfo(tz_name)
    a = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    b = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    out: list[Period] = []
    prev, start = a, (a if _odd(tz, a) else None)
    for t in [*range(a + STEP, b, STEP), b]:
        odd = bool(_odd(tz, t)) if t < b else False
        if odd and start is None:
            start = _change(tz, prev, t)
        elif not odd and start is not None:
            end = _change(tz, prev, t) if t < b or _odd(tz, b - 1) == 0 else b
            out.append((start, end, _odd(tz, start)))
            start = None
        prev = t
    return tuple(out)


def check_offsets(tz_name: str, start: datetime, end: datetime, parameter: str, what: str) -> None:
    """Raise BadParameter(parameter) when tz_name's offset is no whole number of quarter-hours
    at some instant of [start − 15 min, end) (UTC): a row just after `start` is keyed by its
    quarter-hour's start, converted to local time too. The message names the first local day
    a window may start on. `what` names the window ("The window", "The earlier window")."""
    s, e = int(start.timestamp()) - QUARTER, int(end.timestamp())
    hit = [
        p
        for y in range(datetime.fromtimestamp(s, UTC).year, end.year + 1)
        for p in odd_periods(tz_name, y)
        if p[0] < e and p[1] > s
    ]
    if not hit:
        return
    stop, off = hit[-1][1], hit[-1][2]
    while True:  # a period cut at a year's end may go on into the next
        nxt = odd_periods(tz_name, datetime.fromtimestamp(stop, UTC).year)
        more = [p for p in nxt if p[0] == stop]
        if not more:
            break
        stop = more[0][1]
    local = datetime.fromtimestamp(stop + QUARTER, ZoneInfo(tz_name))  # that day's midnight, 15 min on
    first = local.date() + timedelta(days=0 if local.time() == datetime.min.time() else 1)
    raise BadParameter(
        parameter,
        f"{what} reaches a time when {tz_name}'s clocks were {_hms(off)} off UTC, not a whole number of "
        f"quarter-hours, and no figure can be exact there: in {tz_name}, windows start on "
        f"{first.isoformat()} or later.",
        "zone_offset_out_of_range",
    )


def _hms(seconds: int) -> str:
    """An offset as the zone database writes it: -0:44:30, -10:40."""
    sign = "-" if seconds < 0 else "+"
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}" + (f":{s:02d}" if s else "")
