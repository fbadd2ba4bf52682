"""`ai-usage serve --workers N` (N > 1): N pre-forked worker processes under gunicorn.

The master binds the port, forks the workers and watches them; it never imports the
app. Each worker builds its own app after the fork (create_app, then app.start_up: its
own engine and pool, the leader loop, gc.freeze), so no connection or thread crosses a
fork, and `kill -HUP <master>` replaces the workers gracefully with ones that import
the code anew (a deploy without a dropped request). `kill -TERM <master>` (or Ctrl+C)
stops accepting, lets the requests in flight finish (up to GRACEFUL_TIMEOUT) and exits.

Prometheus counters of every worker are summed through PROMETHEUS_MULTIPROC_DIR: a
private directory the master makes before the first fork and removes when it exits
(storage.metrics reads the variable when a worker first imports it).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile

GRACEFUL_TIMEOUT = 30  # seconds a stopping worker has to finish its requests
WORKER_TIMEOUT = 120  # a worker silent (no heartbeat, booting included) this long is killed and replaced
KEEPALIVE = 5  # seconds an idle keep-alive connection stays open
MAX_PORT = 65535
NO_ADDRESS = "the host is neither an IP address nor a name that resolves to one (e.g. 127.0.0.1, 0.0.0.0, localhost)"


def available() -> bool:
    """gunicorn runs where fork does (Linux, macOS, the BSDs), and only if it is installed."""
    if not hasattr(os, "fork") or sys.platform.startswith("win"):
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def default_workers() -> int:
    """One per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_port(host: str, port: int) -> str | None:
    """Bind and release (host, port) as the server will (SO_REUSEADDR): the error text, None if free.

    gunicorn itself retries a taken port five times a second apart, then exits with a log
    line, and waitress raises for a host it cannot resolve: this says it at once, for both,
    before either serves or logs anything."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, ValueError):  # gaierror ("Name or service not known"); UnicodeError (idna: "a..b")
        return NO_ADDRESS
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            return e.strerror or str(e)
    return None


def bind_address(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        return f"[{host}]:{port}"
    return f"{host or '0.0.0.0'}:{port}"


def run(load, *, host: str, port: int, workers: int, threads: int, on_ready) -> int:
    """Serve load() (called in each worker: the WSGI app) until TERM/INT; 0 on a clean stop.

    on_ready(port): called once, in the first worker that has loaded the app (so the link it
    prints answers at once), with the bound port (the real one if 0 was asked)."""
    import multiprocessing

    from gunicorn.app.base import BaseApplication

    from . import http_limits

    http_limits.install_gunicorn()
    announced = multiprocessing.get_context("fork").Value("b", 0)  # shared by the forked workers

    metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="ai-usage-metrics-")  # mode 0700: this user only
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir

    def post_worker_init(worker) -> None:
        with announced.get_lock():
            if announced.value:
                return
            announced.value = 1
        on_ready(worker.sockets[0].getsockname()[1])

    def child_exit(server, worker) -> None:
        # Live gauges (the leader flag) of a dead worker stop counting; its counters stay.
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    options = {
        "bind": [bind_address(host, port)],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": KEEPALIVE,
        "limit_request_line": http_limits.MAX_REQUEST_LINE,  # every request the contract admits
        "preload_app": False,  # each worker imports the app: HUP then loads new code
        "proc_name": "ai-usage",
        "accesslog": None,  # the app writes one JSON line per request (web.observe)
        "errorlog": "-",
        "loglevel": "info",
        "control_socket_disable": True,  # one per user by default: two servers would share it
        "post_worker_init": post_worker_init,
        "child_exit": child_exit,
    }
    if os.path.isdir("/dev/shm"):
        options["worker_tmp_dir"] = "/dev/shm"  # the heartbeat file: off the disk

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return load()

    master = os.getpid()
    try:
        Application(prog="ai-usage serve").run()
        code = 0
    except SystemExit as e:
        if os.getpid() != master:
            raise  # a worker leaving: not this function's exit, and not its directory to remove
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        if metrics_dir is not None and os.getpid() == master:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return code
