"""A narrow user slice's rows read once and summed in numpy (queries.slice_rows), on PostgreSQL:
every question shape equals raw_facts over random slices, windows, zones, sources and
measures, hostile rows included; a committed row counts at once; a slice past MAX_ROWS reads
as before; one read serves the questions of one data stamp, a wider window reads only what
it lacks. (SQLite reads as before: the path is PostgreSQL's; the other suites' rollup cases
with a user in the slice go through it too and compare with the pandas reference.)"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from support.db import create_pg_database, drop_pg_database, insert_logs, random_row

from ingest import refresh as rollups
from queries import latency, slice_rows, summary
from queries.base import facts, facts_path, raw_facts
from queries.compare import earlier
from queries.filters import Filters
from storage.engine import make_engine, migrate
from storage.measures import MEASURES, TOKENS

pytestmark = pytest.mark.postgres

ORG = "org-narrow"
NOW = datetime(2026, 11, 20, 15, 7, 12, 345678, tzinfo=UTC)
USERS = ["u1", "u2", "u3"]
ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns", "Europe/Madrid", "Australia/Lord_Howe"]
DIMS = [(), ("provider", "model"), ("agent_id",), ("action_type",), ("user_id",), ("agent_id", "model")]


def _rows(rng: random.Random) -> list[dict]:
    out = []
    start = NOW - timedelta(days=800)
    for _ in range(2500):
        at = start + timedelta(seconds=rng.randrange(800 * 86400), microseconds=rng.randrange(10**6))
        row = random_row(ORG, at, rng, user=rng.choice([*USERS, None]), agents=("a1", "a2", "<b>x</b>", None))
        row["provider"], row["model"] = rng.choice([("openai", "gpt-4o"), ("anthropic", "claude"), ("x", "=cmd()")])
        row["action_type"] = rng.choice(["user_interaction", "rag_query", "title_generation"])
        row["source"] = rng.choice(["system", "byok", "BYOK", " system ", "other", ""])
        out.append(row)
    u1 = {"user": "u1", "agents": ("a1",)}
    hostile = [
        dict(cost_usd=9_999_999_999, input_tokens=-5, output_tokens=2**40),  # saturated
        dict(cost_usd=float("nan"), latency_ms=None),  # no cost, no latency
        dict(model="m" * 2100),  # a long row: through its own index
    ]
    for i, fixed in enumerate(hostile):
        out.append(random_row(ORG, NOW - timedelta(days=3, hours=i), rng, **u1, **fixed))
    # On a window's edges, to the microsecond (Madrid's midnight of 2026-11-01: 23:00 UTC)
    edge = datetime(2026, 10, 31, 23, tzinfo=UTC)
    for d in (-1, 0, 1):
        out.append(random_row(ORG, edge + timedelta(microseconds=d), rng, **u1))
    out.append(random_row(ORG, NOW + timedelta(minutes=3), rng, **u1))  # after now: never read
    out.append(random_row(ORG, datetime(3000, 1, 1, tzinfo=UTC), rng, **u1))
    out.append(random_row("org-other", NOW - timedelta(days=1), rng, **u1))  # another org's
    return out


@pytest.fixture(scope="module")
def pg():
    url = create_pg_database()
    eng = make_engine(url)
    migrate(eng)
    rng = random.Random(7)
    insert_logs(eng, _rows(rng)[:2000])
    rollups.refresh(eng)
    insert_logs(eng, _rows(rng)[2000:])  # the live tail: past the watermark
    with eng.begin() as c:  # NUMERIC's NaN: no cost, like NULL
        c.execute(sa.text("UPDATE token_usage_logs SET cost_usd = 'NaN' WHERE latency_ms IS NULL AND id % 7 = 0"))
    yield facts_path(eng, "rollup")
    eng.dispose()
    drop_pg_database(url)


@pytest.fixture(autouse=True)
def fresh():
    slice_rows.clear(verdicts=True)
    yield
    slice_rows.clear(verdicts=True)


@pytest.fixture
def reads(monkeypatch):
    """The slices (their user ids) of every raw read of queries.slice_rows, in order."""
    seen: list = []
    real = slice_rows._read
    monkeypatch.setattr(slice_rows, "_read", lambda c, f, s, room: seen.append(f.user_ids) or real(c, f, s, room))
    return seen


def _filters(rng: random.Random) -> Filters:
    users = tuple(sorted(rng.sample([*USERS, "none"], rng.choice([1, 1, 2]))))
    days = rng.choice([1, 7, 30, 90, 365, 500])
    end = (NOW - timedelta(days=rng.choice([0, 0, 3, 40]))).date()
    more = rng.choice(
        [{}, {"agent_ids": ("a1",)}, {"models": ("gpt-4o", "=cmd()")}, {"agent_ids": ("none", "<b>x</b>")}]
    )
    return Filters(
        org_id=ORG,
        timezone=rng.choice(ZONES),
        start_date=end - timedelta(days=days - 1),
        end_date=end,
        source=rng.choice(["all", "system", "byok", "other"]),
        now=NOW,
        user_ids=users,
        compare=rng.choice([None, "previous", "year"]),
        **more,
    )


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns), key=lambda c: c.astype(str)).reset_index(drop=True)


@pytest.mark.parametrize("seed", range(4))
def test_every_question_shape_equals_the_raw_rows(pg, seed):
    rng = random.Random(seed)
    with pg.connect() as c:
        for _ in range(40):
            f = _filters(rng)
            dims, by_qh, unpriced = rng.choice(DIMS), rng.random() < 0.6, rng.random() < 0.3
            measures = rng.choice([None, ("cost_e8",), ("cost_e8", TOKENS, "executions"), ("latency_sum",)])
            start, end = f.start_utc, f.read_end_utc
            if rng.random() < 0.3:  # a span of the caller's own (the projection's month, an anomaly's days)
                start, end = start + timedelta(minutes=rng.randrange(3000)), end - timedelta(seconds=rng.random())
            got = slice_rows.narrow_facts(c, f, dims, by_qh, start, end, unpriced, measures)
            if start >= end:  # an empty span: facts() reads it as before
                assert got is None
                continue
            want = raw_facts(c, f, dims=dims, by_qh=by_qh, start=start, end=end, unpriced=unpriced, measures=measures)
            assert got is not None, f
            assert list(got.columns) == list(want.columns)
            assert got.dtypes.equals(want.dtypes), (got.dtypes, want.dtypes)
            pd.testing.assert_frame_equal(_sorted(got), _sorted(want), obj=repr((f, dims, by_qh, unpriced, measures)))


@pytest.mark.parametrize("seed", range(2))
def test_latency_buckets_equal_the_raw_rows(pg, seed):
    """queries.latency's bucket counts: the bucket PostgreSQL gives each latency, counted per key."""
    rng = random.Random(100 + seed)
    with pg.connect() as c:
        for _ in range(25):
            f = _filters(rng)
            dims = rng.choice([("provider", "model"), ("agent_id",), ("user_id",)])
            got = slice_rows.narrow_sketch(c, f, dims, f.start_utc, f.read_end_utc)
            want = latency._raw_sketch(c, f, dims, f.start_utc, f.read_end_utc)
            assert got is not None and list(got.columns) == list(want.columns)
            pd.testing.assert_frame_equal(_sorted(got), _sorted(want), obj=repr((f, dims)))
            pct = latency.percentiles(got, dims)  # keys in order of first appearance: sorted here
            pd.testing.assert_frame_equal(_sorted(pct), _sorted(latency.percentiles(want, dims)))


