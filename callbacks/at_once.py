"""At most AT_ONCE of the page's callbacks compute at once in a process (issue 12: memory).

A filter change sends every section's callback together (the browser, six connections at a
time), and each builds its frames and figures: ~4–9 MB at its peak (the users' ranking,
«Mayores cambios», the selects' options). Eight request threads computing them all at once
set a worker's peak memory. They hold the GIL for most of that work, so past a few at once
they only wait for each other; a few at once still overlap one's database wait with
another's Python. Measured on the 10M-row database (docs/measurements.md, a thirty-third
machine; scripts/worker_memory.sh): a worker's peak after the distinct load test and then the
page's test 283–304 thousand kB with 3 at once (six runs) against 302–304 without a limit (two),
the page's changes painted as fast; 2 at once took ~10 MB more off and ~15 % more time.

Requests past the limit wait their turn, at most WAIT_S (then they run anyway: a slow
database must not turn into refused callbacks). The API, the page's HTML and its assets are
not limited. A request refused before it computes (callbacks/guard.py's 400) takes no turn.
"""

from __future__ import annotations

import threading

from flask import g

from .guard import is_callback_request

AT_ONCE = 3
WAIT_S = 30.0
_TURN = "ai_usage_callback_turn"


def register(app, at_once: int = AT_ONCE) -> threading.BoundedSemaphore:
    """Limit app's callback requests to `at_once` at a time; the semaphore (for tests)."""
    turns = threading.BoundedSemaphore(at_once)

    @app.server.before_request
    def _take_a_turn():
        if is_callback_request(app) and turns.acquire(timeout=WAIT_S):
            setattr(g, _TURN, True)

    @app.server.teardown_request
    def _give_it_back(_exc):
        if g.pop(_TURN, False):
            turns.release()

    return turns
