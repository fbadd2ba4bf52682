"""Callbacks: thin wiring from the filter bar to the queries and the figure builders.

Each section module has `register(app)`; nothing here imports the app object.
"""
from . import actions, advanced, agents, datatables, models, overview, session


def register(app) -> None:
    """Wire every section of the page to `app`."""
    for module in (session, overview, actions, models, agents, advanced, datatables):
        module.register(app)
