"""The API is described in /schema: bodies, parameters, answers and the bearer scheme."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient


def _schema(client: TestClient[Litestar]) -> dict[str, Any]:
    answer = client.get("/schema/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def test_every_endpoint_is_documented_with_its_errors(client: TestClient[Litestar]) -> None:
    paths = _schema(client)["paths"]
    expected = {
        "/api/v1/contacts": {"get", "post"},
        "/api/v1/contacts/{contact_id}": {"get", "patch", "delete"},
        "/api/v1/contacts/{contact_id}/timeline": {"get"},
        "/api/v1/events": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"], (path, method)
            assert {"400", "401", "403"} <= set(operation["responses"]), (path, method)
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}


def test_event_body_documents_one_event_or_a_batch_of_at_most_a_thousand(
    client: TestClient[Litestar],
) -> None:
    post = _schema(client)["paths"]["/api/v1/events"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    single, batch = body["oneOf"]
    assert single["required"] == ["type"]
    assert {"type", "email", "contact_id", "occurred_at", "properties", "idempotency_key"} == set(
        single["properties"]
    )
    assert single["additionalProperties"] is False
    assert batch["properties"]["events"]["maxItems"] == 1000
    assert batch["properties"]["events"]["items"] == single
    assert "$ref" not in str(body)
    assert post["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IngestAnswer"
    }


def test_contact_bodies_and_list_parameters_are_documented(client: TestClient[Litestar]) -> None:
    document = _schema(client)
    contacts = document["paths"]["/api/v1/contacts"]
    create = contacts["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["required"] == ["email"]
    assert "company" in create["properties"]
    assert {"200", "201", "422"} <= set(contacts["post"]["responses"])
    change = document["paths"]["/api/v1/contacts/{contact_id}"]["patch"]
    assert not change["requestBody"]["content"]["application/json"]["schema"].get("required")
    parameters = {p["name"]: p for p in contacts["get"]["parameters"]}
    assert set(parameters) == {
        "q",
        "lifecycle_stage",
        "industry",
        "company_id",
        "owner_id",
        "country",
        "created_after",
        "cursor",
        "limit",
    }
    assert all(p["in"] == "query" and p.get("description") for p in parameters.values())
    assert "LifecycleStage" in str(parameters["lifecycle_stage"]["schema"])
    assert "mql" in document["components"]["schemas"]["LifecycleStage"]["enum"]
    assert parameters["limit"]["schema"]["maximum"] == 200
    assert "ContactOut" in document["components"]["schemas"]


def test_the_api_declares_bearer_authentication(client: TestClient[Litestar]) -> None:
    document = _schema(client)
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert {"apiKey": []} in document["security"]
