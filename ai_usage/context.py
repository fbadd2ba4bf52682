"""Where the running app keeps its settings and engine (on the Flask server)."""
from __future__ import annotations

import flask

KEY = "ai_usage"


def attach(server: flask.Flask, settings, engine) -> None:
    server.extensions[KEY] = {"settings": settings, "engine": engine}


def settings(server: flask.Flask | None = None):
    return (server or flask.current_app).extensions[KEY]["settings"]


def engine(server: flask.Flask | None = None):
    return (server or flask.current_app).extensions[KEY]["engine"]
