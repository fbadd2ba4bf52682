"""What a row's `source` means: 'system', 'byok' or 'other', the same in every query.

The platform writes 'system' or 'byok', but rows written by other tools or by hand can
say 'BYOK', ' system ', 'System' or ''. A source is read trimmed of ASCII whitespace
(space, tab, LF, VT, FF, CR) and compared without ASCII case; whatever is still neither
word is 'other'. Todos counts every row, so Sistema + BYOK + Otro add up to Todos.

Only ASCII letters fold: SQLite's lower() knows no others, and PostgreSQL's would fold
e.g. the Kelvin sign 'K' (U+212A) to 'k' under most locales, so it runs under the "C"
collation, which folds A-Z only. Both engines then agree row for row.
"""
from __future__ import annotations

KNOWN = ("system", "byok")
SPLIT = ("system", "byok", "other")  # the parts of Todos, in the order the page shows them
WHITESPACE = " \t\n\x0b\x0c\r"


def source_class_sql(dialect: str, column: str = "source") -> str:
    """SQL for the class of `column`: 'system', 'byok' or 'other'."""
    codes = ", ".join(str(ord(c)) for c in WHITESPACE)
    if dialect == "sqlite":
        folded = f"lower(trim({column}, char({codes})))"
    else:
        chars = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)
        folded = f'lower(btrim({column}, {chars}) COLLATE "C")'
    whens = " ".join(f"WHEN '{s}' THEN '{s}'" for s in KNOWN)
    return f"(CASE {folded} {whens} ELSE 'other' END)"