def _user(user: str, days: int, tz: str = "UTC", **extra) -> Filters:
    """The last `days` local days up to NOW's, filtered to one user."""
    end = NOW.date()
    return Filters(
        org_id=ORG,
        timezone=tz,
        start_date=end - timedelta(days=days - 1),
        end_date=end,
        now=NOW,
        user_ids=(user,),
        **extra,
    )


def test_a_committed_row_counts_at_once(pg):
    f = _user("u2", 30)
    with pg.connect() as c:
        before = int(facts(c, f)["executions"].iloc[0])
    insert_logs(pg, [random_row(ORG, NOW - timedelta(hours=1), random.Random(1), user="u2")])
    with pg.connect() as c:
        after = facts(c, f)
        assert int(after["executions"].iloc[0]) == before + 1
        assert after.equals(raw_facts(c, f))
    rollups.refresh(pg)  # the row moves into the rollups: a new stamp, the same answer
    with pg.connect() as c:
        assert facts(c, f).equals(after)


def test_one_read_serves_a_stamp_and_a_wider_window_reads_only_what_it_lacks(pg, monkeypatch):
    spans = []
    real = slice_rows._read
    monkeypatch.setattr(slice_rows, "_read", lambda c, f, s, room: spans.append(s) or real(c, f, s, room))
    f = _user("u1", 90, "Asia/Kathmandu", compare="previous")
    with pg.connect() as c:
        summary(c, f)
        summary(c, earlier(f))  # the earlier window came with the first read
        facts(c, replace(f, source="system"), dims=("provider", "model"), by_qh=True)
        assert len(spans) == 1 and len(spans[0]) == 1  # one statement: both windows touch
        wider = replace(f, start_date=f.start_date - timedelta(days=200), compare=None)
        facts(c, wider)
        a = slice_rows._micros(wider.start_utc)
        assert len(spans) == 2 and spans[1] == [(a, slice_rows._micros(earlier(f).start_utc))]


