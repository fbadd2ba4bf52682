"""Display currency rates: storage (exact, both engines), the rule of the rate in force, the CLI."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ai_usage.cli import main
from queries.rates import all_rates, rate_in_force
from storage.currencies import is_currency
from storage.schema import currency_rates


@pytest.fixture
def rates_db(engine, monkeypatch):
    """The session's database with no rates, as DATABASE_URL for the CLI (the table is not per org)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(currency_rates))
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.delete(currency_rates))


def _in_force(engine, code, day):
    with engine.connect() as conn:
        return rate_in_force(conn, code, day)


def test_set_and_the_rate_in_force(rates_db, capsys):
    assert main(["rates", "set", "EUR", "0.90", "--as-of", "2026-11-01"]) == 0
    assert main(["rates", "set", "EUR", "0.92", "--as-of", "2026-12-01"]) == 0
    assert main(["rates", "set", "EUR", "0.95", "--as-of", "2027-01-01"]) == 0  # future: waits for its day
    assert "EUR: 0.92 per USD from 2026-12-01." in capsys.readouterr().out
    assert _in_force(rates_db, "EUR", date(2026, 10, 31)) is None  # nothing dated that early
    assert _in_force(rates_db, "EUR", date(2026, 11, 30)).units_per_usd == Decimal("0.9")
    r = _in_force(rates_db, "EUR", date(2026, 12, 1))
    assert (r.currency, r.units_per_usd, r.as_of) == ("EUR", Decimal("0.92"), date(2026, 12, 1))
    assert _in_force(rates_db, "EUR", date(2026, 12, 31)).units_per_usd == Decimal("0.92")
    assert _in_force(rates_db, "EUR", date(2027, 1, 1)).units_per_usd == Decimal("0.95")
    assert _in_force(rates_db, "MXN", date(2027, 1, 1)) is None


def test_setting_a_day_again_replaces_it(rates_db):
    assert main(["rates", "set", "MXN", "17.5", "--as-of", "2026-12-01"]) == 0
    assert main(["rates", "set", "MXN", "17.25", "--as-of", "2026-12-01"]) == 0
    with rates_db.connect() as conn:
        assert [(r.currency, r.units_per_usd) for r in all_rates(conn)] == [("MXN", Decimal("17.25"))]


@pytest.mark.parametrize("text", ["0.1", "0.1234567891", "999999999.9999999999", "1000000000", "4123.5"])
def test_rates_are_stored_exactly(rates_db, text):
    assert main(["rates", "set", "COP", text, "--as-of", "2026-01-01"]) == 0
    assert _in_force(rates_db, "COP", date(2026, 1, 1)).units_per_usd == Decimal(text)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["eur", "0.9"], "not an ISO 4217 code"),
        (["XYZ", "0.9"], "not an ISO 4217 code"),
        (["USD", "1"], "needs no rate"),
        (["EUR", "0"], "above 0"),
        (["EUR", "-0.9"], "above 0"),
        (["EUR", "nan"], "above 0"),
        (["EUR", "1e10"], "at most 1000000000"),
        (["EUR", "0,92"], "not a number"),
        (["EUR", "١٢"], "not a number"),  # Arabic-Indic digits: Decimal reads 12
        (["EUR", "０.９"], "not a number"),
        (["EUR", "1_000"], "not a number"),
        (["EUR", "0.9", "--as-of", "2026-W49-1"], "not a date"),  # an ISO week date: 2026-11-30
        (["EUR", "0.9", "--as-of", "20261201"], "not a date"),
        (["EUR", "0.12345678901"], "more than 10 decimals"),
        (["EUR", "0.9", "--as-of", "2026-02-30"], "not a date"),
        (["EUR", "0.9", "--as-of", "1969-12-31"], "between 1970-01-01 and 2199-12-31"),
    ],
)
def test_a_bad_rate_is_refused(rates_db, capsys, args, reason):
    assert main(["rates", "set", *args]) == 2
    assert reason in capsys.readouterr().err
    with rates_db.connect() as conn:
        assert all_rates(conn) == []


