"""Sections with a part drawn by assets/textdom.js (layouts/textdom.py): the draw and the stamp.

Such a section's server callback writes the part's tree to a store (a textdom.view) and its
own `data-answered` (Dash marks a component loading, the refresh bar, only while an output of
its own is pending); `register_draw` adds the clientside draw, which builds the tree and then
gives the section its `data-stamp`, so the stamp says the part is on the page.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output


def register_draw(app, view: str, section: str) -> None:
    """Draw the tree of store `view` when it changes, then stamp `section`."""
    app.clientside_callback(
        ClientsideFunction("textdom", "draw"),
        Output(section, "data-stamp"),
        Input(view, "data"),
        prevent_initial_call=True,
    )
