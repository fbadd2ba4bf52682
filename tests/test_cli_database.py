"""A DATABASE_URL the commands cannot use is one line in words, never SQLAlchemy's traceback.

Malformed, of another engine, or with a driver that is not installed: a setting error (exit
2, as any malformed setting). Well formed but unusable (nothing listens there, an SQLite
file that is not a database, a folder that cannot be made): "Cannot use the database at
<URL, password masked>: <the driver's first line>", exit 1. A database that is down when
`serve` starts is not refused: the workers start and /readyz answers 503 until it is up.
"""

from __future__ import annotations

import pytest

from ai_usage import cli
from ai_usage.server import serve
from storage.settings import Settings, database_url

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret"
COMMANDS = [
    ["init-db"],
    ["refresh"],
    ["rates", "list"],
    ["demo-data", "--rows", "1", "--no-progress"],
    ["import", "/dev/null"],
    ["alerts", "send-test", "--org", "acme"],
]


@pytest.mark.parametrize(
    "url, said",
    [
        ("garbage", "not a database URL (e.g. postgresql://user@host/db or sqlite:////path/to/file.db)"),
        ("mysql://u@h/db", "the dashboard runs on PostgreSQL or SQLite, not 'mysql'"),
        ("oracle://u@h/db", "the dashboard runs on PostgreSQL or SQLite, not 'oracle'"),
        ("postgresql+asyncpg://u@h/db", "no driver 'postgresql+asyncpg' here"),
        ("postgresql+psycopg://u@h/db", "no driver 'postgresql+psycopg' here"),
    ],
)
def test_a_url_the_dashboard_cannot_drive_is_a_setting_error(monkeypatch, capsys, url, said):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("AI_USAGE_SECRET", SECRET)
    for argv in [*COMMANDS, ["serve", "--port", "0"]]:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"Invalid setting: DATABASE_URL: {said}") and len(err.splitlines()) == 1, (argv, err)


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1/db", "postgres://u:p@h/db", "postgresql+psycopg2://u@h/db", "sqlite://"]
)
def test_the_urls_it_drives_are_taken_as_written(url):
    """A bare postgresql:// (or postgres://) is psycopg2, the driver the project ships
    (SQLAlchemy 2.1 would read it as psycopg 3): accepted, and the setting keeps the text."""
    assert database_url(url) == url
    assert Settings.from_env({"DATABASE_URL": url}).database_url == url


def _unusable_urls(tmp_path) -> list[tuple[str, str]]:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is no database, whatever its name says\n" * 200)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return [
        ("postgresql://postgres:hunter2@127.0.0.1:1/db", 'connection to server at "127.0.0.1", port 1 failed'),
        (f"sqlite:///{junk}", "file is not a database"),
        (f"sqlite:///{a_file}/x.sqlite3", f"cannot make its folder {a_file}"),
    ]


def test_a_database_it_cannot_use_is_one_line_and_exit_1(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("AI_USAGE_SECRET", SECRET)
    for url, said in _unusable_urls(tmp_path):
        monkeypatch.setenv("DATABASE_URL", url)
        shown = url.replace("hunter2", "***")
        for argv in COMMANDS:
            assert cli.main(argv) == 1, (url, argv)
            err = capsys.readouterr().err
            assert err.startswith(f"Cannot use the database at {shown}: {said}"), (url, argv, err)
            assert len(err.splitlines()) == 1 and "hunter2" not in err and "Traceback" not in err


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_says_why_before_a_worker_fails_to_boot(tmp_path, capsys, workers):
    """gunicorn's workers would each fail to boot ("Worker failed to boot", exit 3) and waitress
    raised FileExistsError: the folder of an SQLite file that cannot be made is said at once."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    url = f"sqlite:///{a_file}/x.sqlite3"
    assert serve(Settings(database_url=url, secret=SECRET), port=0, workers=workers) == 1
    assert f"Cannot use the database at {url}: cannot make its folder {a_file}" in capsys.readouterr().err


def test_a_bug_is_not_hidden_as_a_one_liner():
    """Only the errors that say the database cannot be used at all become a line."""
    assert cli.unreachable(RuntimeError("a bug")) is None
    assert cli.unreachable(KeyError("x")) is None
