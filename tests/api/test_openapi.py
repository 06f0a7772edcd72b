"""The API is described in /schema: every route, its bodies, parameters, answers and keys."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.routes import api_routes
from tests.api.test_access_matrix import ACCESS, ANYONE

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Every guarded route documents its 400/401/403 answers, and no keyless route
# inherits the document's bearer requirement (the sets were once non-empty).
UNDOCUMENTED_ERRORS: set[tuple[str, str]] = set()
KEYLESS_DOCUMENTED_AS_KEYED: set[tuple[str, str]] = set()


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """The document is drawn from the route handlers and their classes: the database plays no
    part (the answers themselves are tested on both databases by each route's own tests)."""
    return sqlite_db_url


def _plain(path: str) -> str:
    """A route path as OpenAPI spells it: `{contact_id:int}` becomes `{contact_id}`."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _schema(client: TestClient[Litestar]) -> dict[str, Any]:
    answer = client.get("/schema/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def test_every_api_route_is_in_the_document_with_its_methods(client: TestClient[Litestar]) -> None:
    paths = _schema(client)["paths"]
    answered = {(method.lower(), _plain(path)) for method, path in api_routes(client.app)}
    documented = {
        (method, path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
        if method in HTTP_METHODS
    }
    assert sorted(answered - documented) == [], "answered but not documented"
    assert sorted(documented - answered) == [], "documented but not answered"
    unnamed = sorted((m, p) for m, p in answered if not paths[p][m].get("summary"))
    assert unnamed == [], "documented without a summary"


def test_every_guarded_api_route_documents_its_error_answers(
    client: TestClient[Litestar],
) -> None:
    paths = _schema(client)["paths"]
    missing = set()
    for method, path in api_routes(client.app):
        if ACCESS[method, path] == ANYONE:
            continue
        responses = paths[_plain(path)][method.lower()]["responses"]
        for status in ("400", "401", "403"):
            schema = responses.get(status, {}).get("content", {}).get("application/json", {})
            if schema.get("schema") != {"$ref": "#/components/schemas/ErrorOut"}:
                missing.add((method, path))
    assert missing == UNDOCUMENTED_ERRORS


def test_only_the_relay_webhooks_are_documented_as_needing_no_key(
    client: TestClient[Litestar],
) -> None:
    paths = _schema(client)["paths"]
    keyless = {
        (method, path)
        for method, path in api_routes(client.app)
        if paths[_plain(path)][method.lower()].get("security") in ([], [{}])
    }
    public = {route for route in api_routes(client.app) if ACCESS[route] == ANYONE}
    assert {path for _, path in public} == {"/api/v1/webhooks/ses", "/api/v1/webhooks/sendgrid"}
    assert public - keyless == KEYLESS_DOCUMENTED_AS_KEYED
    assert keyless - public == set()


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


def test_every_component_has_the_name_of_its_class(client: TestClient[Litestar]) -> None:
    """Two body classes with one name in different modules make Litestar prefix both
    components with their module path, and /schema (and clients generated from it) lose
    the short name; each class name must be unique across the API."""
    names = set(_schema(client)["components"]["schemas"])
    prefixed = sorted(name for name in names if name.startswith("nurture_"))
    assert prefixed == []
