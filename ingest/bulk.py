"""The one bulk writer of the write side: log rows by COPY (PostgreSQL) or executemany (SQLite), agents by upsert.

Both the CSV import and the demo data append through `LogWriter` on the caller's
transaction (the raw DBAPI cursor: COPY is 10x faster than INSERT on PostgreSQL), and
upsert agents with `upsert_agents`. When the caller numbers rows itself (a CSV with
ids), `first_free_id` picks the ids above everything taken and `advance_sequence` moves
PostgreSQL's id sequence past them after the COPY, in the same transaction.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import sqlalchemy as sa

from storage.schema import agents as agents_table, token_usage_logs

COPY_BUFFER = 1 << 20  # bytes per COPY read
AGENT_BATCH = 5000  # agent rows per executemany


def copy_sql(names) -> str:
    return f"COPY token_usage_logs ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"


def insert_sql(names) -> str:
    return f"INSERT INTO token_usage_logs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def utc_text(stamps: np.ndarray, sqlite: bool) -> list[str]:
    """UTC datetime64 values as text: ISO with Z for COPY, storage.engine.sqlite_ts format for SQLite."""
    us = stamps.astype("datetime64[us]")
    if not sqlite:
        return np.datetime_as_string(us, unit="us", timezone="UTC").tolist()
    b = np.datetime_as_string(us, unit="us").astype("S26")
    b.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")
    return b.astype("U26").tolist()


class LogWriter:
    """Append rows to token_usage_logs inside conn's transaction; close() when done.

    background=True (PostgreSQL): COPY runs on a thread, so the caller builds the next
    chunk meanwhile; an error there is raised by the next call on the caller's thread.
    """

    def __init__(self, conn, background: bool = False):
        self.pg = conn.dialect.name == "postgresql"
        self.cursor = conn.connection.dbapi_connection.cursor()
        self.error: BaseException | None = None
        self.thread = None
        if background and self.pg:
            import queue
            import threading

            self.q: queue.Queue = queue.Queue(maxsize=2)
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def write(self, names, rows) -> None:
        """rows: an iterable of tuples of Python values (None = NULL), in the order of names."""
        if self.pg:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            buf.seek(0)
            self._copy(copy_sql(names), buf)
        else:
            self.cursor.executemany(insert_sql(names), rows)

    def copy_csv(self, names, text: str) -> None:
        """PostgreSQL: COPY CSV text the caller built (unquoted empty = NULL)."""
        self._copy(copy_sql(names), io.StringIO(text))

    def _copy(self, sql: str, buf) -> None:
        if self.thread is None:
            self.cursor.copy_expert(sql, buf, size=COPY_BUFFER)
            return
        if self.error is not None:
            raise self.error
        self.q.put((sql, buf))

    def _run(self) -> None:
        while (item := self.q.get()) is not None:
            if self.error is None:
                try:
                    self.cursor.copy_expert(item[0], item[1], size=COPY_BUFFER)
                except BaseException as exc:  # re-raised on the caller's thread
                    self.error = exc

    def finish(self) -> None:
        """Wait for the background COPYs (if any) and raise what failed there."""
        if self.thread is not None:
            self.q.put(None)
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.cursor.close()


def upsert_agents(conn, rows: list[dict], update=("name", "avatar_url")) -> int:
    """Insert agents (dicts of id, org_id, name, avatar_url), or update `update` of those that exist."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # the same upsert API
    stmt = insert(agents_table)
    stmt = stmt.on_conflict_do_update(index_elements=[agents_table.c.id], set_={k: stmt.excluded[k] for k in update})
    for k in range(0, len(rows), AGENT_BATCH):
        conn.execute(stmt, rows[k : k + AGENT_BATCH])
    return len(rows)


def id_sequence(conn) -> str | None:
    """PostgreSQL: the sequence that numbers token_usage_logs.id (None on SQLite)."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(sa.text("SELECT pg_get_serial_sequence('token_usage_logs', 'id')")).scalar()


def first_free_id(conn, seq: str | None, above: int | None) -> int:
    """The first id above every stored id, the sequence's last value and `above`."""
    top = conn.execute(sa.select(sa.func.max(token_usage_logs.c.id))).scalar() or 0
    if seq:
        top = max(top, conn.execute(sa.text(f"SELECT last_value FROM {seq}")).scalar() or 0)
    return max(top, above or 0) + 1


def advance_sequence(conn, seq: str) -> None:
    """Move the id sequence past the ids written by hand. Call it after the COPY, in the
    same transaction: setval is never rolled back, so a failed import leaves it where it was."""
    conn.execute(
        sa.text(
            f"SELECT setval(:seq, GREATEST((SELECT max(id) FROM token_usage_logs), (SELECT last_value FROM {seq})))"
        ),
        {"seq": seq},
    )
