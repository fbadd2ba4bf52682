"""Where the running app keeps its settings and engine (on the Flask server)."""

from __future__ import annotations

from datetime import UTC, datetime

import flask

KEY = "ai_usage"


def attach(server: flask.Flask, settings, engine, clock=None) -> None:
    """clock: a callable giving the current instant (aware UTC); tests pass a fixed one."""
    server.extensions[KEY] = {"settings": settings, "engine": engine, "clock": clock}


def settings(server: flask.Flask | None = None):
    return (server or flask.current_app).extensions[KEY]["settings"]


def engine(server: flask.Flask | None = None):
    return (server or flask.current_app).extensions[KEY]["engine"]


def now(server: flask.Flask | None = None) -> datetime:
    """The current instant for one request (the app's clock, else the system's), aware UTC."""
    clock = (server or flask.current_app).extensions[KEY].get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def attach_cache(server: flask.Flask, cache) -> None:
    """The app's answer cache (storage.answer_cache.AnswerCache), or None for none."""
    server.extensions[KEY]["cache"] = cache


def cache(server: flask.Flask | None = None):
    return (server or flask.current_app).extensions[KEY].get("cache")
