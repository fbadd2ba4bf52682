"""The projection's regression and Student's t (queries.projection.OLSFit, t_quantile,
t_survival) against statsmodels' OLS and scipy.stats, bit for bit; and a served process
that answers a projection without loading statsmodels.api or scipy.stats (the memory they
would cost every worker: docs/operations.md, «Memory per worker»)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from queries.projection import OLSFit, t_quantile, t_survival

ROOT = Path(__file__).resolve().parent.parent


def _cases():
    rng = np.random.default_rng(20261202)
    for n in (7, 8, 13, 30, 31, 90, 366):
        x = np.arange(n, dtype=float)
        yield x, rng.gamma(2.0, 40.0, n)  # daily costs
        yield x + 3, np.round(rng.normal(100, 30, n).clip(0), 2)  # a window not starting at day 0
        yield x, np.full(n, 12.5)  # flat: zero residuals
        yield np.delete(np.arange(n + 4, dtype=float), [1, 5, 6, 9]), rng.exponential(5.0, n)  # missing days
        yield x, np.where(np.arange(n) % 7 == 0, 1e6, 0.01) * rng.random(n)  # spiky, large range


@pytest.mark.parametrize("case", range(35))
def test_fit_equals_statsmodels_ols_bit_for_bit(case):
    x, y = list(_cases())[case]
    want = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit()
    got = OLSFit(x, y)
    assert np.array_equal(got.params, want.params)
    assert np.array_equal(got.cov_params, want.cov_params())
    assert got.scale == want.scale


def test_t_functions_equal_scipy_stats():
    for dof in [5, 6, 7, 11, 28, 29, 88, 364, 2.5]:
        assert t_quantile(0.90, dof) == float(stats.t.ppf(0.90, dof))
        for x in [-40.0, -3.0, -0.5, 0.0, 0.25, 1.3, 2.7, 9.0, 60.0]:
            assert t_survival(x, dof) == float(stats.t.sf(x, dof))


def test_a_served_projection_loads_neither_statsmodels_api_nor_scipy_stats(tmp_path):
    """A fresh process: the app, its start-up imports, and a projection with 30 points."""
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime, timedelta
        sys.path.insert(0, {str(ROOT)!r})
        from support.db import insert_logs
        from storage.engine import make_engine, migrate
        import app
        import queries

        engine = make_engine("sqlite:///{tmp_path / "p.sqlite3"}")
        migrate(engine)
        now = datetime(2026, 11, 20, 12, tzinfo=UTC)
        insert_logs(engine, [
            {{"org_id": "o", "created_at": now - timedelta(days=d), "action_type": "user_interaction",
              "source": "system", "provider": "openai", "model": "gpt-4o", "cost_usd": 1 + d % 5}}
            for d in range(1, 31)
        ])
        app.start_up(app.create_app(engine=engine))
        with engine.connect() as conn:
            p = queries.projection(conn, queries.parse_filters({{"timezone": "UTC"}}, "o", now=now))
        assert p.status == "ok" and p.upper80 > p.lower80, p
        print(sorted(m for m in ("statsmodels.api", "scipy.stats") if m in sys.modules), flush=True)
        import os
        os._exit(0)  # the leader loop's thread
        """
    )
    env_path = f"{ROOT / 'tests'}"
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            "PYTHONPATH": env_path,
            "AI_USAGE_SECRET": "x" * 32,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
            "PATH": "/usr/bin:/bin",
        },
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
