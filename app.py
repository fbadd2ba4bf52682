"""The app factory: the Dash dashboard, the JSON API and the security headers on one server."""

from __future__ import annotations

import functools
import gc
import hashlib
import os
from pathlib import Path

import dash
import flask
import werkzeug

from storage.answer_cache import make_cache
from storage.engine import make_engine
from storage.settings import Settings
from web import context, plotlyjs

ASSETS = Path(__file__).resolve().parent / "assets"


PLOTLYJS = {"relative_package_path": plotlyjs.BUNDLE, "namespace": plotlyjs.__name__, "async": "eager"}
YEAR = 31_536_000  # seconds: how long a fingerprinted URL may be cached


@functools.lru_cache(maxsize=256)
def _content_hash(path: str, mtime: float) -> str:
    """The first 16 hex digits of the file's SHA-256 (cached while its mtime stays)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def asset_hash(path: str) -> str:
    return _content_hash(path, os.stat(path).st_mtime)


class Dash(dash.Dash):
    """dash.Dash with a lighter, cacheable first load.

    - dash_table's bundles are left out: Dash serves every bundle of the `dash` package (dcc,
      html and dash_table, ~1 MB of JS unpacked for the table) whether the layout uses it or
      not; this page has no DataTable (the grid is AG Grid).
    - /assets/ URLs carry a hash of the file's content (`?m=<sha256 prefix>`, where Dash puts
      the file's mtime): the URL changes exactly when the file does, so it may be cached for a
      year (`cache_headers`).
    - plotly.js is the official partial bundle `plotly.js-cartesian-dist-min` (web/plotlyjs,
      1.5 MB unpacked) instead of plotly.py's full plotly.min.js (4.8 MB): the page draws only
      scatter, bar, pie and heatmap traces. Its version is plotly.py's (a test checks it)."""

    def _setup_plotlyjs(self):
        """Dash's own, with our bundle: registered as a component suite ("async": "eager", so
        it loads with the first graph unless the app loads eagerly; fingerprinted, so cached a
        year). dash-renderer asks for plotly.js at a fixed, unfingerprinted URL
        (`plotly/package_data/plotly.min.js`): that URL redirects to our bundle's."""
        from plotly.offline import get_plotlyjs_version

        self.scripts.append_script(PLOTLYJS)
        self._plotlyjs_url = f"https://cdn.plot.ly/plotly-cartesian-{get_plotlyjs_version()}.min.js"
        self._add_url("_dash-component-suites/plotly/package_data/plotly.min.js", self._plotlyjs_redirect)

    def _plotlyjs_redirect(self) -> werkzeug.Response:
        (url,) = super()._collect_and_register_resources([{**PLOTLYJS, "async": None}])
        return flask.redirect(url, 302)

    def _collect_and_register_resources(self, resources, include_async=True, url_attr="src"):
        folder = Path(self.config.assets_folder)
        kept = [
            {**r, "ts": asset_hash(str(folder / r["asset_path"]))} if "asset_path" in r else r
            for r in resources
            if not str(r.get("relative_package_path", "")).startswith("dash_table/")
            and r.get("namespace") != "plotly"  # the full bundle, if another Dash put it in dcc's list
        ]
        return super()._collect_and_register_resources(kept, include_async, url_attr)


def cache_headers(app: dash.Dash) -> None:
    """`Cache-Control: public, max-age=<1 year>, immutable` on fingerprinted URLs: component
    suites (Dash puts version and mtime in their names) and /assets/ files asked for with their
    current content hash. Any other asset URL is revalidated as before."""
    prefix = app.config.requests_pathname_prefix
    assets, suites = prefix + "assets/", prefix + "_dash-component-suites/"
    folder = Path(app.config.assets_folder)

    @app.server.after_request
    def _cache(resp: flask.Response) -> flask.Response:
        path = flask.request.path
        fingerprinted = (
            path.startswith(suites) and resp.status_code == 200 and "max-age" in resp.headers.get("Cache-Control", "")
        )
        if path.startswith(assets) and resp.status_code == 200 and (m := flask.request.args.get("m")):
            file = (folder / path[len(assets) :]).resolve()
            fingerprinted = file.is_relative_to(folder.resolve()) and file.is_file() and m == asset_hash(str(file))
        if fingerprinted:
            resp.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            resp.headers.pop("Expires", None)
        return resp


