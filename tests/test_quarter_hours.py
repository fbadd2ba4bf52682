"""A row's quarter-hour (storage.measures.qh_sql), the key of every rollup and every live read,
exact at the microsecond on both engines, also where a double precision epoch is not.

PostgreSQL computes it from date_part's double precision epoch (cheap) between 1902 and
2100, and from extract's NUMERIC epoch cut to whole seconds (exact, ~25 times slower a row)
outside, for a hostile row from the year 2300 or 9999: a double epoch puts 00:44:59.999999
in the next quarter-hour from June 2255 on. The rows are written in a transaction rolled back at the end (the session's
database stays as it was).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from support.api import log

from storage.measures import PG_QH_FAST_FROM, PG_QH_FAST_TO, qh_sql
from storage.schema import token_usage_logs

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def _boundaries() -> list[datetime]:
    """Quarter-hour starts: a random sample over 1902–2100 (the double precision range), its
    ends, and the years past it where a double epoch rounds (2255, 2300, 3000, 9999) or before."""
    rng = random.Random(20261205)
    lo = int((datetime.fromisoformat(PG_QH_FAST_FROM) - EPOCH).total_seconds()) // 900
    hi = int((datetime.fromisoformat(PG_QH_FAST_TO) - EPOCH).total_seconds()) // 900
    ks = {lo, lo + 1, hi - 1, hi, hi + 1, 0, -1, 1}
    ks |= {rng.randrange(lo, hi) for _ in range(3000)}
    far = [
        datetime(2255, 6, 6, 0, 45, tzinfo=UTC),
        datetime(2300, 1, 1, tzinfo=UTC),
        datetime(3000, 7, 1, 23, 45, tzinfo=UTC),
    ]
    far += [datetime(9999, 12, 31, 23, 45, tzinfo=UTC), datetime(1800, 3, 1, 0, 15, tzinfo=UTC)]
    ks |= {int((d - EPOCH).total_seconds()) // 900 for d in far}
    return [EPOCH + timedelta(seconds=900 * k) for k in sorted(ks)]


def _expected(at: datetime) -> int:
    us = (at - EPOCH) // US  # an exact integer of microseconds
    return us // 900_000_000  # Python's // floors, also before 1970


def test_every_row_is_in_its_own_quarter_hour_at_the_microsecond(engine, org_id):
    dialect = engine.dialect.name
    times = [b + d for b in _boundaries() for d in (-US, timedelta(0), US)]
    if dialect == "sqlite":  # SQLite's strftime reads years 0000–9999 as text
        times = [t for t in times if t.year >= 1000]
    with engine.connect() as c, c.begin() as tx:
        c.execute(token_usage_logs.insert(), [log(org_id, t) for t in times])
        got = (
            c.execute(
                sa.text(f"SELECT {qh_sql(dialect)} FROM token_usage_logs WHERE org_id = :o ORDER BY id"), {"o": org_id}
            )
            .scalars()
            .all()
        )
        if dialect == "postgresql":
            # Why the range: the double precision epoch alone is wrong past it.
            fast = "CAST(floor(date_part('epoch', created_at) / 900) AS BIGINT)"
            wrong = c.execute(
                sa.text(f"SELECT count(*) FROM token_usage_logs WHERE org_id = :o AND {fast} <> {qh_sql(dialect)}"),
                {"o": org_id},
            ).scalar_one()
            assert wrong > 0
            infinite = c.execute(
                sa.text(
                    f"SELECT {qh_sql(dialect)} FROM (VALUES (TIMESTAMPTZ 'infinity'), (TIMESTAMPTZ '-infinity')) v(created_at)"
                )
            ).all()
            assert infinite == [(None,), (None,)]
        tx.rollback()
    misplaced = [(t, q, _expected(t)) for t, q in zip(times, got, strict=True) if q != _expected(t)]
    assert misplaced == []
