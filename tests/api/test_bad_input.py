"""Bad input gets a 4xx naming the field (and item index), never a 500, and stores nothing bad."""

from __future__ import annotations

import base64
import json
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Contact, Event
from tests.api.conftest import Headers
from tests.factories import make_contact

EVENTS = "/api/v1/events"
CONTACTS = "/api/v1/contacts"
GOOD_EVENT = {"type": "page.visited", "email": "ada@example.com"}


def _problems(answer: Any) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = answer.json()["error"]["problems"]
    return problems


def _assert_refused(
    answer: Any, status: int, field: str, index: int | None = None, case: object = None
) -> None:
    assert answer.status_code == status, (case, answer.text)
    first = _problems(answer)[0]
    assert first["field"] == field, (case, answer.text)
    assert first["message"], case
    if index is None:
        assert "index" not in first, case
    else:
        assert first["index"] == index, case


def _count(db: Session, model: type[Event] | type[Contact]) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(model)) or 0


def _cursor(position: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def test_malformed_or_misshapen_event_bodies_are_refused_as_a_whole(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    cases: list[tuple[bytes, int, str]] = [
        (b'{"type": "page.visited"', 400, "body"),
        (b"", 400, "body"),
        (b"   ", 400, "body"),
        (b"\xff\xfe not json", 400, "body"),
        (b"[]", 422, "body"),
        (b'[{"type": "page.visited", "email": "ada@example.com"}]', 422, "body"),
        (b'"page.visited"', 422, "body"),
        (b"42", 422, "body"),
        (b"null", 422, "body"),
        (b'{"events": {"type": "page.visited"}}', 422, "events"),
        (b'{"events": null}', 422, "events"),
        (b'{"events": [], "source": "crm"}', 422, "source"),
    ]
    for body, status, field in cases:
        answer = client.post(EVENTS, content=body, headers=headers)
        _assert_refused(answer, status, field, case=body)
    assert _count(db, Event) == 0


def test_a_batch_over_a_thousand_is_refused_naming_events_and_stores_nothing(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    answer = client.post(EVENTS, json={"events": [GOOD_EVENT] * 1001}, headers=headers)
    _assert_refused(answer, 422, "events")
    assert "1000" in _problems(answer)[0]["message"]
    assert _count(db, Event) == 0
    assert _count(db, Contact) == 0


def test_each_bad_event_field_is_named_with_its_index(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db)
    db.commit()
    cid = contact.id
    bad: list[tuple[dict[str, Any], str]] = [
        ({"contact_id": cid}, "type"),
        ({"type": 7, "contact_id": cid}, "type"),
        ({"type": "Page Visited", "contact_id": cid}, "type"),
        ({"type": "x" * 101, "contact_id": cid}, "type"),
        ({"type": "a.b", "contact_id": cid, "colour": "red"}, "colour"),
        ({"type": "a.b"}, "email"),
        ({"type": "a.b", "email": "not-an-address"}, "email"),
        ({"type": "a.b", "email": 12}, "email"),
        ({"type": "a.b", "email": "ada@example.com", "contact_id": cid}, "contact_id"),
        ({"type": "a.b", "contact_id": "12"}, "contact_id"),
        ({"type": "a.b", "contact_id": True}, "contact_id"),
        ({"type": "a.b", "contact_id": -1}, "contact_id"),
        ({"type": "a.b", "contact_id": 2**64}, "contact_id"),
        ({"type": "a.b", "contact_id": cid + 1000}, "contact_id"),
        ({"type": "a.b", "contact_id": cid, "occurred_at": 1700000000}, "occurred_at"),
        ({"type": "a.b", "contact_id": cid, "occurred_at": "yesterday"}, "occurred_at"),
        ({"type": "a.b", "contact_id": cid, "occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
        ({"type": "a.b", "contact_id": cid, "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        (
            {"type": "a.b", "contact_id": cid, "occurred_at": "0001-01-01T00:00+01:00"},
            "occurred_at",
        ),
        ({"type": "a.b", "contact_id": cid, "properties": ["a"]}, "properties"),
        ({"type": "a.b", "contact_id": cid, "properties": "a=1"}, "properties"),
        ({"type": "a.b", "contact_id": cid, "properties": {"a": "nul\u0000"}}, "properties"),
        ({"type": "a.b", "contact_id": cid, "idempotency_key": ""}, "idempotency_key"),
        ({"type": "a.b", "contact_id": cid, "idempotency_key": 5}, "idempotency_key"),
        ({"type": "a.b", "contact_id": cid, "idempotency_key": "k" * 201}, "idempotency_key"),
        ({"type": "a.b", "contact_id": cid, "idempotency_key": "a\u0000b"}, "idempotency_key"),
    ]
    # Alone, a bad event is a 422 naming its field at index 0.
    for item, field in bad:
        answer = client.post(EVENTS, json=item, headers=headers)
        _assert_refused(answer, 422, field, index=0, case=item)
    # In one batch with nothing valid, every item is named by its index.
    answer = client.post(EVENTS, json={"events": [i for i, _ in bad]}, headers=headers)
    assert answer.status_code == 422
    assert [(p["index"], p["field"]) for p in _problems(answer)] == [
        (n, field) for n, (_, field) in enumerate(bad)
    ]
    # Mixed with a valid one, the valid one is stored and each bad one reported.
    answer = client.post(
        EVENTS, json={"events": [*(i for i, _ in bad), GOOD_EVENT]}, headers=headers
    )
    assert answer.status_code == 202
    assert answer.json()["counts"] == {"stored": 1, "duplicate": 0, "rejected": len(bad)}
    assert _count(db, Event) == 1


def test_bad_contact_bodies_name_every_field_at_fault(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    cases: list[tuple[bytes, int, str]] = [
        (b'{"email": ', 400, "body"),
        (b"", 400, "body"),
        (b'["ada@example.com"]', 422, "body"),
        (b'"ada@example.com"', 422, "body"),
        (b"{}", 422, "email"),
        (b'{"email": "not-an-address"}', 422, "email"),
        (b'{"email": 42}', 422, "email"),
        (b'{"email": "a@example.com", "shoe_size": 44}', 422, "shoe_size"),
        (b'{"email": "a@example.com", "first_name": 5}', 422, "first_name"),
        (b'{"email": "a@example.com", "title": "' + b"x" * 201 + b'"}', 422, "title"),
        (b'{"email": "a@example.com", "last_name": "nul\\u0000"}', 422, "last_name"),
        (b'{"email": "a@example.com", "time_zone": "Mars/Olympus"}', 422, "time_zone"),
        (b'{"email": "a@example.com", "locale": "english"}', 422, "locale"),
        (b'{"email": "a@example.com", "lifecycle_stage": "hot"}', 422, "lifecycle_stage"),
        (b'{"email": "a@example.com", "owner_id": "7"}', 422, "owner_id"),
        (b'{"email": "a@example.com", "owner_id": 99999999999999999999}', 422, "owner_id"),
        (b'{"email": "a@example.com", "company_id": 424242}', 422, "company_id"),
        (b'{"email": "a@example.com", "company": "ACME"}', 422, "company"),
        (b'{"email": "a@example.com", "company": {"domain": "a.example"}}', 422, "company.name"),
        (
            b'{"email": "a@example.com", "company": {"name": "A", "country": "DEU"}}',
            422,
            "company.country",
        ),
        (b'{"email": "a@example.com", "company": {"name": "A", "web": "x"}}', 422, "company.web"),
        (b'{"email": "a@example.com", "attributes": [1]}', 422, "attributes"),
        (b'{"email": "a@example.com", "attributes": {"a b": 1}}', 422, "attributes.a b"),
        (b'{"email": "a@example.com", "attributes": {"k": {"nested": 1}}}', 422, "attributes.k"),
    ]
    for body, status, field in cases:
        answer = client.post(CONTACTS, content=body, headers=headers)
        _assert_refused(answer, status, field, case=body)
    contact = make_contact(db)
    db.commit()
    for body, status, field in cases[2:]:
        if field == "email" and body == b"{}":
            continue  # a change may leave the e-mail out
        answer = client.patch(f"{CONTACTS}/{contact.id}", content=body, headers=headers)
        _assert_refused(answer, status, field, case=body)
    assert _count(db, Contact) == 1


def test_several_bad_contact_values_are_reported_together(
    client: TestClient[Litestar], headers: Headers
) -> None:
    answer = client.post(
        CONTACTS,
        json={"email": "nope", "locale": "english", "time_zone": "Mars/Olympus"},
        headers=headers,
    )
    assert answer.status_code == 422
    assert {p["field"] for p in _problems(answer)} == {"email", "locale", "time_zone"}


def test_a_body_of_the_wrong_shape_is_refused_before_its_values_are_read(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    # The struct refuses the first field that does not fit, so a bad value
    # elsewhere is not reported with it, and nothing is stored.
    answer = client.post(
        CONTACTS, json={"email": "nope", "lifecycle_stage": "hot"}, headers=headers
    )
    assert answer.status_code == 422
    assert [p["field"] for p in _problems(answer)] == ["lifecycle_stage"]
    nested = client.post(
        CONTACTS,
        json={"email": "a@example.com", "company": {"name": "A", "tags": [{"x": 1}]}},
        headers=headers,
    )
    assert [(p["field"], p["message"]) for p in _problems(nested)] == [
        ("company.tags", "is not a known field")
    ]
    assert _count(db, Contact) == 0


def test_bad_query_and_path_values_are_refused_naming_the_parameter(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db)
    db.commit()
    timeline = f"{CONTACTS}/{contact.id}/timeline"
    cases: list[tuple[str, dict[str, str], int, str]] = [
        (CONTACTS, {"limit": "0"}, 400, "limit"),
        (CONTACTS, {"limit": "201"}, 400, "limit"),
        (CONTACTS, {"limit": "ten"}, 400, "limit"),
        (CONTACTS, {"cursor": "not-a-cursor!"}, 422, "cursor"),
        (CONTACTS, {"cursor": _cursor({"id": "5"})}, 422, "cursor"),
        (CONTACTS, {"cursor": _cursor({"id": 2**70})}, 422, "cursor"),
        (CONTACTS, {"cursor": _cursor({"t": ["2026-01-01T00:00:00+00:00", 1]})}, 422, "cursor"),
        (CONTACTS, {"lifecycle_stage": "hot"}, 400, "lifecycle_stage"),
        (CONTACTS, {"company_id": "acme"}, 400, "company_id"),
        (CONTACTS, {"company_id": "0"}, 400, "company_id"),
        (CONTACTS, {"owner_id": "99999999999999999999"}, 400, "owner_id"),
        (CONTACTS, {"country": "Germany"}, 400, "country"),
        (CONTACTS, {"created_after": "last week"}, 400, "created_after"),
        (CONTACTS, {"created_after": "2026-01-01T00:00:00"}, 422, "created_after"),
        (CONTACTS, {"created_after": "0001-01-01T00:00:00+01:00"}, 422, "created_after"),
        (CONTACTS, {"q": "a\x00b"}, 422, "q"),
        (CONTACTS, {"industry": "legal\x00"}, 422, "industry"),
        (timeline, {"limit": "500"}, 400, "limit"),
        (timeline, {"cursor": _cursor({"id": 5})}, 422, "cursor"),
        (timeline, {"cursor": _cursor({"t": ["2026-01-01T00:00:00", 1]})}, 422, "cursor"),
        (timeline, {"cursor": _cursor({"t": ["2026-01-01T00:00:00+00:00", -1]})}, 422, "cursor"),
        (timeline, {"cursor": _cursor({"t": [5, 1]})}, 422, "cursor"),
        (f"{CONTACTS}/0", {}, 400, "contact_id"),
        (f"{CONTACTS}/99999999999999999999", {}, 400, "contact_id"),
    ]
    for path, params, status, field in cases:
        answer = client.get(path, params=params, headers=headers)
        _assert_refused(answer, status, field, case=(path, params))