def create_app(settings: Settings | None = None, engine=None, clock=None, **dash_kwargs) -> dash.Dash:
    """Build the dashboard for these settings (environment by default).

    clock: a callable returning the current instant (aware UTC) for every request; None
    reads the system clock. Tests fix it to show a given day (e.g. the 1st of a month)."""
    import callbacks
    from api import observe, ops, routes as api, security
    from layouts import page
    from queries.base import facts_path

    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url, settings.statement_timeout_ms)
    # The facts path travels with this app's engine (AI_USAGE_ROLLUPS), not in a global.
    engine = facts_path(engine, "rollup" if settings.use_rollups else "raw")
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="Consumo de IA",
        update_title=None,
        serve_locally=True,
        **dash_kwargs,
    )
    # Screen readers pick the voice and hyphenation from <html lang>: Spanish unless the page
    # is asked for another language (callbacks/language.py sets it per page load).
    app.index_string = app.index_string.replace("<html>", '<html lang="es">', 1)
    context.attach(app.server, settings, engine, clock)
    # Answers of one org computed once while its data has not moved (queries/freshness.py).
    context.attach_cache(app.server, make_cache(settings.cache_url, settings.secret))
    observe.install(app.server)  # first: a request id, timing and an access-log line for every request
    app.layout = page.layout
    callbacks.register(app)
    api.register(app.server)
    ops.register(app.server, api.routes_prefix(app.server))  # /healthz, /readyz, /metrics
    security.install(app.server, settings)
    cache_headers(app)
    return app


def set_up_dash(app: dash.Dash) -> None:
    """Dash's own set-up (the script registry, the assets, the callback map), done before the
    first request. Dash does it in its first request's before-request hook and marks it done
    before doing it (plotly/dash#3971): under threads, a script request arriving meanwhile
    found an empty registry and answered 500 «"dash" is not a registered library» — the
    first page load after every start or reload of `ai-usage serve --workers N` could break."""
    with app.server.test_request_context("/"):
        app._setup_server()


def start_up(app: dash.Dash) -> None:
    """What a served process does once, after create_app: set Dash up (set_up_dash), start
    the leader loop (the rollup catch-up, in whichever process of the database holds the
    leader lock) and freeze the start-up heap. The last two reach past the app (a thread, the process's GC), so
    create_app leaves them to the server's start-up (`ai-usage serve`, `app:server`)."""
    from ingest import refresh as rollups
    from storage import leader

    set_up_dash(app)
    settings, engine = context.settings(app.server), context.engine(app.server)
    loop = leader.LeaderLoop(rollups.leader_engine(engine))
    rollups.schedule(loop, settings)  # the catch-up, when rollups and an interval are on
    # More periodic work of the one leader (alert evaluation) joins here: loop.add(name, job, every).
    from alerts import jobs as alerts

    alerts.schedule(loop, settings, engine)  # budget/anomaly alerts: evaluate, then deliver the outbox
    if loop.jobs:
        loop.start()
        app.server.extensions["ai_usage_leader"] = loop
    # The startup heap lives as long as the process: frozen, it stays out of every later
    # GC pass (a full pass over it paused a request ~80 ms). The projection's statsmodels
    # and scipy parts (queries.projection.OLSFit: not statsmodels.api nor scipy.stats, ~86 MB
    # more), imported on first use, join it now.
    import scipy.special  # noqa: F401
    import statsmodels.tools.tools  # noqa: F401

    gc.freeze()


def __getattr__(name):
    # `app:server` for a WSGI server: built on first access, from the environment.
    if name == "server":
        app = create_app()
        start_up(app)
        return app.server
    raise AttributeError(name)
