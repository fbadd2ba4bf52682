"""The API against its own OpenAPI document: a schemathesis run on the live app (in-process WSGI),
positive and negative data, no 5xx, every status documented, every body valid."""

from __future__ import annotations

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from support.api import BASE, ROUTES, auth, dataset, make_app, spec
from support.db import insert_agents, insert_logs

ORG = "org-schemathesis"
ZONES = ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Europe/Madrid"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
    negative_data_rejection,
]


def test_document_is_valid_openapi_31():
    doc = spec()
    assert doc["openapi"] == "3.1.0"
    # Every schema in it is valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
    meta = jsonschema_rs.validator_for({"$ref": "https://json-schema.org/draft/2020-12/schema"})
    for name, schema in doc["components"]["schemas"].items():
        assert meta.is_valid(schema), name
    for route in ROUTES:
        op = doc["paths"][f"{BASE}/{route}"]["get"]
        assert set(op["responses"]) == {"200", "400", "401", "403", "500", "503"}
        names = {doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"] for p in op["parameters"]}
        assert {"timezone", "preset", "from", "to", "source", "granularity", "x-org-id"} <= names
    assert doc["paths"][f"{BASE}/openapi.json"]["get"]["security"] == []
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }


def test_served_document_is_the_module_document(engine):
    app = make_app(engine)
    assert app.server.test_client().get(f"{BASE}/openapi.json").get_json() == spec()


@pytest.fixture(scope="module")
def api_schema(engine):
    logs, agents = dataset(ORG)
    insert_logs(engine, [r for r in logs])
    insert_agents(engine, agents)
    app = make_app(engine)
    return schemathesis.openapi.from_wsgi(f"{BASE}/openapi.json", app.server)


def _strategy(schema):
    strategies = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path.endswith("openapi.json"):
            continue
        strategies.append(op.as_strategy(GenerationMode.POSITIVE))
        strategies.append(op.as_strategy(GenerationMode.NEGATIVE))
        # Real zones and a recent window, so that many answers are 200s with data to validate.
        strategies.append(
            st.sampled_from(ZONES).flatmap(
                lambda tz, op=op: op.as_strategy(
                    GenerationMode.POSITIVE,
                    headers={"x-org-id": ORG},
                    query={"timezone": tz, "from": "2026-10-25", "to": "2026-11-05"},
                )
            )
        )
        strategies.append(
            st.sampled_from(ZONES).flatmap(
                lambda tz, op=op: op.as_strategy(
                    GenerationMode.POSITIVE, headers={"x-org-id": ORG}, query={"timezone": tz}
                )
            )
        )
    return st.one_of(strategies)


def test_schemathesis_run(api_schema):
    # The in-process WSGI transport does not decode gzip/br: ask for plain bodies.
    headers = {**auth(ORG), "Accept-Encoding": "identity"}
    seen = {}

    @settings(max_examples=160, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(case=_strategy(api_schema))
    def run(case):
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1

    run()
    # The run exercised real answers as well as refusals.
    assert seen.get(200, 0) >= 20 and seen.get(400, 0) >= 5, seen
    assert not any(code >= 500 for code in seen), seen


def test_response_schemas_are_the_answer_models():
    """One source per answer's shape: the document's schemas are generated from api.answers."""
    from api import answers

    doc = spec()
    assert doc["components"]["schemas"] == answers.schemas()
    for route in ROUTES:
        ok = doc["paths"][f"{BASE}/{route}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["$ref"].rsplit("/", 1)[1] in {m.__name__ for m in answers.ANSWERS}


def test_upper80_may_fall_below_lower80_as_the_contract_computes_it():
    """upper80 = monthToDateUsd + S + t·se (contract §3) is negative-going when a falling
    trend's forecast sums below zero, while lower80 never drops under monthToDateUsd: the
    schema must not promise upper80 ≥ 0 (a recorded answer had upper80 −2.76, lower80 0)."""
    from api import answers

    schema = answers.Projection.model_json_schema(by_alias=True)["properties"]
    upper = [s for s in schema["upper80"]["anyOf"] if s.get("type") == "number"][0]
    lower = [s for s in schema["lower80"]["anyOf"] if s.get("type") == "number"][0]
    assert "minimum" not in upper and lower.get("minimum") == 0
    answers.Projection.model_validate(
        {
            "status": "ok",
            "asOf": "2026-12-01",
            "monthStart": "2026-12-01",
            "monthEnd": "2026-12-31",
            "monthToDateUsd": 0.0,
            "projectedTotalUsd": 0.0,
            "lower80": 0.0,
            "upper80": -2.76,
            "dailyPoints": 9,
            "filters": {},
        }
    )
