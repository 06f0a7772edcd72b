"""Every JSON body the API decodes is documented by the very struct it is decoded into, and
every multipart body (image upload) is documented as a multipart form."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient

from nurture.web.api.bodies import json_body_operation


def _decoded_bodies(app: Litestar) -> list[tuple[str, str, type[msgspec.Struct]]]:
    return [(path, method, struct) for path, method, struct in _bodies(app) if struct]


def _multipart_bodies(app: Litestar) -> list[tuple[str, str]]:
    return [(path, method) for path, method, struct in _bodies(app) if struct is None]


def _bodies(app: Litestar) -> list[tuple[str, str, type[msgspec.Struct] | None]]:
    """(path, method, struct) of every API body; struct None for a multipart form."""
    found: list[tuple[str, str, type[msgspec.Struct] | None]] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not route.path.startswith("/api/"):
                continue
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            media_type = getattr(data.kwarg_definition, "media_type", None)
            if media_type == RequestEncodingType.MULTI_PART:
                found.extend((route.path, method.lower(), None) for method in handler.http_methods)
                continue
            assert isinstance(data.annotation, type), (route.path, data.annotation)
            assert issubclass(data.annotation, msgspec.Struct), (route.path, data.annotation)
            for method in handler.http_methods:
                found.append((route.path, method.lower(), data.annotation))
    return found


def _inline(struct: type[msgspec.Struct]) -> dict[str, Any]:
    operation = json_body_operation(struct, description="")
    body: dict[str, Any] = operation().to_schema()["requestBody"]
    return body["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def test_each_decoded_body_is_documented_by_its_own_struct(client: TestClient[Litestar]) -> None:
    document = client.get("/schema/openapi.json").json()
    decoded = _decoded_bodies(client.app)
    # contacts, segments, sequences, templates, tasks and the four library kinds
    assert len(decoded) >= 25
    for path, method, struct in decoded:
        documented_path = path.replace(":int", "")
        operation = document["paths"][documented_path][method]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema == _inline(struct), (path, method)


def test_each_multipart_body_is_documented_as_a_form_with_its_file(
    client: TestClient[Litestar],
) -> None:
    document = client.get("/schema/openapi.json").json()
    multipart = _multipart_bodies(client.app)
    assert ("/api/v1/images", "post") in multipart
    for path, method in multipart:
        content = document["paths"][path.replace(":int", "")][method]["requestBody"]["content"]
        assert list(content) == ["multipart/form-data"], (path, method)
        assert "file" in content["multipart/form-data"]["schema"]["properties"], (path, method)


def test_a_misshapen_body_names_the_field_by_its_path_and_a_missing_one_names_body(
    client: TestClient[Litestar], headers: dict[str, str]
) -> None:
    def problems(answer: Any) -> list[tuple[str, str]]:
        return [(p["field"], p["message"]) for p in answer.json()["error"]["problems"]]

    list_ids = client.post(
        "/api/v1/segments", json={"name": "L", "kind": "static"}, headers=headers
    ).json()["id"]
    members = f"/api/v1/segments/{list_ids}/members"
    wrong = client.post(members, json={"contact_ids": [1, "two"]}, headers=headers)
    assert wrong.status_code == 422
    assert problems(wrong) == [("contact_ids[1]", "Expected `int`, got `str`")]
    required = client.post(members, json={}, headers=headers)
    assert problems(required) == [("contact_ids", "is required")]
    empty = client.post(members, content=b"", headers=headers)
    assert empty.status_code == 400
    assert [field for field, _ in problems(empty)] == ["body"]
    broken = client.post(members, content=b'{"contact_ids": [', headers=headers)
    assert broken.status_code == 400
    assert [field for field, _ in problems(broken)] == ["body"]
    not_object = client.post(members, json=[1, 2], headers=headers)
    assert not_object.status_code == 422
    assert [field for field, _ in problems(not_object)] == ["body"]
