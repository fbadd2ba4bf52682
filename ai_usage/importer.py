"""CSV import: validate every row of both files first, then write them in one transaction.

`ai-usage import LOGS.csv [--agents AGENTS.csv]`. Pass 1 streams each file in batches,
checks every row (vectorised per batch) and reports every bad one as
`FILE: line N: reason`; if there is any, nothing is written. Pass 2 reads the files again
and writes them: agents upserted, log rows appended (COPY on PostgreSQL, executemany on
SQLite), all in one transaction.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .db import ACTION_TYPES, LOG_COLUMNS, SOURCES, agents as agents_table, token_usage_logs

BATCH_ROWS = 50_000
MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
LOG_REQUIRED = ("org_id", "created_at", "action_type", "source", "provider", "model")
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
AGENT_REQUIRED = ("id", "org_id", "name")
AGENT_COLUMNS = ("id", "org_id", "name", "avatar_url")
AVATAR_SCHEMES = ("https://", "http://", "data:image/")

ISO_AWARE = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)"
TOO_FINE = r".*\.\d{7,}.*"  # the database keeps microseconds
ISO_NAIVE = r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
DIGITS = r"\d+"
COST = r"\d{1,10}(?:\.\d{1,8})?"  # NUMERIC(18,8)


class Unreadable(Exception):
    """The file cannot be read on (missing, not UTF-8, broken CSV): stop at this line."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


@dataclass
class Report:
    """Errors of one file by line, printed in line order with every reason of a line.

    Held until the end so that a line's id reasons join its other ones; past FLUSH_AT bad
    lines they are printed as they come (a bad 10M-row file is not kept in memory).
    """

    path: str
    out: object = None
    bad: int = 0
    pending: dict = field(default_factory=dict)
    FLUSH_AT = 100_000

    def error(self, line: int, reason: str) -> None:
        self.batch({line: [reason]})

    def batch(self, errors: dict[int, list[str]]) -> None:
        for line, reasons in errors.items():
            if line not in self.pending:
                self.bad += 1
            self.pending.setdefault(line, []).extend(reasons)
        if len(self.pending) > self.FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        for line in sorted(self.pending):
            where = f"line {line}: " if line else ""  # line 0: the file as a whole
            print(f"{self.path}: {where}{'; '.join(self.pending[line])}", file=self.out or sys.stderr)
        self.pending.clear()


