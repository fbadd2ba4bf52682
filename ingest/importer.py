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
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from storage.schema import ACTION_TYPES, LOG_COLUMNS, SOURCES, agents as agents_table, token_usage_logs

BATCH_ROWS = 50_000
MAX_BIGINT = 2**63 - 1
# Explicit ids stay at or below 2^62: the id sequence (BIGINT) is moved past the largest
# id, and an id near 2^63 - 1 would leave the platform's own inserts no id to take
# (nextval: reached maximum value). 2^62 leaves room for 4.6e18 more rows.
ID_CEILING = 2**62
MAX_INT = 2**31 - 1
# Tokens per row: far above any context window, low enough that sums over billions of
# rows stay inside BIGINT (SQLite raises "integer overflow", the rollups cast to BIGINT).
MAX_TOKENS = 2**31 - 1
LOG_REQUIRED = ("org_id", "created_at", "action_type", "source", "provider", "model")
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
AGENT_REQUIRED = ("id", "org_id", "name")
AGENT_COLUMNS = ("id", "org_id", "name", "avatar_url")
AVATAR_SCHEMES = ("https://", "http://", "data:image/")

# ASCII digits only ([0-9], not \d, which also matches other scripts' digits).
ISO_AWARE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
                       r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)")
ISO_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")
TOO_FINE = re.compile(r".*\.[0-9]{7,}.*")  # the database keeps microseconds
DIGITS = re.compile(r"[0-9]+")
COST = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,8})?")  # NUMERIC(18,8), as written by hand
# What pandas and psql also write: E-notation (5.819e-05) and integral floats (2336.0).
NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
COST_STEP = Decimal("0.00000001")
COST_LIMIT = Decimal(10) ** 10


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
        f = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (the `with f:` below, after the error mapping)
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
            raise Unreadable(_first_non_utf8_line(path), "not UTF-8 text; nothing was read past it") from None
        except csv.Error as exc:
            raise Unreadable(reader.line_num, f"unreadable CSV ({exc}); nothing after this line can be read") from None


def _first_non_utf8_line(path: str) -> int:
    """The physical line of the first undecodable byte (text reading decodes blocks ahead)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return n
    return 0


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


def _columns(header, lines, rows, errors) -> tuple[list[int], dict[str, np.ndarray]]:
    """Rows with the header's field count, as one object array of strings per column."""
    n = len(header)
    good_lines, good = [], []
    for line, row in zip(lines, rows):
        if len(row) != n:
            errors.setdefault(line, []).append(f"expected {n} fields, found {len(row)}")
        else:
            good_lines.append(line)
            good.append(row)
    cols = list(zip(*good)) if good else [() for _ in header]
    return good_lines, {name: _array(col) for name, col in zip(header, cols)}


