"""CSV import: exact round trip, every error path with its line, all or nothing, the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.db import insert_agents, insert_logs

from ai_usage.cli import main
from ingest.importer import import_files
from storage.schema import agents, token_usage_logs

HEADER = (
    "org_id,created_at,agent_id,user_id,action_type,source,provider,model,"
    "input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,latency_ms"
)


def _write(tmp_path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def _logs(engine, org_id) -> list[dict]:
    t = token_usage_logs
    with engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(t).where(t.c.org_id == org_id).order_by(t.c.id)).mappings()]


def _agents(engine, org_id) -> dict[str, dict]:
    with engine.connect() as c:
        rows = c.execute(sa.select(agents).where(agents.c.org_id == org_id)).mappings().all()
    return {r["id"]: dict(r) for r in rows}


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _run(engine, logs, agents_file=None, **kw):
    out, err = _Sink(), _Sink()
    rc = import_files(engine, logs, agents_file, out=out, err=err, **kw)
    return rc, out.text, err.text


class _Sink:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_round_trip(engine, org_id, tmp_path):
    logs = _write(
        tmp_path,
        "logs.csv",
        "\n".join(
            [
                HEADER,
                f"{org_id},2025-03-01T10:30:00+01:00,{org_id}-a,u1,user_interaction,system,anthropic,claude-sonnet-4-5,"
                "1200,340,800,100,0.12345678,1500",
                f"{org_id},2025-03-01T09:31:00.123456Z,,,document_indexing,byok,openai,text-embedding-3-small,"
                "700,0,0,0,,",
                f'{org_id},2025-03-01 09:32:07-03:30,{org_id}-a,"user, with comma",guardrail_check,system,openai,'
                "gpt-4o-mini,,,,,0,12",
                f"{org_id},2024-10-27T02:30:00+02:00,{org_id}-b,u2,title_generation,byok,google,gemini-2.5-flash,"
                "2147483647,1,2,3,1000000.00000000,2147483647",
                f"{org_id},2024-10-27t02:30:00.5z,{org_id}-b,u2,title_generation,byok,google,gemini-2.5-flash,"
                " 7 ,0007,0,0, 1.5 , 30 ",
            ]
        )
        + "\n",
    )
    rc, out, err = _run(engine, logs)
    assert (rc, err) == (0, "")
    assert "Imported 5 log rows" in out
    rows = _logs(engine, org_id)
    assert [_utc(r["created_at"]) for r in rows] == [
        datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        datetime(2025, 3, 1, 9, 31, 0, 123456, tzinfo=UTC),
        datetime(2025, 3, 1, 13, 2, 7, tzinfo=UTC),
        datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
        datetime(2024, 10, 27, 2, 30, 0, 500000, tzinfo=UTC),
    ]
    a, b, c, d, e = rows
    assert (a["agent_id"], a["user_id"], a["action_type"], a["source"], a["provider"], a["model"]) == (
        f"{org_id}-a",
        "u1",
        "user_interaction",
        "system",
        "anthropic",
        "claude-sonnet-4-5",
    )
    assert (a["input_tokens"], a["output_tokens"], a["cache_read_tokens"], a["cache_write_tokens"]) == (
        1200,
        340,
        800,
        100,
    )
    assert Decimal(a["cost_usd"]) == Decimal("0.12345678") and a["latency_ms"] == 1500
    assert (b["agent_id"], b["user_id"], b["cost_usd"], b["latency_ms"]) == (None, None, None, None)
    assert c["user_id"] == "user, with comma"
    assert (c["input_tokens"], c["output_tokens"], c["cache_read_tokens"], c["cache_write_tokens"]) == (0, 0, 0, 0)
    assert Decimal(c["cost_usd"]) == 0 and c["latency_ms"] == 12
    assert d["input_tokens"] == 2**31 - 1 and d["latency_ms"] == 2**31 - 1
    assert Decimal(d["cost_usd"]) == Decimal("1000000")  # the most one call may cost
    assert (e["input_tokens"], e["output_tokens"], Decimal(e["cost_usd"]), e["latency_ms"]) == (
        7,
        7,
        Decimal("1.5"),
        30,
    )
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_minimal_columns_take_defaults(engine, org_id, tmp_path):
    logs = _write(
        tmp_path,
        "logs.csv",
        "created_at,org_id,action_type,source,provider,model\r\n"
        f"2025-01-01T00:00:00Z,{org_id},rag_query_embedding,system,mistral,mistral-embed\r\n",
    )
    assert _run(engine, logs)[0] == 0
    (r,) = _logs(engine, org_id)
    assert (r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["cache_write_tokens"]) == (0, 0, 0, 0)
    assert (r["agent_id"], r["user_id"], r["cost_usd"], r["latency_ms"]) == (None, None, None, None)


def test_explicit_ids(engine, org_id, tmp_path):
    with engine.connect() as c:
        top = c.execute(sa.select(sa.func.max(token_usage_logs.c.id))).scalar() or 0
    base = top + 1000
    row = f"{org_id},2025-01-01T00:00:00Z,user_interaction,system,openai,gpt-4o"
    logs = _write(
        tmp_path,
        "logs.csv",
        f"id,org_id,created_at,action_type,source,provider,model\n{base},{row}\n,{row}\n{base + 5},{row}\n",
    )
    assert _run(engine, logs)[0] == 0
    ids = [r["id"] for r in _logs(engine, org_id)]
    assert ids[:2] == [base, base + 5] and ids[2] > base + 5  # the empty one numbered above the file's
    insert_logs(
        engine,
        [
            dict(
                org_id=org_id,
                created_at=datetime(2025, 1, 2, tzinfo=UTC),
                action_type="user_interaction",
                source="system",
                provider="openai",
                model="gpt-4o",
            )
        ],
    )
    assert _logs(engine, org_id)[-1]["id"] > ids[2]  # the database's own numbering continues above


ROW = "{org},2025-03-01T10:30:00Z,,u1,user_interaction,system,openai,gpt-4o,10,5,0,0,0.001,900"


def _bad_row(**change) -> str:
    cells = dict(zip(HEADER.split(","), ROW.split(",")))
    cells.update(change)
    return ",".join(cells.values())


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(created_at="2025-02-30T10:30:00Z"), "created_at '2025-02-30T10:30:00Z' is not a valid date and time"),
        (dict(created_at="2025-03-01T10:30:00"), "created_at '2025-03-01T10:30:00' has no UTC offset"),
        (dict(created_at="2025-03-01"), "created_at '2025-03-01' has no UTC offset"),
        (
            dict(created_at="01/03/2025 10:30"),
            "created_at '01/03/2025 10:30' is not an ISO-8601 timestamp with an offset",
        ),
        (
            dict(created_at="2025-03-01T10:30:00.1234567Z"),
            "created_at '2025-03-01T10:30:00.1234567Z' has more than 6 decimals",
        ),
        (
            dict(created_at="2025-03-01T10:30:00+25:00"),
            "created_at '2025-03-01T10:30:00+25:00' is not a valid date and time",
        ),
        (dict(action_type="chat"), "action_type 'chat' is not one of"),
        (dict(action_type="User_Interaction"), "action_type 'User_Interaction' is not one of"),
        (dict(source="BYOK"), "source 'BYOK' is not system or byok"),
        (dict(org_id=""), "org_id is empty"),
        (dict(provider=" "), "provider is empty"),
        (dict(model=""), "model is empty"),
        (dict(input_tokens="-1"), "input_tokens '-1' is not a whole number from 0 to 2147483647"),
        (dict(output_tokens="1.5"), "output_tokens '1.5' is not a whole number from 0 to 2147483647"),
        (
            dict(cache_read_tokens="9223372036854775808"),
            "cache_read_tokens '9223372036854775808' is not a whole number",
        ),
        (
            dict(cache_read_tokens="2147483648"),
            "cache_read_tokens '2147483648' is not a whole number from 0 to 2147483647",
        ),
        (dict(cache_write_tokens="ten"), "cache_write_tokens 'ten' is not a whole number from 0 to 2147483647"),
        (dict(cost_usd="-0.5"), "cost_usd '-0.5' is negative"),
        (dict(cost_usd="0.123456789"), "cost_usd '0.123456789' has more than 8 decimals"),
        (dict(cost_usd="1e-5x"), "cost_usd '1e-5x' is not a decimal number"),
        (dict(cost_usd="-1e-5"), "cost_usd '-1e-5' is negative"),
        (dict(cost_usd="1.5e-9"), "cost_usd '1.5e-9' has more than 8 decimals (--round-cost rounds half-even to 8)"),
        (dict(cost_usd="1e10"), "cost_usd '1e10' is too large"),
        (dict(cost_usd="NaN"), "cost_usd 'NaN' is not a decimal number"),
        (dict(cost_usd="inf"), "cost_usd 'inf' is not a decimal number"),
        (dict(cost_usd="12345678901"), "cost_usd '12345678901' is too large"),
        (dict(cost_usd="1000000.00000001"), "cost_usd '1000000.00000001' is too large (at most 1000000 USD per call)"),
        (dict(cost_usd="9999999999.99999999"), "cost_usd '9999999999.99999999' is too large"),
        (dict(latency_ms="-3"), "latency_ms '-3' is not a whole number of milliseconds"),
        (dict(latency_ms="2147483648"), "latency_ms '2147483648' is not a whole number of milliseconds"),
        (dict(latency_ms="1.5"), "latency_ms '1.5' is not a whole number of milliseconds"),
        (dict(latency_ms="2336.5"), "latency_ms '2336.5' is not a whole number of milliseconds"),
        (dict(latency_ms="1e-3"), "latency_ms '1e-3' is not a whole number of milliseconds"),
        (dict(input_tokens="12.000001"), "input_tokens '12.000001' is not a whole number from 0"),
        (dict(output_tokens="3e9"), "output_tokens '3e9' is not a whole number from 0 to 2147483647"),
        (dict(output_tokens="-0.0"), "output_tokens '-0.0' is not a whole number"),
        (
            dict(input_tokens="１２"),
            "input_tokens '１２' is not a whole number from 0 to 2147483647",
        ),  # ASCII digits only
        (dict(user_id="a\x00b"), "user_id contains a NUL character"),
    ],
)
def test_bad_value(engine, org_id, tmp_path, change, reason):
    good = ROW.format(org=org_id)
    bad = _bad_row(**change).format(org=org_id)
    logs = _write(tmp_path, "logs.csv", "\n".join([HEADER, good, good, bad, good]) + "\n")
    rc, out, err = _run(engine, logs)
    assert rc == 2 and out == ""
    assert f"logs.csv: line 4: {reason}" in err
    assert err.count(": line ") == 1
    assert "nothing was written" in err
    assert _logs(engine, org_id) == []


def test_every_bad_row_is_reported_with_its_line(engine, org_id, tmp_path):
    good = ROW.format(org=org_id)
    lines = [HEADER] + [good] * 30
    lines[5] = _bad_row(source="x").format(org=org_id)  # line 6
    lines[6] = ""  # line 7: blank, skipped
    lines[9] = good.replace(",u1,", ',"two\nlines",')  # lines 10-11: one record
    lines[12] = _bad_row(cost_usd="abc", latency_ms="-1").format(org=org_id)  # line 14
    lines[25] = good + ",extra"  # line 27
    logs = _write(tmp_path, "logs.csv", "\n".join(lines) + "\n")
    rc, _, err = _run(engine, logs, batch_rows=4)  # many batches
    assert rc == 2
    reported = [ln for ln in err.splitlines() if ": line " in ln]
    assert [ln.split(": line ")[1].split(":")[0] for ln in reported] == ["6", "14", "27"]
    assert "cost_usd 'abc' is not a decimal number" in reported[1] and "latency_ms '-1'" in reported[1]
    assert "expected 14 fields, found 15" in reported[2]
    assert "3 in logs.csv" in err
    assert _logs(engine, org_id) == []


@pytest.mark.parametrize(
    "header, reason",
    [
        (HEADER + ",colour", "line 1: unknown column 'colour'"),
        (HEADER.replace("model,", ""), "line 1: missing required column 'model'"),
        (HEADER.replace("created_at,", ""), "line 1: missing required column 'created_at'"),
        (HEADER + ",org_id", "line 1: column 'org_id' appears twice"),
    ],
)
def test_bad_header(engine, org_id, tmp_path, header, reason):
    logs = _write(tmp_path, "logs.csv", header + "\n" + ROW.format(org=org_id) + "\n")
    rc, _, err = _run(engine, logs)
    assert rc == 2 and reason in err
    assert _logs(engine, org_id) == []


def test_duplicate_and_existing_ids(engine, org_id, tmp_path):
    insert_logs(
        engine,
        [
            dict(
                org_id=org_id,
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
                action_type="user_interaction",
                source="system",
                provider="openai",
                model="gpt-4o",
            )
        ],
    )
    (existing,) = [r["id"] for r in _logs(engine, org_id)]
    with engine.connect() as c:
        top = c.execute(sa.select(sa.func.max(token_usage_logs.c.id))).scalar()
    new = top + 500
    row = f"{org_id},2025-03-01T10:30:00Z,user_interaction,system,openai,gpt-4o"
    logs = _write(
        tmp_path,
        "logs.csv",
        "id,org_id,created_at,action_type,source,provider,model\n"
        f"{new},{row}\n{existing},{row}\n{new},{row}\n0,{row}\n{new + 1},{row}\n{new},{row}\n",
    )
    rc, _, err = _run(engine, logs)
    assert rc == 2
    assert f"line 3: id {existing} already exists" in err
    assert f"line 4: id {new} appears again (first on line 2)" in err
    assert "line 5: id '0' is not a whole number ≥ 1" in err
    assert f"line 7: id {new} appears again (first on line 2)" in err
    assert "line 2:" not in err and "line 6:" not in err
    assert len(_logs(engine, org_id)) == 1


def test_id_below_the_largest_is_refused(engine, org_id, tmp_path):
    insert_logs(
        engine,
        [
            dict(
                org_id=org_id,
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
                action_type="user_interaction",
                source="system",
                provider="openai",
                model="gpt-4o",
            )
            for _ in range(3)
        ],
    )
    ids = [r["id"] for r in _logs(engine, org_id)]
    with engine.begin() as c:
        c.execute(token_usage_logs.delete().where(token_usage_logs.c.id == ids[1]))
    logs = _write(
        tmp_path,
        "logs.csv",
        "id,org_id,created_at,action_type,source,provider,model\n"
        f"{ids[1]},{org_id},2025-03-01T10:30:00Z,user_interaction,system,openai,gpt-4o\n",
    )
    rc, _, err = _run(engine, logs)
    assert rc == 2 and f"line 2: id {ids[1]} is not above the largest existing id" in err


def test_agents_upsert_and_report(engine, org_id, tmp_path):
    insert_agents(engine, [dict(id=f"{org_id}-old", org_id=org_id, name="Antiguo", avatar_url=None)])
    agents_csv = _write(
        tmp_path,
        "agents.csv",
        "id,org_id,name,avatar_url\n"
        f'{org_id}-old,{org_id},"Brújula, soporte",https://example.com/b.png\n'
        f"{org_id}-new,{org_id},Faro,\n",
    )
    logs = _write(tmp_path, "logs.csv", HEADER + "\n" + ROW.format(org=org_id) + "\n")
    rc, out, err = _run(engine, logs, agents_csv)
    assert (rc, err) == (0, "")
    assert out.strip() == (
        f"Imported 1 log rows from logs.csv and 2 agents from agents.csv (1 new, 1 updated: {org_id}-old)."
    )
    got = _agents(engine, org_id)
    assert got[f"{org_id}-old"]["name"] == "Brújula, soporte"
    assert got[f"{org_id}-old"]["avatar_url"] == "https://example.com/b.png"
    assert got[f"{org_id}-new"]["avatar_url"] is None
    # Agents alone (a header-only log file).
    logs = _write(tmp_path, "empty.csv", HEADER + "\n")
    agents_csv = _write(tmp_path, "agents2.csv", f"org_id,name,id\n{org_id},Faro 2,{org_id}-new\n")
    rc, out, _ = _run(engine, logs, agents_csv)
    assert rc == 0 and "Imported 0 log rows" in out and "0 new, 1 updated" in out
    assert _agents(engine, org_id)[f"{org_id}-new"]["name"] == "Faro 2"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("id,org_id,name\n{o}-a,{o},\n", "line 2: name is empty"),
        ("id,org_id,name\n,{o},X\n", "line 2: id is empty"),
        ("id,org_id,name,colour\n{o}-a,{o},X,red\n", "line 1: unknown column 'colour'"),
        ("id,name\n{o}-a,X\n", "line 1: missing required column 'org_id'"),
        ("id,org_id,name\n{o}-a,{o},X\n{o}-a,{o},Y\n", "line 3: agent id '{o}-a' appears again (first on line 2)"),
        (
            "id,org_id,name,avatar_url\n{o}-a,{o},X,javascript:alert(1)\n",
            "line 2: avatar_url 'javascript:alert(1)' must start",
        ),
        ("id,org_id,name\n{o}-taken,{o},X\n", "line 2: agent id '{o}-taken' already belongs to org 'someone-else'"),
        ("id,org_id,name\n{o}-a,{o}\n", "line 2: expected 3 fields, found 2"),
        ("", "line 1: the file is empty"),
    ],
)
def test_bad_agents_file_writes_neither_file(engine, org_id, tmp_path, text, reason):
    insert_agents(engine, [dict(id=f"{org_id}-taken", org_id="someone-else", name="Z", avatar_url=None)])
    agents_csv = _write(tmp_path, "agents.csv", text.format(o=org_id))
    logs = _write(tmp_path, "logs.csv", HEADER + "\n" + ROW.format(org=org_id) + "\n")
    rc, out, err = _run(engine, logs, agents_csv)
    assert rc == 2 and out == ""
    assert f"agents.csv: {reason.format(o=org_id)}" in err
    assert _logs(engine, org_id) == []
    assert _agents(engine, org_id) == {}


def test_bad_log_file_writes_no_agents(engine, org_id, tmp_path):
    agents_csv = _write(tmp_path, "agents.csv", f"id,org_id,name\n{org_id}-a,{org_id},X\n")
    logs = _write(tmp_path, "logs.csv", HEADER + "\n" + _bad_row(source="nope").format(org=org_id) + "\n")
    rc, _, err = _run(engine, logs, agents_csv)
    assert rc == 2 and "logs.csv: line 2: source 'nope'" in err
    assert _agents(engine, org_id) == {}


def test_unreadable_files(engine, tmp_path):
    rc, _, err = _run(engine, str(tmp_path / "missing.csv"))
    assert rc == 2 and "missing.csv: cannot open" in err
    p = tmp_path / "latin1.csv"
    good = ROW.format(org="acme") + "\n"
    p.write_bytes((HEADER + "\n" + good * 300).encode() + "acmé".encode("latin-1") + good[4:].encode())
    rc, _, err = _run(engine, str(p))
    assert rc == 2 and "latin1.csv: line 302: not UTF-8 text" in err


def test_cli(engine, org_id, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    agents_csv = _write(tmp_path, "agents.csv", f"id,org_id,name\n{org_id}-a,{org_id},Sancho\n")
    logs = _write(tmp_path, "logs.csv", HEADER + "\n" + ROW.format(org=org_id).replace(",,", f",{org_id}-a,") + "\n")
    assert main(["import", logs, "--agents", agents_csv]) == 0
    assert (
        "Imported 1 log rows from logs.csv and 1 agents from agents.csv (1 new, 0 updated)." in capsys.readouterr().out
    )
    bad = _write(tmp_path, "bad.csv", HEADER + "\n" + _bad_row(created_at="2025-03-01T10:30").format(org=org_id) + "\n")
    assert main(["import", bad]) == 2
    err = capsys.readouterr().err
    assert "bad.csv: line 2: created_at '2025-03-01T10:30' has no UTC offset" in err
    assert [r["agent_id"] for r in _logs(engine, org_id)] == [f"{org_id}-a"]


# ------------------------------------------------------------------ what pandas and psql write


def test_pandas_and_psql_number_forms_are_exact(engine, org_id, tmp_path):
    """E-notation costs and integral floats (an integer column with missing values, as pandas
    writes it) are taken exactly: Decimal, never a float."""
    logs = _write(
        tmp_path,
        "logs.csv",
        "\n".join(
            [
                HEADER,
                f"{org_id},2025-03-01T10:30:00Z,,,user_interaction,system,openai,gpt-4o,1200.0,340.0,0.0,12.0,5.819e-05,2336.0",
                f"{org_id},2025-03-01T10:31:00Z,,,user_interaction,system,openai,gpt-4o,1.2e3,7,0,0,1E-8,",
                f"{org_id},2025-03-01T10:32:00Z,,,user_interaction,system,openai,gpt-4o,0,0,0,0,2.5e+3,1.5e1",
                f"{org_id},2025-03-01T10:33:00Z,,,user_interaction,system,openai,gpt-4o,0,0,0,0,.5,3.",
                f"{org_id},2025-03-01T10:34:00Z,,,user_interaction,system,openai,gpt-4o,0,0,0,0,0.30000000000000004e0,0",
            ]
        )
        + "\n",
    )
    rc, out, err = _run(engine, logs)
    assert rc == 2 and "line 6: cost_usd '0.30000000000000004e0' has more than 8 decimals" in err
    logs_ok = _write(tmp_path, "ok.csv", "\n".join(Path(logs).read_text().splitlines()[:5]) + "\n")
    rc, out, err = _run(engine, logs_ok)
    assert (rc, err) == (0, "") and "Rounded" not in out
    rows = _logs(engine, org_id)
    assert [(r["input_tokens"], r["output_tokens"], r["cache_write_tokens"], r["latency_ms"]) for r in rows] == [
        (1200, 340, 12, 2336),
        (1200, 7, 0, None),
        (0, 0, 0, 15),
        (0, 0, 0, 3),
    ]
    assert [Decimal(r["cost_usd"]) for r in rows] == [
        Decimal("0.00005819"),
        Decimal("0.00000001"),
        Decimal("2500"),
        Decimal("0.5"),
    ]


def test_round_cost_rounds_half_even_to_8_decimals_and_says_how_many(engine, org_id, tmp_path):
    costs = ["0.123456785", "0.123456775", "1.5e-9", "2.5e-8", "3.5e-08", "0.30000000000000004", "0.1"]
    lines = [HEADER] + [_bad_row(cost_usd=c).format(org=org_id) for c in costs]
    logs = _write(tmp_path, "logs.csv", "\n".join(lines) + "\n")
    rc, out, err = _run(engine, logs)
    assert rc == 2 and err.count("has more than 8 decimals") == 6 and _logs(engine, org_id) == []
    rc, out, err = _run(engine, logs, round_cost=True)
    assert (rc, err) == (0, "")
    assert "Rounded 6 cost_usd values to 8 decimals (half-even" in out
    assert [Decimal(r["cost_usd"]) for r in _logs(engine, org_id)] == [
        Decimal(v) for v in ("0.12345678", "0.12345678", "0", "0.00000002", "0.00000004", "0.3", "0.1")
    ]


def test_cli_round_cost(engine, org_id, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    logs = _write(tmp_path, "logs.csv", HEADER + "\n" + _bad_row(cost_usd="5.8190001e-05").format(org=org_id) + "\n")
    assert main(["import", logs]) == 2
    assert "line 2: cost_usd '5.8190001e-05' has more than 8 decimals" in capsys.readouterr().err
    assert main(["import", logs, "--round-cost"]) == 0
    assert "Rounded 1 cost_usd values" in capsys.readouterr().out
    assert [Decimal(r["cost_usd"]) for r in _logs(engine, org_id)] == [Decimal("0.00005819")]


# ------------------------------------------------------------------ ids that would exhaust the sequence


@pytest.mark.parametrize("value", [2**63 - 1, 2**62 + 1, "4.7e18"])
def test_ids_that_would_exhaust_the_sequence_are_refused(engine, org_id, tmp_path, value):
    row = f"{org_id},2025-01-01T00:00:00Z,user_interaction,system,openai,gpt-4o"
    logs = _write(tmp_path, "logs.csv", f"id,org_id,created_at,action_type,source,provider,model\n{value},{row}\n")
    rc, _, err = _run(engine, logs)
    assert rc == 2 and "line 2: id " in err
    assert "is above 4611686018427387904 (2^62)" in err and "the platform's own inserts would fail" in err
    assert _logs(engine, org_id) == []


# ------------------------------------------------------------------ a database error while writing


@pytest.fixture
def failing_insert(engine, org_id):
    """A trigger that makes the database refuse one row of this org (model 'boom')."""
    pg = engine.dialect.name == "postgresql"
    name = f"boom_{org_id.replace('-', '_')}"
    with engine.begin() as c:
        if pg:
            c.execute(
                sa.text(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.model = 'boom' AND NEW.org_id = '{org_id}' THEN "
                    "RAISE EXCEPTION 'disk quota exceeded (test trigger)'; END IF; RETURN NEW; END $$"
                )
            )
            c.execute(
                sa.text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON token_usage_logs FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            )
        else:
            c.execute(
                sa.text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON token_usage_logs "
                    f"WHEN NEW.model = 'boom' AND NEW.org_id = '{org_id}' "
                    "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded (test trigger)'); END"
                )
            )
    yield
    with engine.begin() as c:
        c.execute(sa.text(f"DROP TRIGGER {name}" + (" ON token_usage_logs" if pg else "")))
        if pg:
            c.execute(sa.text(f"DROP FUNCTION {name}()"))


def _sequence_value(engine):
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as c:
        seq = c.execute(sa.text("SELECT pg_get_serial_sequence('token_usage_logs', 'id')")).scalar()
        return tuple(c.execute(sa.text(f"SELECT last_value, is_called FROM {seq}")).one())


@pytest.mark.parametrize("with_ids", [False, True])
def test_a_database_error_while_writing_is_one_line_and_writes_nothing(
    engine, org_id, tmp_path, failing_insert, with_ids, capsys, monkeypatch
):
    with engine.connect() as c:
        top = c.execute(sa.select(sa.func.max(token_usage_logs.c.id))).scalar() or 0
    row = f"{org_id},2025-01-01T00:00:00Z,user_interaction,system,openai"
    ids = [str(top + 10_000), "", str(top + 10_001)] if with_ids else ["", "", ""]
    logs = _write(
        tmp_path,
        "logs.csv",
        "id,org_id,created_at,action_type,source,provider,model\n"
        f"{ids[0]},{row},gpt-4o\n{ids[1]},{row},gpt-4o\n{ids[2]},{row},boom\n",
    )
    agents_csv = _write(tmp_path, "agents.csv", f"id,org_id,name\n{org_id}-a,{org_id},X\n")
    before = _sequence_value(engine)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["import", logs, "--agents", agents_csv]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.splitlines() == [
        "Import failed while writing: disk quota exceeded (test trigger); nothing was written."
    ], out.err
    assert _logs(engine, org_id) == [] and _agents(engine, org_id) == {}
    after = _sequence_value(engine)
    if with_ids or before is None:
        # setval is never rolled back: it runs only after the rows are in.
        assert after == before
    else:
        # Rows without ids take nextval, which is not rolled back either (PostgreSQL's
        # ordinary gaps): at most one id per row, never a jump to the file's ids.
        assert before[0] <= after[0] <= before[0] + 3


def test_a_dropped_table_while_validating_or_writing_is_one_line(tmp_path, org_id, capsys, monkeypatch):
    from storage.engine import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'gone.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as c:
        c.execute(sa.text("DROP TABLE token_usage_logs"))
    monkeypatch.setenv("DATABASE_URL", url)
    logs = _write(tmp_path, "logs.csv", HEADER + "\n" + ROW.format(org=org_id).replace(",,", ",x,") + "\n")
    import ai_usage.cli as cli

    monkeypatch.setattr("storage.engine.migrate", lambda engine: None)  # keep the table dropped
    assert cli.main(["import", logs]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("Import failed while ") and "no such table" in err
    assert "Traceback" not in err
    engine.dispose()
