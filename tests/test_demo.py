"""Demo data: the story in the rows, determinism, --if-empty, refusals, the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa

from ai_usage.cli import main
from ingest import demo
from queries.prices import catalogue_price
from storage.engine import make_engine
from storage.schema import agents, token_usage_logs

NOW = datetime(2025, 11, 12, 16, 45, 30, tzinfo=UTC)  # spans the October DST change


def _rows(engine, org_ids) -> pd.DataFrame:
    t = token_usage_logs
    with engine.connect() as c:
        df = pd.DataFrame(c.execute(sa.select(t).where(t.c.org_id.in_(org_ids)).order_by(t.c.id)).mappings().all())
    # SQLite returns naive UTC datetimes, PostgreSQL aware ones.
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df


def _agents(engine, org_ids) -> pd.DataFrame:
    with engine.connect() as c:
        return pd.DataFrame(c.execute(sa.select(agents).where(agents.c.org_id.in_(org_ids))).mappings().all())


@pytest.fixture(scope="module")
def story(engine):
    """One generated data set for the read-only checks (3 orgs, 6000 rows, small chunks)."""
    prefix = f"story-{engine.dialect.name}-{datetime.now().timestamp():.0f}"
    rc = demo.generate(
        engine, orgs=3, days=120, rows=6000, seed=11, org_prefix=prefix, progress=False, now=NOW, chunk_rows=700
    )
    assert rc == 0
    ids = demo.org_ids(3, prefix)
    return ids, _rows(engine, ids), _agents(engine, ids)


def test_exact_row_count_and_org_split(story):
    ids, df, _ = story
    assert len(df) == 6000
    counts = df["org_id"].value_counts()
    assert counts[ids[0]] > counts[ids[1]] > counts[ids[2]] > 0  # the first org gets most rows


def test_action_types_and_agents_where_expected(story):
    _, df, _ = story
    share = df["action_type"].value_counts(normalize=True)
    assert set(share.index) == {
        "user_interaction",
        "guardrail_check",
        "title_generation",
        "rag_query_embedding",
        "document_indexing",
    }
    assert share["user_interaction"] > share["title_generation"]
    assert 0.08 < share["document_indexing"] < 0.25
    indexing = df["action_type"] == "document_indexing"
    assert df.loc[indexing, "agent_id"].isna().all()
    assert df.loc[~indexing, "agent_id"].notna().all()
    assert df.loc[df["action_type"] != "document_indexing", "user_id"].notna().all()
    assert df.loc[indexing, "user_id"].isna().any()  # nightly jobs are system-initiated


def test_interactions_bring_their_companions(story):
    _, df, _ = story
    df = df.sort_values("created_at")
    ui = df[df["action_type"] == "user_interaction"][["created_at", "agent_id", "user_id"]]
    # The interaction's own instant rides along as a right-side column: merge_asof leaves it
    # NaT where no interaction of the same agent and user lies within the tolerance.
    ui = ui.assign(interaction_at=ui["created_at"])
    # Guardrail and embedding run just before the answer, the title just after it.
    for action, before in (("guardrail_check", True), ("rag_query_embedding", True), ("title_generation", False)):
        comp = df[df["action_type"] == action][["created_at", "agent_id", "user_id"]]
        m = pd.merge_asof(
            comp,
            ui,
            on="created_at",
            by=["agent_id", "user_id"],
            direction="forward" if before else "backward",
            tolerance=pd.Timedelta(seconds=5),
        )
        # Each companion has its interaction within seconds (events are cut whole, or after the interaction).
        assert m.shape[0] > 0
        assert m["interaction_at"].notna().all(), m[m["interaction_at"].isna()].head()


def test_models_providers_and_prices(story):
    _, df, _ = story
    pairs = set(map(tuple, df[["provider", "model"]].drop_duplicates().to_numpy()))
    priced = {p for p in pairs if catalogue_price(*p) is not None}
    assert len(priced) >= 8
    assert len({p for p, _ in priced}) >= 4
    assert pairs - priced == {("selfhosted", "salamandra-7b-instruct")}  # the one without a public price
    assert df.loc[df["action_type"] == "user_interaction", "provider"].nunique() >= 4


def test_cost_from_catalogue_prices(story):
    _, df, _ = story
    rows = df[(df["model"] == "claude-haiku-4-5") & df["cost_usd"].notna()]
    assert len(rows) > 10
    # claude-haiku-4-5: $1 input, $5 output, $0.10 cache read, $1.25 cache write per MTok.
    for r in rows.head(50).itertuples():
        expected = (
            Decimal(r.input_tokens - r.cache_write_tokens) * 1
            + Decimal(r.output_tokens) * 5
            + Decimal(r.cache_read_tokens) * Decimal("0.1")
            + Decimal(r.cache_write_tokens) * Decimal("1.25")
        )
        assert Decimal(r.cost_usd) == (expected / 1_000_000).quantize(Decimal("1e-8"))


def test_byok_share_and_null_costs(story):
    _, df, _ = story
    byok = df["source"] == "byok"
    assert 0.13 < byok.mean() < 0.27
    assert df.loc[~byok, "cost_usd"].notna().all()
    null_share = df.loc[byok, "cost_usd"].isna().mean()
    assert 0.25 < null_share < 0.9


def test_cache_tokens_and_latency(story):
    _, df, _ = story
    embeds = df["action_type"].isin(["rag_query_embedding", "document_indexing"])
    assert (df.loc[embeds, ["cache_read_tokens", "cache_write_tokens", "output_tokens"]] == 0).all().all()
    no_cache = df["provider"].isin(["mistral", "selfhosted"])
    assert (df.loc[no_cache, "cache_read_tokens"] == 0).all()
    for provider in ("anthropic", "openai", "google"):
        sel = (df["provider"] == provider) & (df["action_type"] == "user_interaction")
        assert (df.loc[sel, "cache_read_tokens"] > 0).mean() > 0.3
    assert (df.loc[df["provider"] != "anthropic", "cache_write_tokens"] == 0).all()
    assert (df["cache_write_tokens"] <= df["input_tokens"]).all()
    lat = df["latency_ms"]
    assert 0 < lat.isna().mean() < 0.05
    med = df[df["action_type"] == "user_interaction"].groupby("model")["latency_ms"].median()
    assert med["gpt-4o-mini"] < med["claude-sonnet-4-5"]
    assert df.loc[embeds, "latency_ms"].median() < 1000


def test_time_story(story):
    ids, df, _ = story
    assert (df["created_at"] < NOW).all()
    assert (df["created_at"] > NOW - timedelta(days=121)).all()
    # Ids follow created_at within the run, also across chunk boundaries.
    assert df.sort_values("id")["created_at"].is_monotonic_increasing
    first = df[(df["org_id"] == ids[0]) & (df["action_type"] == "user_interaction")]
    local = first["created_at"].dt.tz_convert("Europe/Madrid")
    hours = local.dt.hour.value_counts()
    assert hours.reindex(range(10, 13), fill_value=0).sum() > 5 * hours.reindex(range(2, 5), fill_value=0).sum()
    days = local.dt.date.value_counts()
    weekday = pd.Series(pd.to_datetime(days.index).day_of_week, index=days.index)
    assert days[weekday < 5].mean() > 2 * days[weekday >= 5].mean()
    early = (local < local.min() + pd.Timedelta(days=30)).sum()
    late = (local > local.max() - pd.Timedelta(days=30)).sum()
    assert late > 1.5 * early  # growth over the months


def test_bulk_indexing_day(story):
    ids, df, _ = story
    idx = df[(df["org_id"] == ids[0]) & (df["action_type"] == "document_indexing")]
    per_day = idx.groupby(idx["created_at"].dt.tz_convert("Europe/Madrid").dt.date).size()
    assert per_day.max() > 5 * per_day.median()


def test_agents(story):
    ids, df, ag = story
    for org in ids:
        mine = ag[ag["org_id"] == org]
        assert len(mine) >= 20
        assert mine["name"].str.contains(" · ").all()
        avatars = mine["avatar_url"].dropna()
        assert 0 < len(avatars) < len(mine)
        assert avatars.str.startswith("data:image/svg+xml").all()
        used = set(df.loc[df["org_id"] == org, "agent_id"].dropna())
        assert used <= set(mine["id"])


def test_deterministic_with_a_seed(engine, org_id):
    a, b, c = f"{org_id}-a", f"{org_id}-b", f"{org_id}-c"
    for prefix, seed in ((a, 5), (b, 5), (c, 6)):
        assert (
            demo.generate(engine, orgs=1, days=40, rows=800, seed=seed, org_prefix=prefix, progress=False, now=NOW) == 0
        )
    cols = [col for col in token_usage_logs.columns.keys() if col not in ("id", "org_id", "agent_id")]  # noqa: SIM118 (names, not Columns)

    def frame(prefix):
        df = _rows(engine, [prefix])
        df["agent"] = df["agent_id"].str.removeprefix(prefix)
        return df[cols + ["agent"]].reset_index(drop=True)

    pd.testing.assert_frame_equal(frame(a), frame(b))
    assert not frame(a).equals(frame(c))


def test_refuses_orgs_with_rows_unless_replace(engine, org_id, capsys):
    assert demo.generate(engine, orgs=1, days=10, rows=300, org_prefix=org_id, progress=False, now=NOW) == 0
    assert demo.generate(engine, orgs=1, days=10, rows=300, org_prefix=org_id, progress=False, now=NOW) == 1
    assert "already have log rows" in capsys.readouterr().err
    assert len(_rows(engine, [org_id])) == 300
    assert (
        demo.generate(engine, orgs=1, days=10, rows=200, org_prefix=org_id, progress=False, now=NOW, replace=True) == 0
    )
    assert len(_rows(engine, [org_id])) == 200


@pytest.mark.parametrize(
    "kw,said",
    [
        (dict(orgs=0), "--orgs must be from 1 to 1,000 (got 0)"),
        (dict(orgs=100_000_000), "--orgs must be from 1 to 1,000 (got 100,000,000)"),
        (dict(days=0), "--days must be from 1 to 3,650 (got 0)"),
        (dict(days=100_000), "--days must be from 1 to 3,650 (got 100,000)"),
        (dict(rows=-1), "--rows must be at least 0 (got -1)"),
        (dict(org_prefix=" "), "--org-prefix must not be empty"),
        (dict(orgs=0, rows=-5), "--orgs must be from 1 to 1,000 (got 0); --rows must be at least 0 (got -5)"),
    ],
)
def test_bad_arguments(engine, kw, said, capsys):
    """Each argument at fault named with its bounds; 100 million orgs grew by ~180 MB/s before a word, and
    100,000 days (back to 1752) were written, before this said no."""
    args = dict(orgs=1, days=10, rows=10, org_prefix="never-written", progress=False) | kw
    assert demo.generate(engine, **args) == 2
    assert capsys.readouterr().err == f"demo-data: {said}.\n"
    with engine.connect() as c:
        t = token_usage_logs
        assert c.execute(sa.select(sa.func.count()).where(t.c.org_id == "never-written")).scalar() == 0


def test_tiny_and_zero_row_counts(engine, org_id):
    assert demo.generate(engine, orgs=2, days=3, rows=7, org_prefix=org_id, progress=False, now=NOW) == 0
    assert len(_rows(engine, demo.org_ids(2, org_id))) == 7
    assert demo.generate(engine, orgs=1, days=1, rows=0, org_prefix=f"{org_id}-z", progress=False, now=NOW) == 0
    assert len(_agents(engine, [f"{org_id}-z"])) >= 20


def test_if_empty_through_the_cli(fresh_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    args = ["demo-data", "--if-empty", "--orgs", "2", "--days", "20", "--rows", "900", "--no-progress"]
    assert main(args) == 0
    assert "900 rows" in capsys.readouterr().out
    assert main(args) == 0
    assert "skipped" in capsys.readouterr().out
    eng = make_engine(fresh_url)
    try:
        with eng.connect() as c:
            assert c.execute(sa.select(sa.func.count()).select_from(token_usage_logs)).scalar() == 900
            orgs = set(c.execute(sa.select(token_usage_logs.c.org_id).distinct()).scalars())
        assert orgs == {"demo", "demo-2"}
        latest = _rows(eng, ["demo", "demo-2"])["created_at"].max()
        assert latest < datetime.now(UTC)
    finally:
        eng.dispose()


def test_replace_drops_the_rollups_of_the_replaced_rows(migrated_url):
    """A private database: refreshing rollups must not depend on other tests' rows."""
    from ingest import refresh as rollups
    from storage import rollup_tables as rollup

    def rolled_up(eng, org) -> int:
        with eng.connect() as c:
            return sum(
                c.execute(sa.text(f"SELECT COUNT(*) FROM {t} WHERE org_id = :o"), {"o": org}).scalar()
                for t in rollup.TABLES
            )

    eng = make_engine(migrated_url)
    try:
        assert demo.generate(eng, orgs=2, days=10, rows=300, progress=False, now=NOW) == 0
        rollups.refresh(eng)
        assert rolled_up(eng, "demo") > 0 and rolled_up(eng, "demo-2") > 0
        assert demo.generate(eng, orgs=1, days=10, rows=200, progress=False, now=NOW, replace=True) == 0
        assert len(_rows(eng, ["demo"])) == 200
        assert rolled_up(eng, "demo") == 0 and rolled_up(eng, "demo-2") > 0  # only the replaced org
    finally:
        eng.dispose()
