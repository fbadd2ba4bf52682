"""`ai-usage bench` itself: what it times is what the API reads, and its equality check holds.

The benchmark exits 1 when the rollup answers differ from the raw table's, so a harness
that compares answers of two different instants would report a correctness bug that is
not there (it did: the raw runs come minutes after the rollup runs, and the projection's
share of today still to come moves with the clock).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ai_usage.bench import _filters

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_filters_are_of_the_instant_it_was_given():
    now = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)
    f, f_sys = _filters("bench", "America/New_York", 30, now)
    assert f.now == now and f_sys.now == now
    assert f_sys.source == "system" and f.source == "all"


def test_a_small_bench_on_sqlite_finds_rollups_equal_to_raw(tmp_path):
    """The whole command on 3,000 rows (~10 s): every window and every filtered page on the
    rollups equals the raw table's answer, and the JSON says so."""
    out = tmp_path / "bench.json"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite3'}"}
    cmd = [sys.executable, "-m", "ai_usage.cli", "bench", "--rows", "3000", "--runs", "1", "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["rows"] == 3000
    assert len(res["windows"]) == 12 and all(w["equal"] is True for w in res["windows"])
    assert res["filtered"] and all(e["equal"] is True for e in res["filtered"])
