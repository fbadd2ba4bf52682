"""CSV import: validate every row of both files first, then write them in one transaction.

`ai-usage import LOGS.csv [--agents AGENTS.csv]`. Pass 1 streams each file in batches,
checks every row (vectorised per batch) and reports every bad one as
`FILE: line N: reason`; if there is any, nothing is written. Pass 2 reads the files again
and writes them: agents upserted, log rows appended (COPY on PostgreSQL, executemany on
SQLite), all in one transaction.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa

from .read import Report, Unreadable, file_stamp
from .rules import BATCH_ROWS
from .validate import validate_agents, validate_logs
from .write import write_agents, write_logs

__all__ = ["BATCH_ROWS", "import_cli", "import_files"]


def _first_line(exc: BaseException) -> str:
    reason = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    return lines[0] if lines else type(reason).__name__


def import_files(
    engine: sa.Engine,
    file: str,
    agents_file: str | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
    out=None,
    err=None,
    round_cost: bool = False,
) -> int:
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
                agents = validate_agents(agents_file, rep, conn)
            except Unreadable as exc:
                rep.error(exc.line, exc.reason)
        rep = Report(file, err)
        reports.append(rep)
        try:
            stamp = file_stamp(file)
            facts = validate_logs(file, rep, conn, batch_rows, round_cost)
        except Unreadable as exc:
            rep.error(exc.line, exc.reason)
    for r in reports:
        r.flush()
    if any(r.bad for r in reports):
        detail = ", ".join(f"{r.bad} in {Path(r.path).name}" for r in reports if r.bad)
        print(f"Import refused: bad lines ({detail}); nothing was written.", file=err)
        return 2
    assert facts is not None  # every check passed: validate_logs returned its facts
    try:
        with engine.begin() as conn:
            write_agents(conn, agents or [])
            rows = write_logs(conn, file, facts, batch_rows)
            if file_stamp(file) != stamp:
                raise RuntimeError(f"{file} changed while it was being imported")
    except (*db_errors, RuntimeError, Unreadable) as exc:
        print(f"Import failed while writing: {_first_line(exc)}; nothing was written.", file=err)
        return 1
    agents = agents or []
    updated = [a["id"] for a in agents if a["exists"]]
    line = f"Imported {rows:,} log rows from {Path(file).name}"
    if agents_file:
        line += (
            f" and {len(agents):,} agents from {Path(agents_file).name} ({len(agents) - len(updated)} new, "
            f"{len(updated)} updated"
        )
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
