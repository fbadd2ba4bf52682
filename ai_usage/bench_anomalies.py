"""`make bench-anomalies`: the anomaly detector's precision and recall on generated series.

Each series: HISTORY (56) days of warm-up and EVAL (90) judged days of an org's daily cost,
the sum of AGENTS agents (Dirichlet shares, lognormal day noise), with a weekly profile, and
per type growth, holidays, noise or a tiny level. Injected: spikes (×k) and drops (÷k), k in
[2, 10], on weekday and weekend days, at org level (every agent) or at agent level (one agent
gains (k − 1) × the org's typical day). Scored per series type: precision, recall (all, and
for departures ≥ 3× the true noise scale), false alarms per 90 days on the clean twins of
the same series, and for agent-level injections the first contributor (of kind agent).
Holidays are labelled, neither injected nor clean: flagging them is counted apart.

Models compared (--model): `mad` (queries/anomaly_model.py, what the API runs) and `stl`
(statsmodels STL, period 7, robust, on the same history; scale 1.4826 · MAD of its residual).
`--db` adds one end-to-end pass: rows in a temporary SQLite database through
queries.anomalies (the API's function).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from queries import anomaly_model as m
from queries.anomalies import contributors as contributors_of

HISTORY, EVAL = m.HISTORY_DAYS, 90
AGENTS = 8
WEEK = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.3, 0.2])  # Monday … Sunday
TYPES = ("steady", "growth", "holidays", "noisy", "small", "growth+holidays")


@dataclass
class Series:
    kind: str
    costs: np.ndarray  # org per day
    agents: np.ndarray  # (days, AGENTS)
    typical: np.ndarray  # the noise-free org cost per day (before injection)
    sigma: np.ndarray  # the true noise sd of the org's day
    dows: np.ndarray
    injected: dict[int, tuple[str, int | None, float]] = field(default_factory=dict)  # day -> (dir, agent, k)
    holidays: set[int] = field(default_factory=set)


def make_series(kind: str, rng: np.random.Generator, inject: bool, start_dow: int) -> Series:
    n = HISTORY + EVAL
    days = np.arange(n)
    dows = (start_dow + days) % 7
    level = {"small": 2.0}.get(kind, float(rng.uniform(50, 500)))
    trend = np.ones(n)
    if "growth" in kind:
        trend = np.exp(np.log(float(rng.uniform(1.5, 3.0))) * days / 365 * 4)  # ×1.5–3 per quarter
    week = WEEK.copy()
    if kind == "small":
        week = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.05, 0.02])
    cv = {"noisy": 0.25, "small": 0.30}.get(kind, 0.10)
    typical = level * trend * week[dows]
    holidays: set[int] = set()
    if "holidays" in kind:
        weekdays = [int(d) for d in days if dows[d] < 5]
        holidays = set(rng.choice(weekdays, size=8, replace=False).tolist())
        typical = typical.copy()
        for h in holidays:
            typical[h] *= 0.15
    shares = rng.dirichlet(np.ones(AGENTS) * 1.5)
    s_log = np.sqrt(np.log(1 + cv**2))
    noise = rng.lognormal(-(s_log**2) / 2, s_log, size=(n, AGENTS))
    agents = typical[:, None] * shares[None, :] * noise
    # the org's noise: agents independent, so sd = cv · typical · sqrt(Σ shares²)
    sigma = cv * typical * float(np.sqrt(np.sum(shares**2)))
    s = Series(kind, agents.sum(axis=1), agents, typical, sigma, dows, holidays=holidays)
    if inject:
        pool = [int(d) for d in range(HISTORY, n) if d not in holidays]
        picks: list[int] = []
        while len(picks) < 4:
            d = int(rng.choice(pool))
            if all(abs(d - p) >= 8 for p in picks):
                picks.append(d)
        for i, d in enumerate(picks):
            k = float(rng.uniform(2, 10))
            base = float(typical[d])  # the day's typical cost
            if i % 2 == 0:  # agent level: one agent gains (k − 1) × the day's typical cost
                j = int(rng.integers(AGENTS))
                agents[d, j] += (k - 1) * base
                s.injected[d] = ("up", j, k)
            elif rng.random() < 0.5:
                agents[d] *= k
                s.injected[d] = ("up", None, k)
            else:
                agents[d] /= k
                s.injected[d] = ("down", None, k)
        s.costs = agents.sum(axis=1)
    return s


def judge_stl(costs: np.ndarray, dows: np.ndarray, t: int) -> m.Verdict | None:
    """The STL alternative: robust STL (period 7) of the history, trend extrapolated a day."""
    from statsmodels.tsa.seasonal import STL

    lo = max(0, t - m.HISTORY_DAYS)
    if t - lo < m.MIN_HISTORY:
        return None
    y = costs[lo:t]
    res = STL(y, period=7, robust=True).fit()
    trend = np.asarray(res.trend)
    seasonal = np.asarray(res.seasonal)
    slope = (trend[-1] - trend[-8]) / 7
    expected = max(trend[-1] + slope + seasonal[-7], 0.0)
    resid = np.asarray(res.resid)
    sigma = m.MAD_K * float(np.median(np.abs(resid - np.median(resid))))
    scale = max(sigma, m.REL_FLOOR * max(expected, m.LEVEL_FLOOR * float(trend[-1])), m.ABS_FLOOR_USD)
    return m.Verdict(t, float(costs[t]), expected, scale, (float(costs[t]) - expected) / scale)


def evaluate(model: str, seeds: int) -> list[dict]:
    judge = m.judge if model == "mad" else judge_stl
    rows = []
    for kind in TYPES:
        tp = fp = fn = fp_clean = hol = hol_flagged = 0
        strong = strong_found = agent_inj = agent_right = agent_first = 0
        for seed in range(seeds):
            for inject in (True, False):
                rng = np.random.default_rng([seed, TYPES.index(kind), int(inject)])
                s = make_series(kind, rng, inject, start_dow=seed % 7)
                for t in range(HISTORY, HISTORY + EVAL):
                    v = judge(s.costs, s.dows.astype(np.int64), t)
                    flagged = v is not None and abs(v.score) >= m.THRESHOLD
                    if t in s.holidays:
                        hol += 1
                        hol_flagged += flagged
                        continue
                    if not inject:
                        fp_clean += flagged
                        continue
                    if t not in s.injected:
                        fp += flagged
                        continue
                    direction, agent, _k = s.injected[t]
                    found = flagged and v is not None and v.direction == direction
                    tp += found
                    fn += not found
                    if abs(s.costs[t] - s.typical[t]) >= 3 * s.sigma[t]:
                        strong += 1
                        strong_found += found
                    if agent is not None and found:
                        agent_inj += 1
                        first = _contributors(s, t, direction)
                        agents_only = [c for c in first if c.kind == "agent"]
                        agent_right += bool(agents_only) and agents_only[0].id == f"a{agent}"
                        # the first listed (any kind) is the agent or a model/action that holds it
                        holds = {f"a{agent}", MODEL_OF(agent), ACTION_OF(agent)}
                        agent_first += bool(first) and first[0].id in holds
        rows.append(
            {
                "type": kind,
                "injected": tp + fn,
                "precision": tp / (tp + fp) if tp + fp else float("nan"),
                "recall": tp / (tp + fn) if tp + fn else float("nan"),
                "recall_3sigma": strong_found / strong if strong else float("nan"),
                "false_per_90d_clean": fp_clean / seeds * 90 / EVAL,
                "holidays_flagged": f"{hol_flagged}/{hol}" if hol else "-",
                "top_agent": agent_right / agent_inj if agent_inj else float("nan"),
                "top_any": agent_first / agent_inj if agent_inj else float("nan"),
            }
        )
    return rows


def _contributors(s: Series, t: int, direction: str):
    """The query's contributors definition on the generated agents (kind agent only here)."""
    base = date(2026, 1, 5)
    days = [t - 7 * k for k in range(m.CONTRIB_WEEKS + 1)]
    per_day: dict[date, dict[str, dict[str | None, float]]] = {}
    for d in days:
        by: dict[str, dict[str | None, float]] = {"agent_id": {}, "model": {}, "action_type": {}}
        for j in range(AGENTS):
            cost = float(s.agents[d, j])
            by["agent_id"][f"a{j}"] = cost
            by["model"][MODEL_OF(j)] = by["model"].get(MODEL_OF(j), 0.0) + cost
            by["action_type"][ACTION_OF(j)] = by["action_type"].get(ACTION_OF(j), 0.0) + cost
        per_day[base + timedelta(days=d)] = by
    return contributors_of(per_day, base + timedelta(days=t), direction)


