"""Import reading: stream a CSV file in batches of lines, and split a batch into column arrays."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .rules import array


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
            print(f"{self.path}: {where}{'; '.join(self.pending[line])}", file=self.out or sys.stderr)  # type: ignore[arg-type]  # a text stream
        self.pending.clear()


def read_batches(path: str, batch_rows: int):
    """Yield (header, header_line) once, then batches of (line numbers, rows)."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (outside `with` so its OSError maps to a message; closed below)
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
            raise Unreadable(first_non_utf8_line(path), "not UTF-8 text; nothing was read past it") from None
        except csv.Error as exc:
            raise Unreadable(reader.line_num, f"unreadable CSV ({exc}); nothing after this line can be read") from None


def first_non_utf8_line(path: str) -> int:
    """The physical line of the first undecodable byte (text reading decodes blocks ahead)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return n
    return 0


def batch_columns(header, lines, rows, errors) -> tuple[list[int], dict[str, np.ndarray]]:
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
    return good_lines, {name: array(col) for name, col in zip(header, cols)}


def file_stamp(path: str) -> tuple | None:
    """Size and modification time: pass 2 must read the file pass 1 checked."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns
