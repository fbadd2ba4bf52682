"""Faults: a database that is unreachable, goes away and comes back, or is too slow -> 503 JSON;
a server-side bug -> 500 JSON without a stack trace."""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.api import BASE, WINDOW, auth, check, dataset, log, make_app
from support.db import PG_ADMIN_URL, create_pg_database, drop_pg_database, insert_logs, require

from storage import engine as db
from storage.engine import make_engine, migrate
from storage.schema import token_usage_logs

# util-linux puts runuser in /usr/sbin, which a non-login PATH (e.g. `env -i`) may lack.
RUNUSER = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")


def _summary(app, org="org-x"):
    return app.server.test_client().get(f"{BASE}/summary", query_string=WINDOW, headers=auth(org))


def _unavailable(resp, code="database_unavailable"):
    body = check(resp, "summary", 503)
    assert body["error"]["code"] == code and body["error"]["parameter"] is None
    assert body["error"]["message"]
    assert resp.headers["Retry-After"].isdigit()
    assert "Traceback" not in resp.get_data(as_text=True)
    return body


@pytest.fixture(scope="module")
def pg_url():
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def _admin():
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


# ------------------------------------------------------------------ unreachable


def test_unreachable_postgresql_is_503():
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")  # nothing listens on port 1
    try:
        _unavailable(_summary(make_app(engine)))
    finally:
        engine.dispose()


def test_unopenable_sqlite_is_503(tmp_path):
    folder = tmp_path / "a-directory.sqlite3"
    folder.mkdir()  # a directory where the database file should be
    engine = make_engine(f"sqlite:///{folder}")
    try:
        _unavailable(_summary(make_app(engine)))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_goes_away_then_comes_back(pg_url, org_id):
    engine = make_engine(pg_url)
    migrate(engine)
    insert_logs(engine, dataset(org_id)[0])
    app = make_app(engine)
    name = sa.engine.make_url(pg_url).database
    admin = _admin()
    try:
        assert check(_summary(app, org_id), "summary")["executions"] == 5
        with admin.connect() as c:
            c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
        _unavailable(_summary(app, org_id))
        _unavailable(_summary(app, org_id))  # still down: still a clean 503
        with admin.connect() as c:
            c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        # pool_pre_ping replaces the dead connections: no restart needed.
        assert check(_summary(app, org_id), "summary")["executions"] == 5
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        engine.dispose()


# ------------------------------------------------------------------ statement timeout


@pytest.mark.postgres
def test_postgresql_statement_timeout_is_503(pg_url, org_id):
    """A query stuck behind a lock past statement_timeout: deterministic, no race on speed."""
    engine = make_engine(pg_url, statement_timeout_ms=200)
    migrate(engine)
    insert_logs(engine, dataset(org_id)[0])
    app = make_app(engine, statement_timeout_ms=200)
    locker = make_engine(pg_url, statement_timeout_ms=0)
    try:
        with locker.connect() as c:
            c.execute(sa.text("LOCK TABLE token_usage_logs IN ACCESS EXCLUSIVE MODE"))
            _unavailable(_summary(app, org_id), "query_timeout")
            c.rollback()
        assert check(_summary(app, org_id), "summary")["executions"] == 5
    finally:
        locker.dispose()
        engine.dispose()


def test_sqlite_statement_timeout_is_503(tmp_path):
    """40,000 rows grouped by model take tens of ms on any machine; the limit is 1 ms."""
    url = f"sqlite:///{tmp_path / 'slow.sqlite3'}"
    setup = make_engine(url, statement_timeout_ms=0)
    migrate(setup)
    t0 = datetime(2026, 10, 30, 4, tzinfo=UTC)
    with setup.begin() as c:
        c.execute(
            token_usage_logs.insert(),
            [
                log("org-slow", t0 + timedelta(seconds=7 * i), model=f"m{i % 97}", inp=i, cost="0.001")
                for i in range(40_000)
            ],
        )
    setup.dispose()
    engine = make_engine(url, statement_timeout_ms=1)
    try:
        app = make_app(engine, statement_timeout_ms=1)
        resp = app.server.test_client().get(f"{BASE}/model-efficiency", query_string=WINDOW, headers=auth("org-slow"))
        body = check(resp, "model-efficiency", 503)
        assert body["error"]["code"] == "query_timeout"
    finally:
        engine.dispose()


# ------------------------------------------------------------------ bugs


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_database_without_tables_is_a_503_logged_as_an_error(kind, tmp_path, caplog):
    """A database without the tables (a deployment that skipped the migrations): 503
    database_unavailable like the page's "Datos no disponibles" (one classifier,
    storage.execute), logged at ERROR; no table name or trace in the answer."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}" if kind == "sqlite" else create_pg_database()
    engine = make_engine(url)
    try:
        with caplog.at_level(logging.ERROR, logger="ai_usage.api"):
            resp = _summary(make_app(engine))
        body = _unavailable(resp)
        assert "migrations" in body["error"]["message"]
        text = resp.get_data(as_text=True)
        assert "Traceback" not in text and "token_usage_logs" not in text
        assert any(r.levelno == logging.ERROR and "database_unavailable" in r.getMessage() for r in caplog.records)
    finally:
        engine.dispose()
        if kind == "postgresql":
            drop_pg_database(url)


def test_unexpected_error_is_a_bare_500_and_logged(engine, monkeypatch, caplog):
    """A bug (any error that is no database fault): 500 JSON, details only in the log."""
    import queries

    def broken(conn, f):
        raise KeyError("token_usage_logs.secret_column")

    monkeypatch.setattr(queries, "summary", broken)
    with caplog.at_level(logging.ERROR, logger="ai_usage.api"):
        resp = _summary(make_app(engine))
    body = check(resp, "summary", 500)
    assert body["error"]["code"] == "internal_error" and body["error"]["parameter"] is None
    text = resp.get_data(as_text=True)
    assert "Traceback" not in text and "token_usage_logs" not in text
    assert any(r.exc_info and "Unexpected error" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ a private cluster stopped mid-run


def _pg_bindir() -> Path | None:
    """The newest installed server's bin directory (e.g. /usr/lib/postgresql/16/bin)."""
    found = [
        Path(p).parent
        for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if Path(p).parent.parent.name.isdigit() and (Path(p).parent / "pg_ctl").exists()
    ]
    return max(found, key=lambda b: int(b.parent.name), default=None)


def _postgres_user_exists() -> bool:
    try:
        pwd.getpwnam("postgres")
        return True
    except KeyError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _PrivateCluster:
    """A throw-away PostgreSQL cluster in its own directory, on its own port and socket dir.

    PostgreSQL refuses to run as root, so as root every server command runs as the
    `postgres` OS user (runuser); the directory is owned by that user.
    """

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="aiu-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        self.port = _free_port()
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = [RUNUSER, "-u", "postgres", "--", *cmd]
        # cwd: the postgres user may not be able to enter the caller's directory.
        proc = subprocess.run(
            cmd,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )
        if check and proc.returncode != 0:
            log_text = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
            raise AssertionError(
                f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n"
                f"--- server log ---\n{log_text[-3000:]}"
            )
        return proc

    def initdb(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"
        )

    def start(self) -> None:
        # -l: the server's output goes to a file, so pg_ctl returns instead of holding our pipes.
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=20 -c shared_buffers=16MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", opts, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast", check: bool = True) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=check)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_cluster(request):
    bindir = _pg_bindir()
    require(bindir is not None, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl)")
    if os.geteuid() == 0:
        require(
            RUNUSER is not None and _postgres_user_exists(),
            "runuser and a 'postgres' OS user (to run a private cluster as root)",
        )
    cluster = _PrivateCluster(bindir)
    request.addfinalizer(cluster.destroy)  # registered first: runs even if initdb or start fails
    cluster.initdb()
    cluster.start()
    return cluster


