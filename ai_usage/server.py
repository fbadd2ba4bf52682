"""`ai-usage serve`: the dashboard and the API, in N worker processes (gunicorn, see
ai_usage/workers.py) or, with one worker or where gunicorn cannot run, in one process
behind waitress (a threaded, pure-Python WSGI server)."""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading
import time
from dataclasses import replace
from datetime import timedelta

from storage.settings import Settings
from web.auth import MIN_SECRET_BYTES, mint_token

from .workers import MAX_PORT, NO_ADDRESS

DEMO_ORG = "demo"
DEMO_TTL = timedelta(hours=12)


def url_host(host: str) -> str:
    """The host to put in a link: a wildcard bind is opened on loopback; IPv6 gets brackets."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host in ("::", "[::]"):
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


class QueueDepthThrottle(logging.Filter):
    """Let one waitress "Task queue depth" warning through per interval.

    Waitress warns once per queued request: a burst logged 3,074 lines in 45 s. The
    condition is worth one line per interval; that line says how many it stands for."""

    def __init__(self, interval: float = 10.0, clock=time.monotonic):
        super().__init__()
        self.interval, self.clock = interval, clock
        self._last: float | None = None
        self._held, self._held_since = 0, 0.0
        self._lock = threading.Lock()  # waitress logs from its main thread, but be safe

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            now = self.clock()
            if self._last is not None and now - self._last < self.interval:
                self._held += 1
                return False
            self._last = now
            if self._held:
                record.msg = (
                    f"{record.getMessage()} ({self._held:,} more such warnings in the last "
                    f"{now - self._held_since:.0f} s were not logged)"
                )
                record.args = ()
            self._held, self._held_since = 0, now
            return True


def throttle_queue_warnings(interval: float = 10.0) -> QueueDepthThrottle:
    """Install the throttle on waitress's queue logger once per process."""
    logger = logging.getLogger("waitress.queue")
    for f in logger.filters:
        if isinstance(f, QueueDepthThrottle):
            return f
    f = QueueDepthThrottle(interval)
    logger.addFilter(f)
    return f


# One: the request threads allocate under the GIL, so more arenas bought no speed, only
# memory freed in one and not reused by another (docs/measurements.md, a thirty-third
# machine: the distinct load test 16.6–17.2/s with 2, 17.5–17.6/s with 1, alternated; a
# worker's peak after it and the page 295 / 294 MB with 1 against 309 / 299 MB with 2, one run each).
MALLOC_ARENAS = 1
M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most `arenas` glibc malloc arenas in this process and the workers it forks.

    glibc gives threads their own arenas, up to 8 per core, and memory freed in one is not
    reused by another: with 8 threads per worker that raised a worker's resident memory under
    load well past what it holds (MALLOC_ARENAS says why one). Done in the process before it
    forks (the workers inherit malloc's state). MALLOC_ARENA_MAX in the environment wins
    (glibc read it at start); elsewhere than glibc this does nothing. True when the limit was
    set here."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (musl): no arenas to limit
        return False


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8050,
    demo: bool = False,
    threads: int = 8,
    out=None,
    workers: int | None = None,
) -> int:
    """Serve until interrupted; exit code 2 without a usable secret (unless demo), 1 if the port is taken.

    workers: processes (None: one per core); 1, or a platform without fork, serves in this
    process with waitress. threads: per process."""
    from . import workers as pool

    out = out or sys.stdout
    if threads < 1:
        print("--threads must be at least 1.", file=sys.stderr)
        return 2
    if workers is not None and workers < 1:
        print("--workers must be at least 1.", file=sys.stderr)
        return 2
    if not 0 <= port <= MAX_PORT:  # a socket call would raise OverflowError: say it in words
        print(f"--port must be from 0 to {MAX_PORT} (0: any free port); got {port}.", file=sys.stderr)
        return 2
    limit_malloc_arenas()
    workers = pool.default_workers() if workers is None else workers
    if workers > 1 and not pool.available():
        print(f"--workers {workers}: this platform cannot fork worker processes; serving in one.", file=out)
        workers = 1
    if len(settings.secret.encode()) < MIN_SECRET_BYTES:
        if not demo:
            print(
                f"AI_USAGE_SECRET must be set to at least {MIN_SECRET_BYTES} bytes to serve "
                f"(e.g. `export AI_USAGE_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(48))')`),"
                " or use --demo for a throw-away secret.",
                file=sys.stderr,
            )
            return 2
        # Made here, before any fork: every worker signs and checks with the same one.
        settings = replace(settings, secret=secrets.token_urlsafe(48), demo=True)
        print(
            "Demo mode: AI_USAGE_SECRET is not set, so a random secret was made for this process; "
            "its tokens stop working when it stops.",
            file=out,
        )
    elif demo:
        settings = replace(settings, demo=True)
    problem = _unusable_database(settings.database_url)  # said here: a gunicorn worker would only "fail to boot"
    if problem is not None:
        return cannot_use_database(settings.database_url, problem)
    # Before either server logs a line: a refusal leaves no handler on this process's stdout.
    problem = pool.check_port(host, port)
    if problem is not None:
        print(f"Cannot listen on {host}:{port}: {problem}", file=sys.stderr)
        return 1
    if workers == 1:
        return _serve_waitress(settings, host, port, threads, out)

    def load():  # in each worker, after the fork
        from app import create_app, start_up
        from storage.engine import serving_engine

        configure_logging()
        app = create_app(settings, serving_engine(settings.database_url, settings.statement_timeout_ms, threads))
        start_up(app)  # the leader loop and gc.freeze: once per worker process
        return app.server

    def ready(bound_port: int) -> None:  # in the first worker ready to answer
        # The Dash path prefix is "/" unless DASH_* variables mount it elsewhere.
        prefix = os.environ.get("DASH_REQUESTS_PATHNAME_PREFIX") or os.environ.get("DASH_URL_BASE_PATHNAME") or "/"
        announce(
            settings, f"http://{url_host(host)}:{bound_port}{prefix}", f"{workers} workers × {threads} threads", out
        )

    return pool.run(load, host=host, port=port, workers=workers, threads=threads, on_ready=ready)


