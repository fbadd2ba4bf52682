"""Callbacks: thin wiring from the filter bar to the queries and the figure builders.

Each section module has `register(app)`; nothing here imports the app object.
"""

from . import (
    actions,
    advanced,
    agents,
    alerts,
    anomalies,
    at_once,
    budget,
    changes,
    compare,
    currency,
    datatables,
    exports,
    guard,
    language,
    models,
    overview,
    session,
    slice,
    slice_clicks,
    slice_search,
    stale,
    users,
)


def register(app) -> None:
    """Wire every section of the page to `app`."""
    for module in (
        session,
        currency,
        overview,
        anomalies,
        budget,
        actions,
        models,
        agents,
        users,
        advanced,
        alerts,
        datatables,
        exports,
        slice,
        slice_search,
        compare,
        changes,
        slice_clicks,
    ):
        module.register(app)
    # The views computed only while shown: one clientside callback tells them when to run.
    stale.register(app, [*datatables.views(), budget.cumulative_view(), advanced.view()])
    language.register(app)  # the page's language: every Dash request answers in it
    guard.register(app)  # malformed requests to any of them: 400 before Dash reads them
    at_once.register(app)  # then a few at a time compute (registered after guard: refused ones wait for none)
