"""Each cached page query has a cache name of its own (callbacks.common.query's `cache_as`).

The answer cache keys an entry by that name and the filters: two call sites sharing a name
would hand one the other's answer (the emptied-page banner once read the overview's figures
as its agents' names). Every literal name is written at exactly one call site."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

CALLBACKS = Path(__file__).resolve().parents[1] / "callbacks"


def _names() -> list[tuple[str, str]]:
    out = []
    for path in sorted(CALLBACKS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "query" or len(node.args) < 2:
                continue
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                out.append((name.value, path.name))
            elif isinstance(name, ast.JoinedStr):  # an f-string: its literal parts
                out.append(("".join(v.value for v in name.values if isinstance(v, ast.Constant)), path.name))
    return out


def test_every_cache_name_belongs_to_one_call_site():
    names = _names()
    assert len(names) >= 10 and any(n == "page:overview" for n, _ in names)  # the scan sees the calls
    repeated = [n for n, k in Counter(n for n, _ in names).items() if k > 1]
    assert repeated == [], [(n, f) for n, f in names if n in repeated]
