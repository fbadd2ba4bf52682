"""Frames -> answers: each route's query result as its typed answer (api/answers.py).

Plain numbers for JSON (ints stay ints, NaN becomes null) and local ISO-8601 times with
their offset; the models give both the body and the OpenAPI schema.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd

import queries
from queries.filters import Filters

from . import answers
from .compared import compared, previous

# ------------------------------------------------------------------ JSON helpers


def num(v) -> float | None:
    """A float for JSON; None for NULL/NaN."""
    return None if v is None or pd.isna(v) else float(v)


def integer(v) -> int:
    return int(v)


def text(v) -> str | None:
    """A string for JSON; None for NULL/NaN (pandas 3 keeps missing strings as NaN)."""
    return None if v is None or pd.isna(v) else str(v)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """df.to_dict("records") without its cell-by-cell boxing: each column's tolist() gives the
    same Python values (int, float, bool, str, None, NaN, Timestamp), ~2x faster at a few
    hundred rows (a year of weeks by action, the heatmap's 168 cells)."""
    cols = [str(c) for c in df.columns]
    return [dict(zip(cols, row, strict=True)) for row in zip(*(df.iloc[:, i].tolist() for i in range(len(cols))))]


def iso(ts) -> str:
    """ISO-8601 with the UTC offset, e.g. 2026-11-01T01:00:00-05:00."""
    if isinstance(ts, pd.Timestamp):
        ts = ts.to_pydatetime()
    return ts.isoformat()


def day(d) -> str | None:
    return None if d is None else d.isoformat()


# ------------------------------------------------------------------ frames -> bodies


def _summary_fields(conn, f: Filters) -> dict[str, Any]:
    r = queries.summary(conn, f).iloc[0]
    return dict(
        from_=iso(f.start_utc.astimezone(f.tz)),
        to=iso(f.read_end_utc.astimezone(f.tz)),
        timezone=f.timezone,
        source=f.source,
        total_cost_usd=num(r["total_cost_usd"]),
        total_tokens=integer(r["total_tokens"]),
        total_input_tokens=integer(r["total_input_tokens"]),
        total_output_tokens=integer(r["total_output_tokens"]),
        total_cache_read_tokens=integer(r["total_cache_read_tokens"]),
        executions=integer(r["executions"]),
        unpriced_executions=integer(r["unpriced_executions"]),
        estimated_unpriced_cost_usd=num(r["estimated_unpriced_cost_usd"]),
    )


def summary_body(conn, f: Filters) -> answers.Summary:
    before = queries.earlier(f)
    prev = None if before is None else answers.SummaryPrevious.model_construct(**_summary_fields(conn, before))
    summary = answers.Summary.model_construct(**_summary_fields(conn, f))
    if prev is not None:  # set only with a comparison: the plain answer's bytes stay as they were
        summary.previous = prev
    return summary


def cache_savings_body(conn, f: Filters) -> answers.CacheSavings:
    e = queries.cache_economics(conn, f)
    r = e.total.iloc[0]
    before = queries.earlier(f)
    points = [
        answers.CacheSavingsPoint(
            bucket=iso(p["bucket"]),
            partial=bool(p["partial"]),
            cache_read_tokens=integer(p["cache_read_tokens"]),
            total_input_tokens=integer(p["total_input_tokens"]),
            hit_rate=num(p["hit_rate"]),
            estimated_savings_usd=float(p["estimated_savings_usd"]),
            net_savings_usd=float(p["net_savings_usd"]),
        )
        for p in records(e.points)
    ]
    body = answers.CacheSavings.model_construct(**_cache_figures(r, f), points=points)
    if before is not None:  # set only with a comparison: the plain answer's bytes stay as they were
        body.previous = _cache_previous(conn, before)
    return body


def _cache_previous(conn, f: Filters) -> answers.CacheSavingsPrevious:
    """The earlier window's scalar cache figures (lean: no points), with its from and to."""
    r = queries.cache_savings(conn, f).iloc[0]
    return answers.CacheSavingsPrevious.model_construct(
        **_cache_figures(r, f),
        from_=iso(f.start_utc.astimezone(f.tz)),
        to=iso(f.read_end_utc.astimezone(f.tz)),
    )


def _cache_figures(r, f: Filters) -> dict:
    """The scalar cache-savings fields of one window's row, in the answers' field order."""
    return {
        "source": f.source,
        "total_cache_read_tokens": integer(r["total_cache_read_tokens"]),
        "total_input_tokens": integer(r["total_input_tokens"]),
        "hit_rate": num(r["hit_rate"]),
        "estimated_savings_usd": num(r["estimated_savings_usd"]),
        "skipped_models_count": integer(r["skipped_models_count"]),
        "cache_write_tokens": integer(r["cache_write_tokens"]),
        "write_premium_usd": num(r["write_premium_usd"]),
        "net_savings_usd": num(r["net_savings_usd"]),
    }


def fitted(value: float) -> float:
    """A fitted figure to a millionth (its last binary digits depend on the CPU: see estimate)."""
    return round(float(value), 6)


def estimate(value: float | None) -> float | None:
    """A fitted figure (the projection's total and interval) to a millionth of a dollar.

    Its last binary digits depend on the machine's BLAS (the same fit differs by ~1e-13
    between two CPUs); rounded, the answer is the same everywhere and still far finer than a cent."""
    return None if value is None else num(fitted(value))


def projection_body(conn, f: Filters) -> answers.Projection:
    p = queries.projection(conn, f)
    return answers.Projection.model_construct(
        status=p.status,
        as_of=day(p.as_of),
        month_start=day(p.month_start),
        month_end=day(p.month_end),
        month_to_date_usd=num(p.month_to_date_usd),
        projected_total_usd=estimate(p.projected_total_usd),
        lower80=estimate(p.lower80),
        upper80=estimate(p.upper80),
        daily_points=integer(p.daily_points),
    )


def time_series_body(conn, f: Filters, by_action: bool) -> answers.TimeSeries:
    df = compared(conn, f, queries.time_series, None, by_action)
    point = answers.TimeSeriesPoint
    points = []
    for r in records(df):
        # actionType is left out without groupBy
        action: dict[str, Any] = {"action_type": text(r["action_type"])} if by_action else {}
        points.append(
            point(
                bucket=iso(r["bucket"]),
                **action,
                cost_usd=float(r["cost_usd"]),
                tokens=integer(r["tokens"]),
                executions=integer(r["executions"]),
                partial=bool(r["partial"]),
                **previous(r),
            )
        )
    return answers.TimeSeries.model_construct(granularity=f.granularity, timezone=f.timezone, points=points)


def model_efficiency_body(conn, f: Filters) -> answers.ModelEfficiency:
    df = compared(conn, f, queries.model_efficiency, ("provider", "model"), lean=True)
    return answers.ModelEfficiency.model_construct(
        models=[
            answers.ModelUsage(
                provider=str(r["provider"]),
                model=str(r["model"]),
                cost_usd=float(r["cost_usd"]),
                input_tokens=integer(r["input_tokens"]),
                output_tokens=integer(r["output_tokens"]),
                cache_read_tokens=integer(r["cache_read_tokens"]),
                executions=integer(r["executions"]),
                avg_latency_ms=num(r["avg_latency_ms"]),
                p50_latency_ms=num(r["p50_latency_ms"]),
                p95_latency_ms=num(r["p95_latency_ms"]),
                p99_latency_ms=num(r["p99_latency_ms"]),
                **previous(r),
            )
            for r in records(df)
        ]
    )


def by_agent_body(conn, f: Filters) -> answers.ByAgent:
    # No latency in this answer (contract §3.3): the sketches are not read.
    df = compared(conn, f, partial(queries.by_agent, latency=False), ("agent_id",), lean=True)
    return answers.ByAgent.model_construct(
        agents=[
            answers.AgentUsage(
                agent_id=text(r["agent_id"]),
                name=text(r["name"]),
                avatar_url=text(r["avatar_url"]),
                cost_usd=float(r["cost_usd"]),
                tokens=integer(r["tokens"]),
                executions=integer(r["executions"]),
                sparkline=[float(v) for v in r["sparkline"]],
                **previous(r),
            )
            for r in records(df)
        ]
    )


def by_user_body(conn, f: Filters, limit: int) -> answers.ByUser:
    u = queries.by_user(conn, f, limit) if f.compare is None else queries.by_user_compared(conn, f, limit)
    return answers.ByUser.model_construct(
        users=[
            answers.UserUsage(
                user_id=text(r["user_id"]),
                cost_usd=float(r["cost_usd"]),
                tokens=integer(r["tokens"]),
                executions=integer(r["executions"]),
                sparkline=[float(v) for v in r["sparkline"]],
                **previous(r),
            )
            for r in records(u.users)
        ],
        total_users=integer(u.total_users),
        others=answers.UsersOthers(
            cost_usd=float(u.others["cost_usd"]),
            tokens=integer(u.others["tokens"]),
            executions=integer(u.others["executions"]),
            **previous(u.others),
        ),
    )


def heatmap_body(conn, f: Filters) -> answers.Heatmap:
    df = queries.heatmap(conn, f)
    return answers.Heatmap.model_construct(
        timezone=f.timezone,
        cells=[
            answers.HeatmapCell(
                dow=integer(r["dow"]),
                hour=integer(r["hour"]),
                tokens=integer(r["tokens"]),
                cost_usd=float(r["cost_usd"]),
                executions=integer(r["executions"]),
            )
            for r in records(df)
        ],
    )


def anomalies_body(conn, f: Filters) -> answers.Anomalies:
    from queries.anomalies import anomalies

    return answers.Anomalies.model_construct(
        anomalies=[
            answers.AnomalyDay(
                date=a.date.isoformat(),
                cost_usd=float(a.cost_usd),
                # Fitted figures, rounded like the projection's (estimate): the same on every CPU.
                expected_usd=fitted(a.expected_usd),
                score=fitted(a.score),
                direction=a.direction,  # type: ignore[typeddict-item]
                contributors=[
                    answers.AnomalyContributor(kind=c.kind, id=c.id, delta_usd=round(float(c.delta_usd), 8))  # type: ignore[typeddict-item]
                    for c in a.contributors
                ],
            )
            for a in anomalies(conn, f)
        ]
    )