@pytest.mark.postgres
def test_postgresql_server_stopped_mid_run_then_restarted(private_cluster, org_id):
    """The whole server stops under a running app (pg_ctl stop -m fast) and starts again."""
    engine = make_engine(private_cluster.url)
    try:
        migrate(engine)
        insert_logs(engine, dataset(org_id)[0])
        app = make_app(engine)
        before = check(_summary(app, org_id), "summary")
        assert before["executions"] == 5

        private_cluster.stop("fast")
        assert not (private_cluster.data / "postmaster.pid").exists()
        _unavailable(_summary(app, org_id))
        _unavailable(_summary(app, org_id))  # still down: still a clean 503

        private_cluster.start()
        # Same app, same engine: pool_pre_ping discards the dead connections.
        assert check(_summary(app, org_id), "summary") == before
    finally:
        engine.dispose()


# ------------------------------------------------------------------ a frozen server (SIGSTOP)


def _cluster_pids(cluster) -> list[int]:
    """The postmaster and every process it started (backends, checkpointer, …)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:  # the parent pid
            pids.append(int(Path(stat).parent.name))
    return pids


class _Frozen:
    """SIGSTOP the whole cluster on enter, SIGCONT on exit (even when the test fails)."""

    def __init__(self, cluster):
        self.pids = _cluster_pids(cluster)

    def __enter__(self):
        for pid in self.pids:
            os.kill(pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def test_hang_bound_is_the_statement_timeout_plus_a_few_seconds():
    assert db.hang_bound(10_000) == 10 + db.STATEMENT_GRACE_S
    assert db.hang_bound(1_000) == db.PING_TIMEOUT_S + db.CONNECT_TIMEOUT_S  # a ping, then one reconnect


@pytest.mark.postgres
def test_postgresql_connections_have_keepalives_and_timeouts(pg_url):
    engine = make_engine(pg_url)
    try:
        assert engine.pool.timeout() == db.POOL_TIMEOUT_S
        with engine.connect() as c:
            params = c.connection.dbapi_connection.get_dsn_parameters()
        assert params["connect_timeout"] == str(db.CONNECT_TIMEOUT_S)
        assert {k: params[k] for k in db.KEEPALIVES} == {k: str(v) for k, v in db.KEEPALIVES.items()}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_frozen_mid_run_is_503_within_the_bound(private_cluster, org_id):
    """SIGSTOP the postmaster and its backends: the server enforces no statement_timeout and
    the kernel still acknowledges packets, so only the client can give up."""
    timeout_ms = 1000
    bound = db.hang_bound(timeout_ms)
    margin = 3.0  # a loaded test machine
    engine = make_engine(private_cluster.url, statement_timeout_ms=timeout_ms)
    try:
        migrate(engine)
        insert_logs(engine, dataset(org_id)[0])
        app = make_app(engine, statement_timeout_ms=timeout_ms)
        before = check(_summary(app, org_id), "summary")  # the pool now holds a live connection

        # 1. Requests on a frozen server: the pooled connection's ping is cut after
        # PING_TIMEOUT_S, the reconnect gives up after CONNECT_TIMEOUT_S: a 503.
        with _Frozen(private_cluster):
            for _ in range(2):
                started = time.monotonic()
                resp = _summary(app, org_id)
                took = time.monotonic() - started
                _unavailable(resp)
                assert took <= bound + margin, (took, bound)
        assert check(_summary(app, org_id), "summary") == before  # thawed: the same app answers

        # 2. A statement in flight when the server freezes: cut at timeout + grace.
        result = {}

        def sleeper():
            started = time.monotonic()
            try:
                with engine.connect() as c:
                    c.execute(sa.text("SELECT pg_sleep(0.9)"))
                result["outcome"] = "answered"
            except sa.exc.DBAPIError as exc:
                result["outcome"] = exc
            result["seconds"] = time.monotonic() - started

        worker = threading.Thread(target=sleeper)
        worker.start()
        time.sleep(0.4)
        with _Frozen(private_cluster):
            worker.join(timeout=bound + margin + 30)
            assert not worker.is_alive()
        assert isinstance(result["outcome"], sa.exc.OperationalError), result
        assert result["seconds"] <= timeout_ms / 1000 + db.STATEMENT_GRACE_S + margin, result
        assert check(_summary(app, org_id), "summary") == before
    finally:
        engine.dispose()
