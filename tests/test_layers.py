"""The shape of the code: top-level packages import one way only, and modules stay short.

The layer map (README, "Architecture"): arrows point down, never up or sideways.

    ai_usage (CLI, server start-up, bench)  →  anything below
    app (create_app, start_up)              →  anything below but ai_usage
    callbacks                               →  layouts, web, alerts, queries, storage
    api                                     →  web, alerts, queries, storage
    layouts                                 →  queries (types and constants only)
    web (app context, tokens)               →  nothing of ours
    ingest (import, demo, rollup refresh)   →  storage
    alerts (evaluation, outbox, webhooks)   →  queries, storage
    queries (read side)                     →  storage
    storage (schema, engine, execute, settings) → nothing of ours
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "queries", "ingest", "alerts", "web", "api", "layouts", "callbacks", "app", "ai_usage")
ALLOWED = {
    "storage": set(),
    "queries": {"storage"},
    "ingest": {"storage"},
    "alerts": {"queries", "storage"},
    "web": set(),
    "api": {"web", "alerts", "queries", "storage"},
    "layouts": {"queries"},
    "callbacks": {"layouts", "web", "alerts", "queries", "storage"},
    "app": {"callbacks", "api", "layouts", "web", "alerts", "ingest", "queries", "storage"},
    "ai_usage": {"app", "callbacks", "api", "layouts", "web", "alerts", "ingest", "queries", "storage"},
}
MAX_LINES = 300
REASON = "Over 300 lines:"  # a module's docstring that says why it is long starts a sentence with this
# TODO(lead): remove each entry once its module is split (issue 13, finding 3 and the API models).
KNOWN_LONG = {}


def modules() -> list[Path]:
    out = [ROOT / "app.py"]
    for pkg in PACKAGES:
        if pkg != "app":
            out += sorted((ROOT / pkg).rglob("*.py"))
    return out


def package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return "app" if rel.parts == ("app.py",) else rel.parts[0]


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages that path imports, anywhere in the module (function-level too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [package_of(path)] if node.level else [node.module or ""]
        else:
            continue
        found |= {n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES}
    return found - {package_of(path)}


def graph() -> dict[str, set[str]]:
    g: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for path in modules():
        g[package_of(path)] |= imported_packages(path)
    return g


def test_every_package_is_seen():
    assert {package_of(p) for p in modules()} == set(PACKAGES)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    pkg = package_of(path)
    assert imported_packages(path) <= ALLOWED[pkg], f"{pkg} may import only {sorted(ALLOWED[pkg])}"


def test_no_cycle_between_packages():
    g, done, active = graph(), set(), []

    def visit(p):
        assert p not in active, f"import cycle: {' -> '.join(active[active.index(p) :] + [p])}"
        if p in done:
            return
        active.append(p)
        for q in sorted(g[p]):
            visit(q)
        active.pop()
        done.add(p)

    for p in PACKAGES:
        visit(p)


def test_the_allowed_map_itself_has_no_cycle():
    order = []
    pending = dict(ALLOWED)
    while pending:
        ready = [p for p, deps in pending.items() if deps <= set(order)]
        assert ready, f"ALLOWED has a cycle among {sorted(pending)}"
        order += ready
        for p in ready:
            del pending[p]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_long_modules_say_why(path):
    rel = str(path.relative_to(ROOT))
    lines = len(path.read_text().splitlines())
    if rel in KNOWN_LONG:
        assert lines > MAX_LINES, f"{rel} is short now: remove it from KNOWN_LONG"
        return
    if lines > MAX_LINES:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert REASON in doc, f"{rel} has {lines} lines: split it, or say why in its docstring ({REASON!r})"
