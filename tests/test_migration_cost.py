"""Migration 0005 on a database that already has prices and rollups: prices kept, rollups
cleared with their watermark (the next refresh rebuilds them), one always-row per model,
and back down to 0004 (dated rows cannot be kept there)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from support.db import downgrade, upgrade

from storage.engine import make_engine


@pytest.fixture
def fresh(fresh_url):
    eng = make_engine(fresh_url)
    yield eng
    eng.dispose()


def test_0005_keeps_prices_clears_rollups_and_goes_back(fresh):
    upgrade(fresh, "0004")
    with fresh.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO price_overrides (provider, model, input_usd_per_mtok, cache_read_usd_per_mtok,"
                " output_usd_per_mtok) VALUES ('p', 'm', 1, 0.1, 2)"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO rollup_model (org_id, grain, t, source, provider, model, cost_e8, input_tokens,"
                " output_tokens, cache_read_tokens, cache_write_tokens, executions, latency_sum, latency_count)"
                " VALUES ('o', 900, 0, 'system', 'p', 'm', 1, 1, 1, 1, 1, 1, 1, 1)"
            )
        )
        c.execute(sa.text("UPDATE rollup_state SET watermark = 5, version = 3"))
    upgrade(fresh, "0005")
    with fresh.begin() as c:
        rows = c.execute(
            sa.text(
                "SELECT provider, model, valid_from, input_usd_per_mtok, cache_write_usd_per_mtok, output_usd_per_mtok"
                " FROM price_overrides"
            )
        ).all()
        assert [(p, m, vf, float(i), w, float(o)) for p, m, vf, i, w, o in rows] == [("p", "m", None, 1.0, None, 2.0)]
        assert c.execute(sa.text("SELECT COUNT(*) FROM rollup_model")).scalar() == 0
        assert tuple(c.execute(sa.text("SELECT watermark, version FROM rollup_state")).one()) == (0, 4)
        c.execute(
            sa.text(
                "INSERT INTO price_overrides (provider, model, valid_from, input_usd_per_mtok,"
                " cache_read_usd_per_mtok, cache_write_usd_per_mtok) VALUES ('p', 'm', '2026-01-01 00:00:00', 3, 0.3, 3.75)"
            )
        )
    with pytest.raises(sa.exc.IntegrityError), fresh.begin() as c:  # a second always-row for the model
        c.execute(
            sa.text(
                "INSERT INTO price_overrides (provider, model, input_usd_per_mtok, cache_read_usd_per_mtok)"
                " VALUES ('p', 'm', 3, 0.3)"
            )
        )
    downgrade(fresh, "0004")
    with fresh.connect() as c:
        rows = c.execute(sa.text("SELECT provider, model, input_usd_per_mtok FROM price_overrides")).all()
        assert [(p, m, float(i)) for p, m, i in rows] == [("p", "m", 1.0)]
    upgrade(fresh, "head")


def test_0009_indexes_an_agents_raw_rows_keeps_the_rollups_and_goes_back(fresh):
    upgrade(fresh, "0008")
    with fresh.begin() as c:
        c.execute(sa.text("UPDATE rollup_state SET watermark = 5, version = 3"))
    upgrade(fresh, "0009")

    def indexes() -> set[str]:
        return {i["name"] for i in sa.inspect(fresh).get_indexes("token_usage_logs")}

    assert {"ix_tul_org_agent_created", "ix_tul_org_user_created", "ix_tul_org_created"} <= indexes()
    cols = {i["name"]: i["column_names"] for i in sa.inspect(fresh).get_indexes("token_usage_logs")}
    assert cols["ix_tul_org_agent_created"] == ["org_id", "agent_id", "created_at"]
    with fresh.begin() as c:  # nothing to rebuild: the watermark stays
        assert tuple(c.execute(sa.text("SELECT watermark, version FROM rollup_state")).one()) == (5, 3)
    downgrade(fresh, "0008")
    assert "ix_tul_org_agent_created" not in indexes()