def _unusable_database(url: str) -> str | None:
    """Why no engine can be made for url (its SQLite folder cannot be made); None when one can.
    A database that is down is not this: the workers start, and /readyz says 503 until it is up."""
    from storage.engine import DatabaseUnusable, make_engine

    try:
        make_engine(url).dispose()
    except DatabaseUnusable as e:
        return str(e)
    return None


def cannot_use_database(url: str, reason: str) -> int:
    """Say on stderr why the database at url (password masked) cannot be used; exit code 1."""
    print(f"Cannot use the database at {data_location(url)}: {reason}", file=sys.stderr)
    return 1


def configure_logging() -> None:
    """Operators' lines on stderr; the JSON access log (one line per request) on stdout."""
    from api.observe import configure_access_log

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_access_log(sys.stdout)


def announce(settings: Settings, base: str, capacity: str, out) -> None:
    """The ready lines: the demo link (a 12-hour token of the demo org), where it serves and the data."""
    if settings.demo:
        token = mint_token(settings.secret, DEMO_ORG, ttl=DEMO_TTL)
        print(f"Open the demo dashboard (org {DEMO_ORG!r}, token valid 12 h):\n  {base}?token={token}", file=out)
    print(
        f"AI Usage Dashboard serving on {base}  (API: {base}ai/org-usage/openapi.json; {capacity}; Ctrl+C to stop)",
        file=out,
    )
    # Where the data lives (the password of a DATABASE_URL is never printed).
    print(f"Data: {data_location(settings.database_url)}", file=out, flush=True)


def data_location(url: str) -> str:
    """DATABASE_URL as the banner prints it: the password masked ('***')."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: the engine will say so; print nothing of it
        return "(unreadable DATABASE_URL)"


def waitress_options(threads: int) -> dict:
    """waitress.create_server's settings: request lines as long as the contract admits (http_limits)."""
    from .http_limits import WAITRESS_HEADER_BYTES

    return {"threads": threads, "ident": "ai-usage", "max_request_header_size": WAITRESS_HEADER_BYTES}


def _serve_waitress(settings: Settings, host: str, port: int, threads: int, out) -> int:
    import waitress

    from app import create_app, start_up
    from storage.engine import serving_engine

    configure_logging()
    throttle_queue_warnings()
    app = create_app(settings, serving_engine(settings.database_url, settings.statement_timeout_ms, threads))
    try:
        server = waitress.create_server(app.server, host=host, port=port, **waitress_options(threads))
    except OSError as e:
        print(f"Cannot listen on {host}:{port}: {e.strerror or e}", file=sys.stderr)
        return 1
    except ValueError:  # waitress's words for a host it cannot resolve: "Invalid host/port specified."
        print(f"Cannot listen on {host}:{port}: {NO_ADDRESS}", file=sys.stderr)
        return 1
    start_up(app)  # the leader loop and gc.freeze: once per served process, not per app
    # The page's URL includes the Dash path prefix, if the app is mounted under one.
    announce(
        settings,
        f"http://{url_host(host)}:{server.effective_port}{app.config.requests_pathname_prefix}",
        f"1 process × {threads} threads",
        out,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