def _array(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _match(rx: re.Pattern, col: np.ndarray) -> np.ndarray:
    return np.fromiter((rx.fullmatch(v) is not None for v in col), dtype=bool, count=len(col))


def _per_value(col: np.ndarray, bad) -> np.ndarray:
    """bad(value) for each distinct value once (ids, names, types repeat a lot)."""
    if not len(col):
        return np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(col)
    return np.array([bool(bad(u)) for u in uniques], dtype=bool)[codes]


def _strip(col: np.ndarray) -> np.ndarray:
    return _array([v.strip() for v in col])


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


def _decimal(v: str) -> Decimal | None:
    """The exact value of an unsigned decimal or E-notation number (ASCII digits), else None."""
    if not NUMBER.fullmatch(v):
        return None
    try:
        return Decimal(v)
    except InvalidOperation:
        return None


def _integral(v: str, maximum: int) -> int | None:
    """An integral number written as a float ('2336.0', '1.2e3'): its int if 0..maximum."""
    d = _decimal(v)
    if d is None or d > maximum or d != d.to_integral_value():
        return None
    return int(d)


def _whole(col: np.ndarray, maximum: int) -> tuple[np.ndarray, np.ndarray]:
    """(ok mask, int64 values) of whole numbers 0..maximum: plain digits, or an integral
    float as pandas writes an integer column with missing values ('12.0')."""
    digits = _match(DIGITS, col)
    lens = np.fromiter(map(len, col), dtype=np.int64, count=len(col))
    short = digits & (lens <= 18)
    vals = np.zeros(len(col), dtype=np.int64)
    if short.any():
        vals[short] = col[short].astype("U18").astype(np.int64)
    ok = short.copy()
    for i in np.flatnonzero(digits & (lens > 18)):  # leading zeros, or past int64
        v = int(col[i])
        if v <= MAX_BIGINT:
            ok[i], vals[i] = True, v
    for i in np.flatnonzero(~digits & (lens > 0)):  # rare: only files with float columns
        v = _integral(col[i], maximum)
        if v is not None:
            ok[i], vals[i] = True, v
    return ok & (vals <= maximum), vals


def _cost(v: str, round_cost: bool) -> tuple[str | None, bool]:
    """(plain decimal text or None when refused, rounded?) of a cost not written like 0.00125."""
    d = _decimal(v)
    if d is None or d >= COST_LIMIT:
        return None, False
    exact = d.quantize(COST_STEP, rounding=ROUND_HALF_EVEN)
    if exact != d and not round_cost:
        return None, False
    return format(exact if exact != d else d, "f"), exact != d


def _check_nul(e: _Errors, c: dict[str, np.ndarray]) -> None:
    for name, col in c.items():
        if "\x00" in "".join(col):
            e.add(np.array(["\x00" in v for v in col], dtype=bool), f"{name} contains a NUL character")


def _cost_reason(v: str) -> str:
    if v.startswith("-") and _decimal(v[1:]) is not None:
        return f"cost_usd {_show(v)} is negative"
    d = _decimal(v)
    if d is None:
        return f"cost_usd {_show(v)} is not a decimal number like 0.00125 or 5.819e-05"
    if d >= COST_LIMIT:
        return f"cost_usd {_show(v)} is too large (at most 10 digits before the point)"
    return f"cost_usd {_show(v)} has more than 8 decimals (--round-cost rounds half-even to 8)"


def _check_logs(lines, c: dict[str, np.ndarray], errors: dict, round_cost: bool = False,
                counts: dict | None = None):
    """Validate one batch of log rows; return (ids, ok mask) of the id column (or None).

    counts["rounded"] grows by the costs --round-cost will round."""
    e = _Errors(lines, errors)
    _check_nul(e, c)
    for name in ("org_id", "provider", "model"):
        e.add(_per_value(c[name], lambda v: not v.strip()), f"{name} is empty")

    ts = _strip(c["created_at"])
    aware = _match(ISO_AWARE, ts)
    fine = aware & _match(TOO_FINE, ts)
    aware &= ~fine
    naive = ~aware & ~fine & _match(ISO_NAIVE, ts)
    parsed = pd.to_datetime(_array([v.upper() if ok else None for v, ok in zip(ts, aware)]),
                            format="ISO8601", utc=True, errors="coerce")
    stamps = np.asarray(parsed.tz_convert(None).as_unit("us").to_numpy())
    e.add(fine, lambda i: f"created_at {_show(ts[i])} has more than 6 decimals of a second")
    e.add(naive, lambda i: f"created_at {_show(ts[i])} has no UTC offset: add Z or ±HH:MM")
    e.add(~aware & ~naive & ~fine, lambda i: f"created_at {_show(ts[i])} is not an ISO-8601 timestamp with an "
                                             "offset (e.g. 2025-03-01T09:30:00Z or 2025-03-01T10:30:00+01:00)")
    e.add(aware & np.isnat(stamps), lambda i: f"created_at {_show(ts[i])} is not a valid date and time")

    a, src = c["action_type"], c["source"]
    e.add(_per_value(a, lambda v: v not in ACTION_TYPES),
          lambda i: f"action_type {_show(a[i])} is not one of {', '.join(ACTION_TYPES)}")
    e.add(_per_value(src, lambda v: v not in SOURCES), lambda i: f"source {_show(src[i])} is not system or byok")

    for name in TOKEN_COLUMNS:
        if name in c:
            col = _strip(c[name])
            ok, _ = _whole(col, MAX_TOKENS)
            e.add(~ok & (col != ""), lambda i, col=col, name=name:
                  f"{name} {_show(col[i])} is not a whole number from 0 to {MAX_TOKENS}")
    if "cost_usd" in c:
        col = _strip(c["cost_usd"])
        bad = np.zeros(len(col), dtype=bool)
        for i in np.flatnonzero(~_match(COST, col) & (col != "")):
            text, rounded = _cost(col[i], round_cost)
            bad[i] = text is None
            if rounded and counts is not None:
                counts["rounded"] = counts.get("rounded", 0) + 1
        e.add(bad, lambda i: _cost_reason(col[i]))
    if "latency_ms" in c:
        col = _strip(c["latency_ms"])
        ok, _ = _whole(col, MAX_INT)
        e.add(~ok & (col != ""), lambda i: f"latency_ms {_show(col[i])} is not a whole number of milliseconds "
                                           f"from 0 to {MAX_INT}")
    ids = None
    if "id" in c:
        col = _strip(c["id"])
        ok, vals = _whole(col, MAX_BIGINT)
        ok &= vals > 0
        e.add(~ok & (col != ""), lambda i: f"id {_show(col[i])} is not a whole number ≥ 1")
        high = ok & (vals > ID_CEILING)
        e.add(high, lambda i: f"id {int(vals[i])} is above {ID_CEILING} (2^62): the id sequence would be moved "
                              "past it and run out, and the platform's own inserts would fail; leave id empty "
                              "to have one assigned")
        ids = (vals, ok & ~high)
    return ids


def _tokens(col: np.ndarray) -> np.ndarray:
    """A checked token column as int64 (empty: 0); plain digits take the vectorised path."""
    values = [v.strip() or "0" for v in col]
    try:
        return np.array(values).astype(np.int64)
    except ValueError:  # integral floats ('12.0') somewhere in the batch
        return _whole(_array(values), MAX_TOKENS)[1]


def _int_or_none(v: str, maximum: int) -> int | None:
    if not v:
        return None
    try:
        return int(v)
    except ValueError:  # an integral float, checked in pass 1
        return _integral(v, maximum)


def _convert_logs(c: dict[str, np.ndarray], n: int, round_cost: bool = False) -> dict:
    """Normalised columns of a batch that passed _check_logs (pass 2: no checks again)."""
    out = {}
    stamps = pd.to_datetime(_array([v.strip().upper() for v in c["created_at"]]), format="ISO8601", utc=True)
    out["created_at"] = np.asarray(stamps.tz_convert(None).as_unit("us").to_numpy())
    for name in TOKEN_COLUMNS:
        col = c.get(name)
        out[name] = np.zeros(n, dtype=np.int64) if col is None else _tokens(col)
    for name, maximum in (("latency_ms", MAX_INT), ("id", MAX_BIGINT)):
        if name in c:
            out[name] = _array([_int_or_none(v, maximum) for v in _strip(c[name])])
    if "cost_usd" in c:
        out["cost_usd"] = _array([(v if COST.fullmatch(v) else _cost(v, round_cost)[0]) if v else None
                                  for v in _strip(c["cost_usd"])])
    for name in ("agent_id", "user_id"):
        if name in c:
            out[name] = _array([v or None for v in c[name]])
    for name in ("org_id", "action_type", "source", "provider", "model"):
        out[name] = c[name]
    return out


def _validate_logs(path: str, report: Report, conn, batch_rows: int, round_cost: bool = False) -> dict | None:
    """Pass 1 over the log file. Returns facts for writing (None if the header is bad)."""
    gen = _records(path, batch_rows)
    header, hline = next(gen)
    if not _check_header(header, LOG_COLUMNS, LOG_REQUIRED, report, hline):
        return None
    ids, id_lines = [], []
    rows = 0
    counts: dict = {}
    for lines, batch in gen:
        errors: dict[int, list[str]] = {}
        good_lines, cols = _columns(header, lines, batch, errors)
        rows += len(lines)
        if good_lines:
            found = _check_logs(good_lines, cols, errors, round_cost, counts)
            if found is not None:
                vals, have = found
                ids.append(vals[have])
                id_lines.append(np.asarray(good_lines, dtype=np.int64)[have])
        report.batch(errors)
    ids = np.concatenate(ids) if ids else np.array([], dtype=np.int64)
    id_lines = np.concatenate(id_lines) if id_lines else np.array([], dtype=np.int64)
    _check_ids(ids, id_lines, report, conn)
    return {"header": header, "rows": rows, "max_id": int(ids.max()) if ids.size else None,
            "rounded": counts.get("rounded", 0), "round_cost": round_cost}


def _stat(path: str) -> tuple | None:
    """Size and modification time: pass 2 must read the file pass 1 checked."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


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
            f"id {int(ids_s[i])} appears again (first on line {int(lines_s[first[i]])})")
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
        _check_nul(e, c)
        for name in AGENT_REQUIRED:
            e.add(_per_value(c[name], lambda v: not v.strip()), f"{name} is empty")
        av = _strip(c["avatar_url"]) if "avatar_url" in c else _array([""] * len(good_lines))
        bad = np.array([v != "" and not v.lower().startswith(AVATAR_SCHEMES) for v in av], dtype=bool)
        # add() calls the reason at once, in this pass: binding `av` late is safe.
        e.add(bad, lambda i: f"avatar_url {_show(av[i])} must start with https://, http:// or data:image/ "  # noqa: B023
                             "(or be empty)")
        for k, line in enumerate(good_lines):
            aid = c["id"][k]
            if aid in first:
                errors.setdefault(line, []).append(f"agent id {aid!r} appears again (first on line {first[aid]})")
            else:
                first[aid] = line
            out.append({"line": line, "id": aid, "org_id": c["org_id"][k], "name": c["name"][k],
                        "avatar_url": av[k] or None})
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
    """UTC datetime64 values as text: ISO with Z for COPY, storage.engine.sqlite_ts format for SQLite."""
    us = stamps.astype("datetime64[us]")
    if not sqlite:
        return np.datetime_as_string(us, unit="us", timezone="UTC").tolist()
    b = np.datetime_as_string(us, unit="us").astype("S26")
    b.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")
    return b.astype("U26").tolist()


def _write_logs(conn, path: str, facts: dict, batch_rows: int) -> int:
    """Pass 2: read the (valid) file again and append its rows.

    PostgreSQL: a file without ids is numbered by the id sequence (COPY without the
    column). A file with ids has its id-less rows numbered here, above its ids, and the
    sequence is moved past them only after the COPY, in the same transaction: setval is
    never rolled back, so an import that fails or is killed before it leaves the
    sequence where it was. SQLite numbers id-less rows here, above everything."""
    header = facts["header"]
    pg = conn.dialect.name == "postgresql"
    cur = conn.connection.dbapi_connection.cursor()
    seq = None
    if pg:
        seq = conn.execute(sa.text("SELECT pg_get_serial_sequence('token_usage_logs', 'id')")).scalar()
    next_id = None  # set when ids are numbered here rather than by the database
    if not seq or facts["max_id"] is not None:
        top = conn.execute(sa.select(sa.func.max(token_usage_logs.c.id))).scalar() or 0
        if seq:
            top = max(top, conn.execute(sa.text(f"SELECT last_value FROM {seq}")).scalar() or 0)
        next_id = max(top, facts["max_id"] or 0) + 1
    body = [c for c in LOG_COLUMNS if c != "id" and (c in header or c in TOKEN_COLUMNS)]
    written = 0
    gen = _records(path, batch_rows)
    next(gen)
    for lines, batch in gen:
        errors: dict = {}
        good_lines, cols = _columns(header, lines, batch, errors)
        n = len(good_lines)
        try:
            if errors:
                raise ValueError(min(errors))
            vals = _convert_logs(cols, n, facts["round_cost"])
        except ValueError:
            raise RuntimeError(f"{path} changed while it was being imported") from None
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
        for mask, names in ((~auto, ["id"] + body), (auto, body)):
            if not mask.any():
                continue
            # tolist(): Python ints and strs (sqlite3 would store numpy ints as blobs).
            data = zip(*[np.asarray(vals[c], dtype=object if isinstance(vals[c], list) else None)[mask].tolist()
                         for c in names])
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
    if seq and facts["max_id"] is not None and written:
        conn.execute(sa.text(f"SELECT setval(:seq, GREATEST((SELECT max(id) FROM token_usage_logs), "
                             f"(SELECT last_value FROM {seq})))"), {"seq": seq})
    cur.close()
    return written


# ---------------------------------------------------------------- the command


def _first_line(exc: BaseException) -> str:
    reason = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    return lines[0] if lines else type(reason).__name__


def import_files(engine: sa.Engine, file: str, agents_file: str | None = None, *,
                 batch_rows: int = BATCH_ROWS, out=None, err=None, round_cost: bool = False) -> int:
    """Validate both files fully, then write both in one transaction. Returns an exit code.

    round_cost: costs with more than 8 decimals are rounded half-even to 8 (and counted)
    instead of refused."""
    out, err = out or sys.stdout, err or sys.stderr
    # The raw cursor (COPY, executemany) raises the driver's own errors, not SQLAlchemy's.
    db_errors = (sa.exc.SQLAlchemyError, engine.dialect.loaded_dbapi.Error)
    try:
        return _import(engine, file, agents_file, batch_rows, out, err, round_cost, db_errors)
    except db_errors as exc:  # while validating: the database could not be read
        print(f"Import failed while reading the database: {_first_line(exc)}; nothing was written.", file=err)
        return 1


def _import(engine, file, agents_file, batch_rows, out, err, round_cost, db_errors) -> int:
    reports = []
    agents = None
    facts = None
    stamp = None
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
            stamp = _stat(file)
            facts = _validate_logs(file, rep, conn, batch_rows, round_cost)
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
            if _stat(file) != stamp:
                raise RuntimeError(f"{file} changed while it was being imported")
    except (*db_errors, RuntimeError, Unreadable) as exc:
        print(f"Import failed while writing: {_first_line(exc)}; nothing was written.", file=err)
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
    if facts["rounded"]:
        print(f"Rounded {facts['rounded']:,} cost_usd values to 8 decimals (half-even, --round-cost).", file=out)
    return 0


def import_cli(engine: sa.Engine, file: str, agents_file: str | None = None, round_cost: bool = False) -> int:
    """`ai-usage import`: 0 when written, 2 for a bad file (every bad line on stderr), 1 when
    the database fails (one line on stderr, nothing written)."""
    return import_files(engine, file, agents_file, round_cost=round_cost)