def test_a_slice_past_max_rows_reads_as_before_and_is_not_tried_again(pg, monkeypatch, reads):
    monkeypatch.setattr(slice_rows, "MAX_ROWS", 50)
    f = _user("u3", 365)
    short = replace(f, start_date=f.end_date)
    with pg.connect() as c:
        assert slice_rows.narrow_facts(c, f, (), False, f.start_utc, f.read_end_utc, False, None) is None
        assert facts(c, f).equals(raw_facts(c, f))  # the rollups answer, as before
        assert slice_rows.narrow_facts(c, short, (), False, short.start_utc, short.read_end_utc, False, None) is None
        assert len(reads) == 1  # not tried again, whatever the span
        monkeypatch.setattr(slice_rows, "_NOT_NARROW", {})  # the verdict expired
        got = slice_rows.narrow_facts(c, short, (), False, short.start_utc, short.read_end_utc, False, None)
        assert got is not None and got.equals(raw_facts(c, short)) and len(reads) == 2


def test_off_by_option_and_on_sqlite_and_for_an_agent_alone(pg):
    f = _user("u1", 1)
    with pg.connect() as c:
        off = c.execution_options(**{slice_rows.OPTION: False})
        assert slice_rows.narrow_facts(off, f, (), False, f.start_utc, f.read_end_utc, False, None) is None
        agent = replace(f, user_ids=(), agent_ids=("a1",))
        assert slice_rows.narrow_facts(c, agent, (), False, f.start_utc, f.read_end_utc, False, None) is None
        assert set(MEASURES) <= set(facts(c, f).columns)
    lite = facts_path(sa.create_engine("sqlite://"), "rollup")
    with lite.connect() as c:
        assert slice_rows.narrow_facts(c, f, (), False, f.start_utc, f.read_end_utc, False, None) is None


def test_the_top_users_sparklines_skip_a_read_their_executions_show_too_long(pg, monkeypatch, reads):
    """The users' ranking knows its top users' executions (their rows in the window): past
    MAX_ROWS the sparklines' slice is marked not narrow without the read that would learn it
    (before: up to MAX_ROWS + 1 raw rows read and dropped per new set of top users); at or under
    it, the slice is read as before. The ranking is the same either way."""
    from queries.users import by_user

    f = replace(_user("u1", 365), user_ids=())  # no user filter: the page's default ranking
    with pg.connect() as c:
        off = by_user(c.execution_options(**{slice_rows.OPTION: False}), f)
        c.execution_options(**{slice_rows.OPTION: True})
        rows = int(off.users["executions"].sum())
        assert rows > 50
        monkeypatch.setattr(slice_rows, "MAX_ROWS", rows - 1)  # one row too many for a read
        got = by_user(c, f)
        assert reads == [] and pd.testing.assert_frame_equal(got.users, off.users) is None
        assert got.total_users == off.total_users and got.others == off.others
        slice_rows.clear(verdicts=True)
        monkeypatch.setattr(slice_rows, "MAX_ROWS", rows * 2)  # room enough for the window and the slack
        again = by_user(c, f)
        assert len(reads) == 1  # under the limit: read as before
        # The sparklines now come from the raw rows, which the fixture's NaN costs changed after
        # the rollups took them (tests above compare this path with raw_facts); the ranking is the rollups'.
        assert again.users.drop(columns="sparkline").equals(off.users.drop(columns="sparkline"))


def test_known_rows_marks_a_slice_only_past_max_rows(pg, monkeypatch, reads):
    monkeypatch.setattr(slice_rows, "MAX_ROWS", 50)
    f = _user("u2", 30)
    with pg.connect() as c:
        slice_rows.known_rows(c, f, 50)  # at the limit: it may still fit
        assert slice_rows._slice_key(c, f) not in slice_rows._NOT_NARROW
        slice_rows.known_rows(c, f, 51)
        assert slice_rows.narrow_facts(c, f, (), False, f.start_utc, f.read_end_utc, False, None) is None
        assert reads == []  # marked: no read
        other = _user("u3", 30)
        assert slice_rows._slice_key(c, other) not in slice_rows._NOT_NARROW  # another slice is not
