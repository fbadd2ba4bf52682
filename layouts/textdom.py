"""Text-only trees of DOM elements, built here and drawn in the browser by assets/textdom.js.

For the parts of the page that are many small elements holding only text, rebuilt on every
filter change («Mayores cambios», the bubbles' numbered key). Each Dash component a callback
returns costs the page's main thread a store update (Dash's renderer runs every component's
selector on each) and a React mount when it appears: those two parts were 210 of the 257
components a filter change created (`scripts/page_profile.py`). A tree is plain data instead,
put in a dcc.Store; `textdom.draw` (a clientside callback) builds it under its host element,
which React never gives children, and returns the section's stamp. The server callback that
writes the store also writes the section's `data-answered`: Dash marks a component loading
(the refresh bar) only while an output of its own is pending.

Safe by construction: a node is a tag from TAGS, a class, text and attributes matching
ATTRIBUTE (title, value, type, data-*, aria-*); the browser sets text as text nodes and
attributes with setAttribute, so a name full of markup is shown as written. A node whose
`data-click` names a store is clickable: a click writes that store {"i": the node's
data-index, "n": clicks so far} (callbacks/changes.py reads it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

TAGS = frozenset({"div", "span", "strong", "h3", "ol", "li", "button"})
ATTRIBUTE = re.compile(r"^(?:title|value|type|data-[a-z][a-z-]*|aria-[a-z][a-z-]*)$")

Node = dict[str, Any]


def el(
    tag: str,
    cls: str | None = None,
    text: object = None,
    kids: Iterable[Node] = (),
    attrs: dict[str, object] | None = None,
) -> Node:
    """One element: {"t": tag, "c": class, "x": text (before the kids), "k": kids, "a": attributes}."""
    if tag not in TAGS:
        raise ValueError(f"tag not drawn by assets/textdom.js: {tag!r}")
    node: Node = {"t": tag}
    if cls:
        node["c"] = cls
    if text is not None:
        node["x"] = str(text)
    kids = list(kids)
    if kids:
        node["k"] = kids
    if attrs:
        bad = [k for k in attrs if not ATTRIBUTE.fullmatch(k)]
        if bad:
            raise ValueError(f"attributes not drawn by assets/textdom.js: {bad}")
        node["a"] = {k: str(v) for k, v in attrs.items()}
    return node


def view(host: str, stamp: str, tree: Node | None) -> dict[str, Any]:
    """What textdom.draw takes: the tree (None: empty the host), where, and the stamp it returns."""
    return {"host": host, "stamp": stamp, "tree": tree}


def walk(node: Node) -> Iterator[Node]:
    """node and every element under it, in document order."""
    yield node
    for kid in node.get("k", []):
        yield from walk(kid)


def by_class(node: Node, cls: str) -> list[Node]:
    """The elements under node (itself included) whose class list holds cls."""
    return [n for n in walk(node) if cls in str(n.get("c", "")).split()]


def text(node: Node) -> str:
    """All the text under node, as the browser's textContent reads it."""
    return "".join(str(n.get("x", "")) for n in walk(node))