def test_import_is_all_or_nothing_with_line_numbers(rates_db, tmp_path, capsys):
    bad = tmp_path / "rates.csv"
    bad.write_text(
        "as_of,currency,units_per_usd\n"
        "2026-12-01,EUR,0.92\n"
        "2026-12-01,EURO,0.92\n"
        "\n"
        "2026-12-01,MXN,-3\n"
        "2026-12-01,EUR,0.93\n"
        "2026-12-01,GBP\n",
        encoding="utf-8",
    )
    assert main(["rates", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "rates.csv: line 3: currency 'EURO' is not an ISO 4217 code" in err
    assert "rates.csv: line 5: units_per_usd '-3' must be above 0" in err
    assert "rates.csv: line 6: EUR on 2026-12-01 is already given on line 2" in err
    assert "rates.csv: line 7: 2 fields where the header has 3" in err
    assert "nothing was written" in err
    with rates_db.connect() as conn:
        assert all_rates(conn) == []

    good = tmp_path / "good.csv"
    good.write_text("currency,units_per_usd,as_of\nEUR,0.92,2026-12-01\nMXN,17.1234,2026-11-30\n", encoding="utf-8")
    assert main(["rates", "import", str(good)]) == 0
    assert "Imported 2 rates (EUR, MXN)." in capsys.readouterr().out
    assert _in_force(rates_db, "MXN", date(2026, 12, 1)).units_per_usd == Decimal("17.1234")


def test_import_needs_the_header(rates_db, tmp_path, capsys):
    f = tmp_path / "r.csv"
    f.write_text("code,rate,date\nEUR,0.92,2026-12-01\n", encoding="utf-8")
    assert main(["rates", "import", str(f)]) == 2
    assert "line 1: the header must name currency, units_per_usd, as_of" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, said",
    [
        # the third line's bytes are not UTF-8: its number, not "line 0: unreadable: 'utf-8' codec…"
        (b"currency,units_per_usd,as_of\nEUR,0.92,2026-12-01\n\xff\xfe,1,2026-12-01\n", "line 3: not UTF-8 text"),
        (b"\xff\xfe\x00c\x00u\x00r\n", "line 1: not UTF-8 text"),  # UTF-16
        (b"currency,units_per_usd,as_of\n" + b"x" * 200_000 + b"\n", "line 2: unreadable CSV (field larger than"),
    ],
)
def test_an_unreadable_file_is_named_by_its_line(rates_db, tmp_path, capsys, content, said):
    f = tmp_path / "r.csv"
    f.write_bytes(content)
    assert main(["rates", "import", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"r.csv: {said}" in err and "nothing was written" in err
    with rates_db.connect() as conn:
        assert all_rates(conn) == []


def test_a_folder_is_not_a_file_of_rates(rates_db, tmp_path, capsys):
    """IsADirectoryError was a traceback."""
    assert main(["rates", "import", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"{tmp_path}: cannot open: Is a directory\n"


def test_list(rates_db, capsys):
    assert main(["rates", "list"]) == 0
    assert "No rates yet" in capsys.readouterr().out
    main(["rates", "set", "EUR", "0.9", "--as-of", "2020-01-01"])
    main(["rates", "set", "EUR", "0.92", "--as-of", "2021-01-01"])
    capsys.readouterr()
    assert main(["rates", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["EUR", "2021-01-01", "0.92", "yes"]  # newest first, the one in force
    assert lines[2].split() == ["EUR", "2020-01-01", "0.9"]


def test_iso_codes():
    assert is_currency("EUR") and is_currency("MXN") and is_currency("USD")
    assert not any(is_currency(c) for c in ("eur", "EU", "EURO", "XXX", "XAU", "", None, 978))
