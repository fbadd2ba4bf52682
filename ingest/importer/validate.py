"""Import validation (pass 1): every row of both files checked, every bad line reported, nothing written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.schema import ACTION_TYPES, LOG_COLUMNS, SOURCES, agents as agents_table, token_usage_logs

from .read import Report, batch_columns, read_batches
from .rules import (
    AGENT_COLUMNS,
    AGENT_REQUIRED,
    AVATAR_SCHEMES,
    COST,
    ID_CEILING,
    ISO_AWARE,
    ISO_NAIVE,
    LOG_REQUIRED,
    MAX_BIGINT,
    MAX_INT,
    MAX_TOKENS,
    TOKEN_COLUMNS,
    TOO_FINE,
    Errors,
    array,
    cost_reason,
    matches,
    parse_cost,
    per_value,
    show,
    stripped,
    whole,
)


def check_header(header: list[str], allowed, required, report: Report, line: int) -> bool:
    ok = True
    seen = set()
    for name in header:
        if name in seen:
            report.error(line, f"column {name!r} appears twice")
            ok = False
        seen.add(name)
        if name not in allowed:
            report.error(line, f"unknown column {name!r} (allowed: {', '.join(allowed)})")
            ok = False
    for name in required:
        if name not in seen:
            report.error(line, f"missing required column {name!r}")
            ok = False
    return ok


def _check_nul(e: Errors, c: dict[str, np.ndarray]) -> None:
    for name, col in c.items():
        if "\x00" in "".join(col):
            e.add(np.array(["\x00" in v for v in col], dtype=bool), f"{name} contains a NUL character")


def _check_logs(lines, c: dict[str, np.ndarray], errors: dict, round_cost: bool = False, counts: dict | None = None):
    """Validate one batch of log rows; return (ids, ok mask) of the id column (or None).

    counts["rounded"] grows by the costs --round-cost will round."""
    e = Errors(lines, errors)
    _check_nul(e, c)
    for name in ("org_id", "provider", "model"):
        e.add(per_value(c[name], lambda v: not v.strip()), f"{name} is empty")

    ts = stripped(c["created_at"])
    aware = matches(ISO_AWARE, ts)
    fine = aware & matches(TOO_FINE, ts)
    aware &= ~fine
    naive = ~aware & ~fine & matches(ISO_NAIVE, ts)
    parsed = pd.to_datetime(
        array([v.upper() if ok else None for v, ok in zip(ts, aware)]), format="ISO8601", utc=True, errors="coerce"
    )
    stamps = np.asarray(parsed.tz_convert(None).as_unit("us").to_numpy())
    e.add(fine, lambda i: f"created_at {show(ts[i])} has more than 6 decimals of a second")
    e.add(naive, lambda i: f"created_at {show(ts[i])} has no UTC offset: add Z or ±HH:MM")
    e.add(
        ~aware & ~naive & ~fine,
        lambda i: (
            f"created_at {show(ts[i])} is not an ISO-8601 timestamp with an "
            "offset (e.g. 2025-03-01T09:30:00Z or 2025-03-01T10:30:00+01:00)"
        ),
    )
    e.add(aware & np.isnat(stamps), lambda i: f"created_at {show(ts[i])} is not a valid date and time")

    a, src = c["action_type"], c["source"]
    e.add(
        per_value(a, lambda v: v not in ACTION_TYPES),
        lambda i: f"action_type {show(a[i])} is not one of {', '.join(ACTION_TYPES)}",
    )
    e.add(per_value(src, lambda v: v not in SOURCES), lambda i: f"source {show(src[i])} is not system or byok")

    for name in TOKEN_COLUMNS:
        if name in c:
            col = stripped(c[name])
            ok, _ = whole(col, MAX_TOKENS)
            e.add(
                ~ok & (col != ""),
                lambda i, col=col, name=name: f"{name} {show(col[i])} is not a whole number from 0 to {MAX_TOKENS}",
            )
    if "cost_usd" in c:
        col = stripped(c["cost_usd"])
        bad = np.zeros(len(col), dtype=bool)
        for i in np.flatnonzero(~matches(COST, col) & (col != "")):
            text, rounded = parse_cost(col[i], round_cost)
            bad[i] = text is None
            if rounded and counts is not None:
                counts["rounded"] = counts.get("rounded", 0) + 1
        e.add(bad, lambda i: cost_reason(col[i]))
    if "latency_ms" in c:
        col = stripped(c["latency_ms"])
        ok, _ = whole(col, MAX_INT)
        e.add(
            ~ok & (col != ""),
            lambda i: f"latency_ms {show(col[i])} is not a whole number of milliseconds from 0 to {MAX_INT}",
        )
    ids = None
    if "id" in c:
        col = stripped(c["id"])
        ok, vals = whole(col, MAX_BIGINT)
        ok &= vals > 0
        e.add(~ok & (col != ""), lambda i: f"id {show(col[i])} is not a whole number ≥ 1")
        high = ok & (vals > ID_CEILING)
        e.add(
            high,
            lambda i: (
                f"id {int(vals[i])} is above {ID_CEILING} (2^62): the id sequence would be moved "
                "past it and run out, and the platform's own inserts would fail; leave id empty "
                "to have one assigned"
            ),
        )
        ids = (vals, ok & ~high)
    return ids


def validate_logs(path: str, report: Report, conn, batch_rows: int, round_cost: bool = False) -> dict | None:
    """Pass 1 over the log file. Returns facts for writing (None if the header is bad)."""
    gen = read_batches(path, batch_rows)
    header, hline = next(gen)
    if not check_header(header, LOG_COLUMNS, LOG_REQUIRED, report, hline):
        return None
    ids, id_lines = [], []
    rows = 0
    counts: dict = {}
    for lines, batch in gen:
        errors: dict[int, list[str]] = {}
        good_lines, cols = batch_columns(header, lines, batch, errors)
        rows += len(lines)
        if good_lines:
            found = _check_logs(good_lines, cols, errors, round_cost, counts)
            if found is not None:
                vals, have = found
                ids.append(vals[have])
                id_lines.append(np.asarray(good_lines, dtype=np.int64)[have])
        report.batch(errors)
    all_ids = np.concatenate(ids) if ids else np.array([], dtype=np.int64)
    all_lines = np.concatenate(id_lines) if id_lines else np.array([], dtype=np.int64)
    _check_ids(all_ids, all_lines, report, conn)
    return {
        "header": header,
        "rows": rows,
        "max_id": int(all_ids.max()) if all_ids.size else None,
        "rounded": counts.get("rounded", 0),
        "round_cost": round_cost,
    }


def _check_ids(ids: np.ndarray, lines: np.ndarray, report: Report, conn) -> None:
    """Duplicates within the file, ids that exist, ids not above the table's largest."""
    if not ids.size:
        return
    order = np.lexsort((lines, ids))
    ids_s, lines_s = ids[order], lines[order]
    dup = np.zeros(ids.size, dtype=bool)
    dup[1:] = ids_s[1:] == ids_s[:-1]
    first = np.maximum.accumulate(np.where(dup, 0, np.arange(ids.size)))  # each run's first index
    errors: dict[int, list[str]] = {}
    for i in np.flatnonzero(dup):
        errors.setdefault(int(lines_s[i]), []).append(
            f"id {int(ids_s[i])} appears again (first on line {int(lines_s[first[i]])})"
        )
    t = token_usage_logs
    max_id = conn.execute(sa.select(sa.func.max(t.c.id))).scalar()
    if max_id is not None:
        low = np.flatnonzero(ids_s <= max_id)
        existing: set[int] = set()
        uniq = np.unique(ids_s[low])
        for k in range(0, uniq.size, 1000):
            part = [int(v) for v in uniq[k : k + 1000]]
            existing.update(conn.execute(sa.select(t.c.id).where(t.c.id.in_(part))).scalars())
        for i in low:
            v = int(ids_s[i])
            if v in existing:
                errors.setdefault(int(lines_s[i]), []).append(f"id {v} already exists in token_usage_logs")
            else:
                errors.setdefault(int(lines_s[i]), []).append(
                    f"id {v} is not above the largest existing id {max_id}: ids grow with insertion order; "
                    "leave id empty to have one assigned"
                )
    report.batch(errors)


def validate_agents(path: str, report: Report, conn) -> list[dict] | None:
    """Agents are few: read, check and keep them all. None if any is bad."""
    gen = read_batches(path, 1 << 62)
    header, hline = next(gen)
    if not check_header(header, AGENT_COLUMNS, AGENT_REQUIRED, report, hline):
        return None
    out: list[dict] = []
    errors: dict[int, list[str]] = {}
    first: dict[str, int] = {}
    for lines, batch in gen:
        good_lines, c = batch_columns(header, lines, batch, errors)
        e = Errors(good_lines, errors)
        _check_nul(e, c)
        for name in AGENT_REQUIRED:
            e.add(per_value(c[name], lambda v: not v.strip()), f"{name} is empty")
        av = stripped(c["avatar_url"]) if "avatar_url" in c else array([""] * len(good_lines))
        bad = np.array([v != "" and not v.lower().startswith(AVATAR_SCHEMES) for v in av], dtype=bool)
        e.add(
            bad,
            lambda i: (
                f"avatar_url {show(av[i])} must start with https://, http:// or data:image/ "  # noqa: B023 (add() calls it at once)
                "(or be empty)"
            ),
        )
        for k, line in enumerate(good_lines):
            aid = c["id"][k]
            if aid in first:
                errors.setdefault(line, []).append(f"agent id {aid!r} appears again (first on line {first[aid]})")
            else:
                first[aid] = line
            out.append(
                {"line": line, "id": aid, "org_id": c["org_id"][k], "name": c["name"][k], "avatar_url": av[k] or None}
            )
    ids = [a["id"] for a in out]
    known: dict[str, str] = {}
    for k in range(0, len(ids), 1000):
        part = ids[k : k + 1000]
        known.update(
            conn.execute(sa.select(agents_table.c.id, agents_table.c.org_id).where(agents_table.c.id.in_(part))).all()
        )
    for a in out:
        if a["id"] in known and known[a["id"]] != a["org_id"]:
            errors.setdefault(a["line"], []).append(
                f"agent id {a['id']!r} already belongs to org {known[a['id']]!r}, not {a['org_id']!r}"
            )
        a["exists"] = a["id"] in known
    report.batch(errors)
    return None if errors else out