def _show(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


# ---------------------------------------------------------------- reading


def _records(path: str, batch_rows: int):
    """Yield (header, header_line) once, then batches of (line numbers, rows)."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise Unreadable(0, f"cannot open: {exc.strerror or exc}") from None
    with f:
        reader = csv.reader(f)
        start = 1
        try:
            header = None
            for row in reader:
                if row:
                    header = row
                    break
                start = reader.line_num + 1
            if header is None:
                raise Unreadable(1, "the file is empty: a header line is needed")
            yield [h.strip() for h in header], start
            lines, rows = [], []
            start = reader.line_num + 1
            for row in reader:
                if row:
                    lines.append(start)
                    rows.append(row)
                    if len(rows) >= batch_rows:
                        yield lines, rows
                        lines, rows = [], []
                start = reader.line_num + 1
            if rows:
                yield lines, rows
        except UnicodeDecodeError:
            raise Unreadable(reader.line_num + 1, "not UTF-8 text; nothing after this line can be read") from None
        except csv.Error as exc:
            raise Unreadable(reader.line_num, f"unreadable CSV ({exc}); nothing after this line can be read") from None


def _check_header(header: list[str], allowed, required, report: Report, line: int) -> bool:
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


def _columns(header, lines, rows, errors) -> tuple[list[int], dict[str, pd.Series]]:
    """Rows with the header's field count, as one string Series per column."""
    n = len(header)
    good_lines, good = [], []
    for line, row in zip(lines, rows):
        if len(row) != n:
            errors.setdefault(line, []).append(f"expected {n} fields, found {len(row)}")
        else:
            good_lines.append(line)
            good.append(row)
    cols = list(zip(*good)) if good else [() for _ in header]
    return good_lines, {name: pd.Series(col, dtype=object) for name, col in zip(header, cols)}


class _Errors:
    """Collects reasons per line for one batch from vectorised masks."""

    def __init__(self, lines: list[int], errors: dict):
        self.lines = np.asarray(lines, dtype=np.int64)
        self.errors = errors

    def add(self, mask, reason) -> None:
        """reason: a string, or a function of the cell value giving one."""
        mask = np.asarray(mask, dtype=bool)
        for i in np.flatnonzero(mask):
            self.errors.setdefault(int(self.lines[i]), []).append(reason(i) if callable(reason) else reason)


# ---------------------------------------------------------------- log rows


def _whole(s: pd.Series, maximum: int) -> tuple[np.ndarray, np.ndarray]:
    """(ok mask, int64 values) of whole numbers 0..maximum written as plain digits."""
    digits = s.str.fullmatch(DIGITS).to_numpy(dtype=bool)
    lens = s.str.len().to_numpy()
    short = digits & (lens <= 18)
    vals = np.zeros(len(s), dtype=np.int64)
    if short.any():
        vals[short] = s[short].astype(np.int64).to_numpy()
    ok = short.copy()
    for i in np.flatnonzero(digits & (lens > 18)):  # leading zeros, or past int64
        v = int(s.iat[i])
        if v <= MAX_BIGINT:
            ok[i], vals[i] = True, v
    return ok & (vals <= maximum), vals


def _check_logs(lines, c: dict[str, pd.Series], errors: dict) -> dict:
    """Validate one batch of log rows; return normalised columns (valid where no error)."""
    e = _Errors(lines, errors)
    n = len(lines)
    for name, s in c.items():
        e.add(s.str.contains("\x00", regex=False).to_numpy(dtype=bool), f"{name} contains a NUL character")
    for name in ("org_id", "provider", "model"):
        e.add((c[name].str.strip() == "").to_numpy(dtype=bool), f"{name} is empty")

    ts = c["created_at"].str.strip()
    aware = ts.str.fullmatch(ISO_AWARE).to_numpy(dtype=bool)
    naive = ts.str.fullmatch(ISO_NAIVE).to_numpy(dtype=bool)
    fine = aware & ts.str.fullmatch(TOO_FINE).to_numpy(dtype=bool)
    aware = aware & ~fine
    parsed = pd.to_datetime(ts.str.upper().where(aware, None), format="ISO8601", utc=True, errors="coerce")
    e.add(fine, lambda i: f"created_at {_show(ts.iat[i])} has more than 6 decimals of a second")
    e.add(naive, lambda i: f"created_at {_show(ts.iat[i])} has no UTC offset: add Z or ±HH:MM")
    e.add(~aware & ~naive & ~fine, lambda i: f"created_at {_show(ts.iat[i])} is not an ISO-8601 timestamp with an offset "
                                     "(e.g. 2025-03-01T09:30:00Z or 2025-03-01T10:30:00+01:00)")
    e.add(aware & parsed.isna().to_numpy(), lambda i: f"created_at {_show(ts.iat[i])} is not a valid date and time")

    a = c["action_type"]
    e.add(~a.isin(ACTION_TYPES).to_numpy(), lambda i: f"action_type {_show(a.iat[i])} is not one of {', '.join(ACTION_TYPES)}")
    src = c["source"]
    e.add(~src.isin(SOURCES).to_numpy(), lambda i: f"source {_show(src.iat[i])} is not system or byok")

    out = {"created_at": parsed.dt.tz_convert(None).to_numpy()}
    for name in TOKEN_COLUMNS:
        if name not in c:
            continue
        s = c[name].str.strip()
        empty = (s == "").to_numpy()
        ok, vals = _whole(s, MAX_BIGINT)
        e.add(~ok & ~empty, lambda i, s=s, name=name: f"{name} {_show(s.iat[i])} is not a whole number ≥ 0")
        out[name] = np.where(empty | ~ok, 0, vals)
    if "cost_usd" in c:
        s = c["cost_usd"].str.strip()
        empty = (s == "").to_numpy()
        ok = s.str.fullmatch(COST).to_numpy(dtype=bool) | empty

        def cost_reason(i, s=s):
            v = s.iat[i]
            if re.fullmatch(r"-\d*\.?\d+", v):
                return f"cost_usd {_show(v)} is negative"
            if re.fullmatch(r"\d+\.\d{9,}", v):
                return f"cost_usd {_show(v)} has more than 8 decimals"
            if re.fullmatch(r"\d{11,}(?:\.\d+)?", v):
                return f"cost_usd {_show(v)} is too large (at most 10 digits before the point)"
            return f"cost_usd {_show(v)} is not a decimal number like 0.00125"

        e.add(~ok, cost_reason)
        out["cost_usd"] = np.where(empty, None, s.to_numpy(dtype=object))
    if "latency_ms" in c:
        s = c["latency_ms"].str.strip()
        empty = (s == "").to_numpy()
        ok, vals = _whole(s, MAX_INT)
        e.add(~ok & ~empty, lambda i: f"latency_ms {_show(s.iat[i])} is not a whole number of milliseconds "
                                      f"from 0 to {MAX_INT}")
        out["latency_ms"] = np.where(empty | ~ok, None, vals.astype(object))
    if "id" in c:
        s = c["id"].str.strip()
        empty = (s == "").to_numpy()
        ok, vals = _whole(s, MAX_BIGINT)
        ok &= vals > 0
        e.add(~ok & ~empty, lambda i: f"id {_show(s.iat[i])} is not a whole number ≥ 1")
        out["id"] = np.where(empty | ~ok, None, vals.astype(object))
    for name in ("agent_id", "user_id"):
        if name in c:
            out[name] = c[name].where(c[name] != "", None).to_numpy(dtype=object)
    for name in ("org_id", "action_type", "source", "provider", "model"):
        out[name] = c[name].to_numpy(dtype=object)
    return out


def _validate_logs(path: str, report: Report, conn, batch_rows: int) -> dict | None:
    """Pass 1 over the log file. Returns facts for writing (None if the header is bad)."""
    gen = _records(path, batch_rows)
    header, hline = next(gen)
    if not _check_header(header, LOG_COLUMNS, LOG_REQUIRED, report, hline):
        return None
    ids, id_lines = [], []
    rows = 0
    for lines, batch in gen:
        errors: dict[int, list[str]] = {}
        good_lines, cols = _columns(header, lines, batch, errors)
        rows += len(lines)
        if good_lines:
            vals = _check_logs(good_lines, cols, errors)
            if "id" in vals:
                have = np.array([v is not None for v in vals["id"]], dtype=bool)
                ids.append(np.array(list(vals["id"][have]), dtype=np.int64))
                id_lines.append(np.asarray(good_lines, dtype=np.int64)[have])
        report.batch(errors)
    ids = np.concatenate(ids) if ids else np.array([], dtype=np.int64)
    id_lines = np.concatenate(id_lines) if id_lines else np.array([], dtype=np.int64)
    _check_ids(ids, id_lines, report, conn)
    return {"header": header, "rows": rows, "max_id": int(ids.max()) if ids.size else None}


def _check_ids(ids: np.ndarray, lines: np.ndarray, report: Report, conn) -> None:
    """Duplicates within the file, ids that exist, ids not above the table's largest."""
    if not ids.size:
        return
    order = np.lexsort((lines, ids))
    ids_s, lines_s = ids[order], lines[order]
    dup = np.zeros(ids.size, dtype=bool)
    dup[1:] = ids_s[1:] == ids_s[:-1]
    first_line = {}
    errors: dict[int, list[str]] = {}
    for i in np.flatnonzero(dup):
        j = i
        while dup[j]:
            j -= 1
        first_line.setdefault(int(ids_s[i]), int(lines_s[j]))
        errors.setdefault(int(lines_s[i]), []).append(
            f"id {int(ids_s[i])} appears again (first on line {first_line[int(ids_s[i])]})")
    t = token_usage_logs
    max_id = conn.execute(sa.select(sa.func.max(t.c.id))).scalar()
    if max_id is not None:
        low = np.flatnonzero(ids_s <= max_id)
        existing: set[int] = set()
        uniq = np.unique(ids_s[low])
        for k in range(0, uniq.size, 1000):
            part = [int(v) for v in uniq[k:k + 1000]]
            existing.update(conn.execute(sa.select(t.c.id).where(t.c.id.in_(part))).scalars())
        for i in low:
            v = int(ids_s[i])
            if v in existing:
                errors.setdefault(int(lines_s[i]), []).append(f"id {v} already exists in token_usage_logs")
            else:
                errors.setdefault(int(lines_s[i]), []).append(
                    f"id {v} is not above the largest existing id {max_id}: ids grow with insertion order; "
                    "leave id empty to have one assigned")
    report.batch(errors)


# ---------------------------------------------------------------- agents


def _validate_agents(path: str, report: Report, conn) -> list[dict] | None:
    """Agents are few: read, check and keep them all. None if any is bad."""
    gen = _records(path, 1 << 62)
    header, hline = next(gen)
    if not _check_header(header, AGENT_COLUMNS, AGENT_REQUIRED, report, hline):
        return None
    out: list[dict] = []
    errors: dict[int, list[str]] = {}
    first: dict[str, int] = {}
    for lines, batch in gen:
        good_lines, c = _columns(header, lines, batch, errors)
        e = _Errors(good_lines, errors)
        for name, s in c.items():
            e.add(s.str.contains("\x00", regex=False).to_numpy(dtype=bool), f"{name} contains a NUL character")
        for name in AGENT_REQUIRED:
            e.add((c[name].str.strip() == "").to_numpy(dtype=bool), f"{name} is empty")
        if "avatar_url" in c:
            av = c["avatar_url"].str.strip()
            bad = (av != "") & ~av.str.lower().str.startswith(AVATAR_SCHEMES)
            e.add(bad.to_numpy(dtype=bool), lambda i: f"avatar_url {_show(av.iat[i])} must start with "
                                                      "https://, http:// or data:image/ (or be empty)")
        for k, line in enumerate(good_lines):
            aid = c["id"].iat[k]
            if aid in first:
                errors.setdefault(line, []).append(f"agent id {aid!r} appears again (first on line {first[aid]})")
            else:
                first[aid] = line
            avatar = c["avatar_url"].iat[k].strip() if "avatar_url" in c else ""
            out.append({"line": line, "id": aid, "org_id": c["org_id"].iat[k], "name": c["name"].iat[k],
                        "avatar_url": avatar or None})
    ids = [a["id"] for a in out]
    known: dict[str, str] = {}
    for k in range(0, len(ids), 1000):
        part = ids[k:k + 1000]
        known.update(conn.execute(sa.select(agents_table.c.id, agents_table.c.org_id)
                                  .where(agents_table.c.id.in_(part))).all())
    for a in out:
        if a["id"] in known and known[a["id"]] != a["org_id"]:
            errors.setdefault(a["line"], []).append(
                f"agent id {a['id']!r} already belongs to org {known[a['id']]!r}, not {a['org_id']!r}")
        a["exists"] = a["id"] in known
    report.batch(errors)
    return None if errors else out


# ---------------------------------------------------------------- writing


def _write_agents(conn, agents: list[dict]) -> None:
    if not agents:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(agents_table)
    stmt = stmt.on_conflict_do_update(index_elements=[agents_table.c.id],
                                      set_={"name": stmt.excluded.name, "avatar_url": stmt.excluded.avatar_url})
    rows = [{k: a[k] for k in AGENT_COLUMNS} for a in agents]
    for k in range(0, len(rows), 5000):
        conn.execute(stmt, rows[k:k + 5000])


def _utc_text(stamps: np.ndarray, sqlite: bool) -> list[str]:
    """UTC datetime64 values as text: ISO with Z for COPY, ai_usage.db.sqlite_ts format for SQLite."""
    us = stamps.astype("datetime64[us]")
    if not sqlite:
        return np.datetime_as_string(us, unit="us", timezone="UTC").tolist()
    b = np.datetime_as_string(us, unit="us").astype("S26")
    b.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")
    return b.astype("U26").tolist()


def _write_logs(conn, path: str, facts: dict, batch_rows: int) -> int:
    """Pass 2: read the (valid) file again and append its rows."""
    header = facts["header"]
    pg = conn.dialect.name == "postgresql"
    cur = conn.connection.dbapi_connection.cursor()
    seq = None
    if pg:
        seq = conn.execute(sa.text("SELECT pg_get_serial_sequence('token_usage_logs', 'id')")).scalar()
    next_id = None  # set when ids are numbered here rather than by the database
    if seq and facts["max_id"] is not None:
        # Rows without an id must be numbered above the file's ids.
        conn.execute(sa.text(f"SELECT setval(:seq, GREATEST(:m, (SELECT last_value FROM {seq})))"),
                     {"seq": seq, "m": facts["max_id"]})
    elif not seq:  # SQLite (or a table without a sequence): number them here, above everything
        top = conn.execute(sa.select(sa.func.max(token_usage_logs.c.id))).scalar() or 0
        next_id = max(top, facts["max_id"] or 0) + 1
    body = [c for c in LOG_COLUMNS if c != "id" and (c in header or c in TOKEN_COLUMNS)]
    written = 0
    gen = _records(path, batch_rows)
    next(gen)
    for lines, batch in gen:
        errors: dict = {}
        good_lines, cols = _columns(header, lines, batch, errors)
        vals = _check_logs(good_lines, cols, errors)
        if errors:
            raise RuntimeError(f"{path} changed while it was being imported (line {min(errors)})")
        n = len(good_lines)
        for name in TOKEN_COLUMNS:
            vals.setdefault(name, np.zeros(n, dtype=np.int64))
        ids = vals.get("id", np.full(n, None, dtype=object)).copy()
        auto = np.array([v is None for v in ids], dtype=bool)
        if next_id is not None and auto.any():
            ids[auto] = list(range(next_id, next_id + int(auto.sum())))
            next_id += int(auto.sum())
            auto[:] = False
        vals["id"] = ids
        vals["created_at"] = _utc_text(vals["created_at"], sqlite=not pg)
        if not pg:  # SQLite stores the cost as REAL: rounded to its 8 decimals
            vals["cost_usd"] = [None if v is None else round(float(v), 8) for v in vals.get("cost_usd", [])]
        columns = {name: vals[name] if isinstance(vals[name], list) else vals[name].tolist()
                   for name in ["id"] + body}
        for mask, names in ((~auto, ["id"] + body), (auto, body)):
            if not mask.any():
                continue
            idx = np.flatnonzero(mask)
            data = zip(*[[columns[c][i] for i in idx] for c in names])
            if pg:
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\n").writerows(data)
                buf.seek(0)
                cur.copy_expert(f"COPY token_usage_logs ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)",
                                buf, size=1 << 20)
            else:
                cur.executemany(f"INSERT INTO token_usage_logs ({', '.join(names)}) "
                                f"VALUES ({', '.join('?' * len(names))})", data)
        written += n
    if seq and facts["max_id"] is not None:
        conn.execute(sa.text(f"SELECT setval(:seq, GREATEST((SELECT max(id) FROM token_usage_logs), "
                             f"(SELECT last_value FROM {seq})))"), {"seq": seq})
    cur.close()
    return written


# ---------------------------------------------------------------- the command


def import_files(engine: sa.Engine, file: str, agents_file: str | None = None, *,
                 batch_rows: int = BATCH_ROWS, out=None, err=None) -> int:
    """Validate both files fully, then write both in one transaction. Returns an exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    reports = []
    agents = None
    facts = None
    with engine.connect() as conn:
        if agents_file:
            rep = Report(agents_file, err)
            reports.append(rep)
            try:
                agents = _validate_agents(agents_file, rep, conn)
            except Unreadable as exc:
                rep.error(exc.line, exc.reason)
        rep = Report(file, err)
        reports.append(rep)
        try:
            facts = _validate_logs(file, rep, conn, batch_rows)
        except Unreadable as exc:
            rep.error(exc.line, exc.reason)
    for r in reports:
        r.flush()
    if any(r.bad for r in reports):
        detail = ", ".join(f"{r.bad} in {Path(r.path).name}" for r in reports if r.bad)
        print(f"Import refused: bad lines ({detail}); nothing was written.", file=err)
        return 2
    try:
        with engine.begin() as conn:
            _write_agents(conn, agents or [])
            rows = _write_logs(conn, file, facts, batch_rows)
    except (sa.exc.DBAPIError, RuntimeError, Unreadable) as exc:
        reason = getattr(exc, "orig", None) or exc
        print(f"Import failed while writing, nothing was written: {str(reason).strip().splitlines()[0]}", file=err)
        return 1
    agents = agents or []
    updated = [a["id"] for a in agents if a["exists"]]
    line = f"Imported {rows:,} log rows from {Path(file).name}"
    if agents_file:
        line += f" and {len(agents):,} agents from {Path(agents_file).name} ({len(agents) - len(updated)} new, " \
                f"{len(updated)} updated"
        if updated:
            shown = ", ".join(updated[:10]) + (f" and {len(updated) - 10} more" if len(updated) > 10 else "")
            line += f": {shown}"
        line += ")"
    print(line + ".", file=out)
    return 0


def import_cli(engine: sa.Engine, file: str, agents_file: str | None = None) -> int:
    """`ai-usage import`: 0 when written, 2 for a bad file (every bad line on stderr)."""
    return import_files(engine, file, agents_file)
