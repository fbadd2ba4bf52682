"""Settings: one registry gives the defaults, the conversions, the CLI's table and the README's."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from storage import settings as st
from storage.settings import REGISTRY, Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_table() -> dict[str, str]:
    """variable -> default cell of the README's settings table."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", README.read_text(), flags=re.M)
    return {name: default.strip() for name, default in rows}


def test_defaults_come_from_the_registry():
    """Settings() and an empty environment agree, and both are the registry's defaults converted."""
    assert Settings() == Settings.from_env({})
    for f in st.declared():
        assert getattr(Settings(), f.name) == f.metadata["convert"](REGISTRY[f.metadata["env"]][0]), f.name


@pytest.mark.parametrize(
    "env,field,value",
    [
        ({"AI_USAGE_STATEMENT_TIMEOUT_MS": "2500"}, "statement_timeout_ms", 2500),
        ({"AI_USAGE_ROLLUPS": "0"}, "use_rollups", False),
        ({"AI_USAGE_ROLLUPS": "no"}, "use_rollups", False),
        ({"AI_USAGE_ROLLUPS": "yes"}, "use_rollups", True),
        ({"AI_USAGE_REFRESH_SECONDS": "0.5"}, "refresh_seconds", 0.5),
        ({"AI_USAGE_MAX_TOKEN_TTL": "15m"}, "max_token_ttl", timedelta(minutes=15)),
        ({"AI_USAGE_SECRET": ""}, "secret", ""),  # empty takes the default
    ],
)
def test_each_variable_is_converted_as_declared(env, field, value):
    assert getattr(Settings.from_env(env), field) == value


def test_a_bad_value_names_its_variable():
    with pytest.raises(ValueError, match=r"^AI_USAGE_REFRESH_SECONDS: "):
        Settings.from_env({"AI_USAGE_REFRESH_SECONDS": "often"})


@pytest.mark.parametrize(
    "name, raw, said",
    [
        ("AI_USAGE_STATEMENT_TIMEOUT_MS", "ten", "'ten' is not a whole number of milliseconds"),
        # negative: every PostgreSQL connection failed, and /readyz said the database could not be reached
        ("AI_USAGE_STATEMENT_TIMEOUT_MS", "-5", "must be from 0 (no limit) to 2147483647 milliseconds"),
        ("AI_USAGE_STATEMENT_TIMEOUT_MS", "2147483648", "must be from 0 (no limit) to 2147483647 milliseconds"),
        ("AI_USAGE_REFRESH_SECONDS", "often", "'often' is not a number of seconds"),
        ("AI_USAGE_REFRESH_SECONDS", "-1", "must be from 0 (no background catch-up) to 86400 seconds"),
        ("AI_USAGE_REFRESH_SECONDS", "nan", "must be from 0 (no background catch-up) to 86400 seconds"),
        ("AI_USAGE_REFRESH_SECONDS", "inf", "must be from 0 (no background catch-up) to 86400 seconds"),
        # these two were checked only when the app was built: a traceback at `serve`
        ("AI_USAGE_CACHE_URL", "junk", "must be a redis://, rediss:// or unix:// URL, or none (no cache)"),
        ("AI_USAGE_CACHE_URL", "http://127.0.0.1:6379", "must be a redis://, rediss:// or unix:// URL"),
        ("AI_USAGE_FRAME_ANCESTORS", "*;script-src *", "'*;script-src' is not a valid CSP source expression"),
        ("AI_USAGE_FRAME_ANCESTORS", "https://a.test\x00", "is not a valid CSP source expression"),
    ],
)
def test_a_value_out_of_its_range_is_refused_naming_it(name, raw, said):
    with pytest.raises(ValueError) as e:
        Settings.from_env({name: raw})
    assert str(e.value).startswith(f"{name}: ") and said in str(e.value)


@pytest.mark.parametrize(
    "name, raw",
    [
        ("AI_USAGE_STATEMENT_TIMEOUT_MS", "0"),
        ("AI_USAGE_STATEMENT_TIMEOUT_MS", "2147483647"),
        ("AI_USAGE_REFRESH_SECONDS", "0"),
        ("AI_USAGE_REFRESH_SECONDS", "86400"),
        ("AI_USAGE_CACHE_URL", "none"),
        ("AI_USAGE_CACHE_URL", "NONE"),
        ("AI_USAGE_CACHE_URL", "rediss://u:p@cache.example:6380/2"),
        ("AI_USAGE_CACHE_URL", "unix:///run/redis.sock"),
        ("AI_USAGE_FRAME_ANCESTORS", "'self' https://panel.example.com, https://*.example.org"),
    ],
)
def test_the_edges_of_each_range_are_taken(name, raw):
    f = next(f for f in st.declared() if f.metadata["env"] == name)
    assert getattr(Settings.from_env({name: raw}), f.name) == f.metadata["convert"](raw)


def test_settings_command_prints_the_registry(capsys, monkeypatch):
    from ai_usage import cli

    monkeypatch.setenv("AI_USAGE_STATEMENT_TIMEOUT_MS", "ten")  # needs no valid environment
    assert cli.main(["settings"]) == 0
    out = capsys.readouterr().out
    assert out == st.markdown_table()
    assert [line.split("`")[1] for line in out.splitlines()[2:]] == list(REGISTRY)


def test_readme_lists_exactly_the_registry():
    want = {name: st.shown_default(default) for name, (default, _) in REGISTRY.items()}
    assert readme_table() == want
