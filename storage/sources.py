"""What a row's `source` means: 'system', 'byok' or 'other', the same in every query.

The platform writes 'system' or 'byok', but rows written by other tools or by hand can
say 'BYOK', ' system ', 'System' or ''. A source is read trimmed of ASCII whitespace
(space, tab, LF, VT, FF, CR) and compared without ASCII case; whatever is still neither
word is 'other'. Todos counts every row, so Sistema + BYOK + Otro add up to Todos.

Only ASCII letters fold: SQLite's lower() knows no others, and PostgreSQL's would fold
e.g. the Kelvin sign 'K' (U+212A) to 'k' under most locales, so it runs under the "C"
collation, which folds A-Z only. Both engines then agree row for row.

Nearly every row holds one of the two words exactly: both expressions decide those with
a plain comparison and fold only the rest (folding every row made a raw read of
400,000 SQLite rows ~4x slower).
"""

from __future__ import annotations

KNOWN = ("system", "byok")
SPLIT = ("system", "byok", "other")  # the parts of Todos, in the order the page shows them
WHITESPACE = " \t\n\x0b\x0c\r"


def _folded(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"lower(trim({column}, char({', '.join(str(ord(c)) for c in WHITESPACE)})))"
    chars = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)
    return f'lower(btrim({column}, {chars}) COLLATE "C")'


def source_class_sql(dialect: str, column: str = "source") -> str:
    """SQL for the class of `column`: 'system', 'byok' or 'other'."""
    exact = " ".join(f"WHEN {column} = '{s}' THEN '{s}'" for s in KNOWN)
    whens = " ".join(f"WHEN '{s}' THEN '{s}'" for s in KNOWN)
    return f"(CASE {exact} ELSE (CASE {_folded(dialect, column)} {whens} ELSE 'other' END) END)"


def source_match_sql(dialect: str, source: str, column: str = "source") -> str:
    """SQL true for the rows of class `source` (one of SPLIT)."""
    if source not in SPLIT:
        raise ValueError(source)
    known = ", ".join(f"'{s}'" for s in KNOWN)
    odd = f"({column} NOT IN ({known}) AND {source_class_sql(dialect, column)} = '{source}')"
    return f"({column} = '{source}' OR {odd})" if source in KNOWN else odd
