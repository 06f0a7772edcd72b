"""Hostile input answered 4xx naming what is wrong, never 500; headers and /metrics guarded."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Contact, Event
from nurture.web.app import create_app
from nurture.web.json_guard import MAX_JSON_BYTES, json_depth_exceeds
from nurture.web.utf8_guard import NOT_UTF8
from tests.api.conftest import Headers
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, csrf_token, login

DEEP = b"[" * 100_000


def _json_operations(client: TestClient[Litestar]) -> list[tuple[str, str]]:
    document = client.get("/schema/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return found


def test_deeply_nested_json_is_refused_on_every_json_endpoint_naming_the_body(
    client: TestClient[Litestar], headers_for: Callable[[str], Headers]
) -> None:
    auth = headers_for("admin")
    operations = _json_operations(client)
    assert ("POST", "/api/v1/events") in operations
    for method, path in [*operations, ("POST", "/api/v1/webhooks/ses")]:
        for content_type in ("application/json", "text/plain"):
            answer = client.request(
                method, path, content=DEEP, headers={**auth, "content-type": content_type}
            )
            assert answer.status_code == 400, (method, path, content_type, answer.text)
            assert answer.json()["error"]["problems"][0]["field"] == "body"


def test_the_unauthenticated_ses_webhook_refuses_deep_json_before_anything_else(
    settings: Settings,
) -> None:
    configured = replace(settings, ses_topic_arns=("arn:aws:sns:us-east-1:1:topic",))
    with TestClient(create_app(configured), base_url="http://127.0.0.1:8000") as client:
        answer = client.post("/api/v1/webhooks/ses", content=DEEP)
    assert answer.status_code == 400
    assert "nests deeper" in answer.json()["error"]["problems"][0]["message"]


def test_a_json_body_over_the_size_limit_is_refused_with_413(
    client: TestClient[Litestar], headers: Headers, db: Session
) -> None:
    body = b'{"type": "page.visited", "email": "a@example.com", "properties": {"x": "'
    body += b"y" * MAX_JSON_BYTES + b'"}}'
    answer = client.post(
        "/api/v1/events", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["problems"][0]["field"] == "body"
    assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert not json_depth_exceeds(b'{"a": "' + b"[" * 1000 + b'"}', 64)
    assert not json_depth_exceeds(b'["\\"[[[[", ' + b"[" * 60 + b"]" * 60 + b"]", 64)
    assert json_depth_exceeds(b"[" * 65 + b"]" * 65, 64)


def test_numbers_beyond_the_database_columns_name_the_parameter(
    client: TestClient[Litestar], headers: Headers, db: Session
) -> None:
    contact = make_contact(db, email="ada@example.com")
    template_id = make_template(db, name="Guide")
    db.commit()
    versions = f"/api/v1/templates/{template_id}/versions/{2**31}"
    answer = client.get(versions, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["problems"][0]["field"] == "number"
    answer = client.post(
        f"/api/v1/templates/{template_id}/render",
        json={"contact_id": contact.id, "version": 2**31},
        headers=headers,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["problems"][0]["field"] == "version"
    answer = client.post(
        "/api/v1/events", json={"type": "page.visited", "contact_id": 2**70}, headers=headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["problems"][0]["field"] == "contact_id"


def _nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    "extra",
    [{"a": {"b": 1}}, {"": 1}, {"anything": 2**70}, {"webinar": _nested(40)}],
    ids=["unknown-object", "empty-name", "huge-number", "too-deep"],
)
def test_render_with_an_extra_the_renderer_cannot_take_names_extra(
    client: TestClient[Litestar], headers: Headers, db: Session, extra: dict[str, Any]
) -> None:
    contact = make_contact(db, email="ada@example.com")
    template_id = make_template(db, name="Guide")
    db.commit()
    for action in ("render", "send"):
        answer = client.post(
            f"/api/v1/templates/{template_id}/{action}",
            json={"contact_id": contact.id, "extra": extra},
            headers=headers,
        )
        assert answer.status_code == 422, (action, answer.text)
        assert answer.json()["error"]["problems"][0]["field"] == "extra"


def test_render_with_known_extra_values_still_works(
    client: TestClient[Litestar], headers: Headers, db: Session
) -> None:
    contact = make_contact(db, email="ada@example.com")
    template_id = make_template(db, name="Guide")
    db.commit()
    answer = client.post(
        f"/api/v1/templates/{template_id}/render",
        json={"contact_id": contact.id, "extra": {"webinar": {"title": "Scaling"}}},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("path", ["/login", "/u/not-a-token", "/static/app/app.css", "/nowhere"])
def test_pages_carry_security_headers(client: TestClient[Litestar], path: str) -> None:
    answer = client.get(path, headers={"accept": "text/html"})
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_metrics_need_the_token_when_one_is_set(settings: Settings) -> None:
    guarded = replace(settings, metrics_token="scrape-" + "t" * 30)
    with TestClient(create_app(guarded), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/metrics").status_code == 401
        wrong = {"Authorization": "Bearer scrape-wrong"}
        assert client.get("/metrics", headers=wrong).status_code == 401
        right = {"Authorization": f"Bearer {guarded.metrics_token}"}
        answer = client.get("/metrics", headers=right)
    assert answer.status_code == 200
    assert "nurture_http_requests" in answer.text


def test_metrics_without_a_token_answer_loopback_clients_only(
    client: TestClient[Litestar],
) -> None:
    # The test client calls from the address "testclient", which is not loopback.
    assert client.get("/metrics").status_code == 401


@pytest.mark.parametrize("role", ["sales", "marketer"])
@pytest.mark.parametrize(
    "event_type", ["email.unsubscribed", "email.bounced", "segment.entered", "email.sent"]
)
def test_only_admin_keys_may_post_system_event_types(
    client: TestClient[Litestar],
    headers_for: Callable[[str], Headers],
    db: Session,
    role: str,
    event_type: str,
) -> None:
    make_contact(db, email="ada@example.com")
    db.commit()
    batch = {
        "events": [
            {"type": "page.visited", "email": "ada@example.com"},
            {"type": event_type, "email": "ada@example.com"},
        ]
    }
    answer = client.post("/api/v1/events", json=batch, headers=headers_for(role))
    assert answer.status_code == 403, answer.text
    problem = answer.json()["error"]["problems"][0]
    assert (problem["field"], problem["index"]) == ("type", 1)
    assert db.scalar(select(func.count()).select_from(Event)) == 0
    allowed = client.post("/api/v1/events", json=batch, headers=headers_for("admin"))
    assert allowed.status_code == 202, allowed.text


def test_invalid_utf8_in_a_ui_form_is_refused_naming_the_field_and_stores_nothing(
    client: TestClient[Litestar], db: Session
) -> None:
    user = make_user(db, role="marketer")
    contact = make_contact(db, email="ada@example.com", first_name="Ada")
    db.commit()
    login(client, user)
    body = f"_csrf_token={csrf_token(client)}&first_name=Ad%FF%FEa&email=ada%40example.com"
    answer = client.post(
        f"/contacts/{contact.id}/edit",
        content=body.encode(),
        headers={**HTML, "content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert answer.status_code == 422, answer.text
    assert "first_name" in answer.text
    assert "UTF-8" in answer.text
    db.expire_all()
    assert db.get(Contact, contact.id).first_name == "Ada"  # type: ignore[union-attr]


def test_invalid_utf8_in_a_query_is_refused_naming_the_parameter(
    client: TestClient[Litestar], headers: Headers
) -> None:
    answer = client.get("/api/v1/contacts?q=%C3%28", headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["problems"][0] == {"field": "q", "message": NOT_UTF8}
    assert client.get("/api/v1/contacts?q=%C3%A9", headers=headers).status_code == 200


def test_sequence_pages_beyond_the_database_range_name_page_number(
    client: TestClient[Litestar], db: Session
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    answer = client.get("/sequences?page_number=999999999999999999", headers=HTML)
    assert answer.status_code == 400, answer.text
    assert "page_number" in answer.text
