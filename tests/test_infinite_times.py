"""Rows dated where no window reaches: PostgreSQL's created_at = 'infinity' and '-infinity',
and the ends of its timestamp range (294276 AD, 4713 BC).

One 'infinity' row, written by the platform, made the rollup refresh fail for every org:
its epoch (Infinity) cannot be a BIGINT quarter-hour. The watermark stopped there, so
every org's live tail grew and /readyz reported the lag. The refresh now leaves such rows
out of the rollups and sketches (no window holds them). The ends of the range were
already fine and stay checked. On SQLite, the same text ('infinity') and the ends of
Python's range: unreadable text has no quarter-hour there, and stays out of the rollups.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from support import reference as ref
from support.api import BASE, ROUTES, auth, log, make_app
from support.db import insert_logs
from test_queries import check_by_agent, check_heatmap, check_summary, check_time_series, make_filters

from ingest import refresh as rollups

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
FAR = {
    "postgresql": ["infinity", "-infinity", "294276-12-31 23:59:59+00", "4713-01-01 00:00:00+00 BC"],
    # SQLite keeps what it is given: a naive writer's text, and the ends of Python's range.
    "sqlite": ["infinity", "-infinity", "9999-12-31 23:59:59.999999", "0001-01-01 00:00:00.000000"],
}


@pytest.fixture(scope="module")
def engine(own_engine):
    return own_engine  # this module refreshes the rollups of the whole database


def test_rows_at_infinity_leave_the_refresh_and_every_answer_whole(engine):
    far = FAR[engine.dialect.name]
    org, other = "inf-org", "inf-other"
    rows = [
        log(org, datetime(2026, 11, 2, tzinfo=UTC) + timedelta(hours=7 * i), agent=f"a{i % 2}", inp=10 + i, cost="0.5")
        for i in range(40)
    ]
    insert_logs(engine, rows)
    with engine.begin() as c:
        for when in far:
            c.execute(
                sa.text(
                    "INSERT INTO token_usage_logs (org_id, created_at, action_type, source, provider, model,"
                    " input_tokens, cost_usd, latency_ms) VALUES (:o, :w, 'user_interaction', 'system', 'openai',"
                    " 'gpt-4o-mini', 5, 1, 120)"
                ),
                {"o": org, "w": when},
            )
    later = [log(other, datetime(2026, 11, 20, 5, tzinfo=UTC), inp=3, cost="0.25", lat=80)]
    insert_logs(engine, later)  # another org's row after them: rolled up too
    result = rollups.refresh(engine)
    with engine.connect() as c:
        newest = c.execute(sa.text("SELECT MAX(id) FROM token_usage_logs")).scalar_one()
        assert c.execute(sa.text("SELECT watermark FROM rollup_state")).scalar_one() == newest
        assert result.rows >= len(rows) + len(far) + 1
        stored = c.execute(
            sa.text("SELECT COALESCE(SUM(executions), 0) FROM rollup_total WHERE org_id = :o AND grain = 900"),
            {"o": org},
        ).scalar_one()
        assert stored == len(rows) + 2  # the two infinite rows are in no rollup; the finite ends are
        data = type("D", (), {})()
        # The reference reads the ordinary rows only (pandas and the driver hold no year 294276,
        # BC or infinity): they are the rows a window of 2026 holds.
        ids = c.execute(
            sa.text("SELECT MIN(id), MAX(id) FROM token_usage_logs WHERE org_id = :o AND input_tokens > 5"), {"o": org}
        ).one()
        data.engine, data.org, data.agents = engine, org, ref.load_agents(c, org)
        data.rows = ref.load_rows(c, org, tuple(ids))
        assert len(data.rows) == len(rows)
    for tz in ("UTC", "Asia/Kathmandu"):
        f = make_filters(data, (date(2026, 11, 1), date(2026, 11, 30)), tz, now=NOW)
        assert check_summary(data, f)["executions"] == len(rows)
        check_time_series(data, f)
        check_by_agent(data, f)
        check_heatmap(data, f)
    client = make_app(engine).server.test_client()
    for route in ROUTES:
        resp = client.get(f"{BASE}/{route}?from=2026-11-01&to=2026-11-30&compare=previous", headers=auth(org))
        assert resp.status_code == 200, (route, resp.data[:300])
    body = client.get(f"{BASE}/summary?from=2026-11-01&to=2026-11-30", headers=auth(other)).get_json()
    assert (body["executions"], body["totalCostUsd"]) == (1, 0.25)