def MODEL_OF(j: int) -> str:
    return f"m{j % 3}"


def ACTION_OF(j: int) -> str:
    return ("user_interaction", "rag_query_embedding")[j % 2]


def print_table(model: str, rows: list[dict]) -> None:
    head = (
        f"{'series':<16} {'inj':>4} {'precision':>9} {'recall':>6} {'rec≥3σ':>7} "
        f"{'FA/90d clean':>12} {'holidays':>9} {'top agent':>9} {'first∋agent':>11}"
    )
    print(f"model: {model} (threshold |z| ≥ {m.THRESHOLD})")
    print(head)
    for r in rows:
        print(
            f"{r['type']:<16} {r['injected']:>4} {r['precision']:>9.3f} {r['recall']:>6.3f} "
            f"{r['recall_3sigma']:>7.3f} {r['false_per_90d_clean']:>12.2f} {r['holidays_flagged']:>9} "
            f"{r['top_agent']:>9.3f} {r['top_any']:>11.3f}"
        )


def end_to_end(seed: int = 1) -> None:
    """One agent-level series written as rows to a temporary SQLite database, through the query."""
    from queries.anomalies import anomalies
    from queries.filters import Filters
    from storage.engine import make_engine, migrate
    from storage.schema import token_usage_logs

    rng = np.random.default_rng(seed)
    end = date(2026, 11, 30)
    first = end - timedelta(days=HISTORY + EVAL - 1)
    s = make_series("growth", rng, True, start_dow=first.weekday())
    rows = []
    for d in range(HISTORY + EVAL):
        day = first + timedelta(days=d)
        for j in range(AGENTS):
            cost = round(float(s.agents[d, j]), 8)
            at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).replace(tzinfo=None)
            rows.append(
                {
                    "org_id": "bench",
                    "created_at": at,
                    "action_type": ACTION_OF(j),
                    "source": "system",
                    "provider": "p",
                    "model": f"m{j % 3}",
                    "agent_id": f"a{j}",
                    "cost_usd": cost,
                }
            )
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3", statement_timeout_ms=0)
        migrate(engine)
        with engine.begin() as c:
            c.execute(token_usage_logs.insert(), rows)
        now = datetime(end.year, end.month, end.day, 23, tzinfo=UTC) + timedelta(days=1)
        f = Filters("bench", "UTC", first + timedelta(days=HISTORY), end, now=now)
        with engine.connect() as conn:
            found = anomalies(conn, f)
        engine.dispose()
    truth = {first + timedelta(days=d): v for d, v in s.injected.items()}
    hits = [a for a in found if a.date in truth]
    print(f"end to end (SQLite, {len(rows)} rows, 90 days judged): {len(truth)} injected, {len(found)} flagged")
    for a in sorted(found, key=lambda a: a.date):
        t = truth.get(a.date)
        top = next((c for c in a.contributors if c.kind == "agent"), None)
        want = f"a{t[1]}" if t and t[1] is not None else "-"
        print(
            f"  {a.date} {a.direction:<4} z={a.score:7.1f} cost={a.cost_usd:9.2f} expected={a.expected_usd:9.2f} "
            f"injected={'yes' if t else 'no '} top agent={top.id if top else None} (want {want})"
        )
    print(f"  recall {len(hits)}/{len(truth)}, precision {len(hits)}/{len(found)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench-anomalies", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--model", choices=["mad", "stl", "both"], default="both")
    p.add_argument("--seeds", type=int, default=40, help="series per type (each with a clean twin)")
    p.add_argument("--no-db", action="store_true", help="skip the end-to-end pass through SQLite")
    args = p.parse_args(argv)
    for model in ("mad", "stl") if args.model == "both" else (args.model,):
        print_table(model, evaluate(model, args.seeds))
        print()
    if not args.no_db:
        end_to_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
