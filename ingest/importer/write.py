"""Import writing (pass 2): read the valid files again and append their rows through ingest.bulk."""

from __future__ import annotations

import numpy as np

from storage.schema import LOG_COLUMNS

from .. import bulk
from .read import batch_columns, read_batches
from .rules import AGENT_COLUMNS, TOKEN_COLUMNS, convert_logs


def write_agents(conn, agents: list[dict]) -> None:
    bulk.upsert_agents(conn, [{k: a[k] for k in AGENT_COLUMNS} for a in agents])


def write_logs(conn, path: str, facts: dict, batch_rows: int) -> int:
    """Pass 2: read the (valid) file again and append its rows.

    PostgreSQL: a file without ids is numbered by the id sequence (COPY without the
    column). A file with ids has its id-less rows numbered here, above its ids, and the
    sequence is moved past them only after the COPY, in the same transaction: setval is
    never rolled back, so an import that fails or is killed before it leaves the
    sequence where it was. SQLite numbers id-less rows here, above everything."""
    header = facts["header"]
    writer = bulk.LogWriter(conn)
    pg = writer.pg
    seq = bulk.id_sequence(conn)
    next_id = None  # set when ids are numbered here rather than by the database
    if not seq or facts["max_id"] is not None:
        next_id = bulk.first_free_id(conn, seq, facts["max_id"])
    body = [c for c in LOG_COLUMNS if c != "id" and (c in header or c in TOKEN_COLUMNS)]
    written = 0
    gen = read_batches(path, batch_rows)
    next(gen)
    for lines, batch in gen:
        errors: dict = {}
        good_lines, cols = batch_columns(header, lines, batch, errors)
        n = len(good_lines)
        try:
            if errors:
                raise ValueError(min(errors))
            vals = convert_logs(cols, n, facts["round_cost"])
        except ValueError:
            raise RuntimeError(f"{path} changed while it was being imported") from None
        ids = vals.get("id", np.full(n, None, dtype=object)).copy()
        auto = np.array([v is None for v in ids], dtype=bool)
        if next_id is not None and auto.any():
            ids[auto] = list(range(next_id, next_id + int(auto.sum())))
            next_id += int(auto.sum())
            auto[:] = False
        vals["id"] = ids
        vals["created_at"] = bulk.utc_text(vals["created_at"], sqlite=not pg)
        if not pg:  # SQLite stores the cost as REAL: rounded to its 8 decimals
            vals["cost_usd"] = [None if v is None else round(float(v), 8) for v in vals.get("cost_usd", [])]
        for mask, names in ((~auto, ["id"] + body), (auto, body)):
            if not mask.any():
                continue
            # tolist(): Python ints and strs (sqlite3 would store numpy ints as blobs).
            data = zip(
                *[
                    np.asarray(vals[c], dtype=object if isinstance(vals[c], list) else None)[mask].tolist()
                    for c in names
                ]
            )
            writer.write(names, data)
        written += n
    if seq and facts["max_id"] is not None and written:
        bulk.advance_sequence(conn, seq)
    writer.close()
    return written
