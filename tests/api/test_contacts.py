"""Contacts over the API: upsert by e-mail, filters and pages, changes, GDPR erasure, timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nurture.contacts import is_suppressed
from nurture.events import ingest_raw
from nurture.models import AuditEntry, Contact, Event
from tests.api.conftest import Headers
from tests.factories import make_contact, make_user

CONTACT_KEYS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "time_zone",
    "locale",
    "lifecycle_stage",
    "owner_id",
    "company",
    "attributes",
    "last_activity_at",
    "created_at",
    "updated_at",
}


def test_posting_a_new_email_creates_the_contact_with_its_company(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    answer = client.post(
        "/api/v1/contacts",
        json={
            "email": " Ada@Example.COM ",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "time_zone": "Europe/London",
            "locale": "en-GB",
            "lifecycle_stage": "mql",
            "company": {"name": "Analytical", "domain": "analytical.example", "country": "gb"},
            "attributes": {"practice": "ip"},
        },
        headers=headers,
    )
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == CONTACT_KEYS
    assert body["email"] == "ada@example.com"
    assert body["lifecycle_stage"] == "mql"
    assert body["attributes"] == {"practice": "ip"}
    assert body["company"]["name"] == "Analytical"
    assert body["company"]["country"] == "GB"
    assert set(body["company"]) == {"id", "name", "domain", "industry", "size_band", "country"}
    stored = db.get(Contact, body["id"])
    assert stored is not None
    assert stored.last_name == "Lovelace"
    actions = db.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity_type == "contact", AuditEntry.entity_id == str(body["id"])
        )
    )
    assert list(actions) == ["contact.created"]


def test_posting_a_known_email_updates_that_contact(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db, email="grace@example.com", title="Engineer")
    db.commit()
    answer = client.post(
        "/api/v1/contacts",
        json={"email": "GRACE@example.com", "title": "Rear Admiral"},
        headers=headers,
    )
    assert answer.status_code == 200
    assert answer.json()["id"] == contact.id
    assert answer.json()["title"] == "Rear Admiral"
    assert db.scalar(select(func.count()).select_from(Contact)) == 1


def test_audit_names_the_api_key_that_made_the_change(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    answer = client.post("/api/v1/contacts", json={"email": "a@example.com"}, headers=headers)
    actor = db.scalar(
        select(AuditEntry.actor).where(
            AuditEntry.entity_type == "contact", AuditEntry.entity_id == str(answer.json()["id"])
        )
    )
    assert actor is not None
    assert actor.startswith("apikey:")


def test_get_patch_and_read_back(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    owner = make_user(db, role="sales")
    contact = make_contact(db, attributes={"keep": 1, "drop": 2})
    db.commit()
    url = f"/api/v1/contacts/{contact.id}"
    changed = client.patch(
        url,
        json={
            "owner_id": owner.id,
            "phone": "+49 30 1234",
            "attributes": {"drop": None, "new": "x"},
        },
        headers=headers,
    )
    assert changed.status_code == 200
    read = client.get(url, headers=headers).json()
    assert read == changed.json()
    assert read["owner_id"] == owner.id
    assert read["phone"] == "+49 30 1234"
    assert read["attributes"] == {"keep": 1, "new": "x"}
    assert read["first_name"] == contact.first_name


def test_patch_can_clear_a_field_with_null(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db, title="Partner")
    db.commit()
    answer = client.patch(f"/api/v1/contacts/{contact.id}", json={"title": None}, headers=headers)
    assert answer.json()["title"] is None


def test_patch_to_an_email_another_contact_has_is_refused(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    first = make_contact(db)
    second = make_contact(db)
    db.commit()
    answer = client.patch(
        f"/api/v1/contacts/{second.id}", json={"email": first.email}, headers=headers
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == "email"


def test_unknown_contact_answers_404_everywhere(
    client: TestClient[Litestar], headers: Headers
) -> None:
    for method, path, body in [
        ("GET", "/api/v1/contacts/999", None),
        ("PATCH", "/api/v1/contacts/999", {"title": "x"}),
        ("DELETE", "/api/v1/contacts/999", None),
        ("GET", "/api/v1/contacts/999/timeline", None),
    ]:
        answer = client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"]["message"] == "no contact with id 999"


def test_listing_pages_through_every_contact_once_newest_first(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    ids = [make_contact(db).id for _ in range(7)]
    db.commit()
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/contacts", params=params, headers=headers).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    assert pages == 3


def test_listing_filters_by_each_parameter(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    owner = make_user(db, role="sales")
    law = make_contact(
        db,
        first_name="Ada",
        last_name="Byron",
        lifecycle_stage="sql",
        owner_id=owner.id,
        company={"name": "Law firm", "domain": "law.example", "industry": "legal", "country": "DE"},
    )
    bank = make_contact(
        db,
        lifecycle_stage="customer",
        company={"name": "Bank", "domain": "bank.example", "industry": "finance", "country": "FR"},
    )
    plain = make_contact(db)
    db.execute(
        update(Contact)
        .where(Contact.id == plain.id)
        .values(created_at=datetime.now(UTC) - timedelta(days=30))
    )
    db.commit()
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    cases: list[tuple[dict[str, Any], set[int]]] = [
        ({"q": "ada byr"}, {law.id}),
        ({"q": law.email}, {law.id}),
        ({"lifecycle_stage": "customer"}, {bank.id}),
        ({"industry": "Legal"}, {law.id}),
        ({"company_id": bank.company_id}, {bank.id}),
        ({"owner_id": owner.id}, {law.id}),
        ({"country": "fr"}, {bank.id}),
        ({"created_after": week_ago}, {law.id, bank.id}),
        ({"industry": "legal", "lifecycle_stage": "customer"}, set()),
        ({}, {law.id, bank.id, plain.id}),
    ]
    for params, expected in cases:
        answer = client.get("/api/v1/contacts", params=params, headers=headers)
        assert answer.status_code == 200, params
        assert {c["id"] for c in answer.json()["items"]} == expected, params


def test_erasing_removes_personal_data_but_keeps_counts_and_suppression(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(
        db, email="erase.me@example.com", last_name="Doe", phone="123", attributes={"a": 1}
    )
    ingest_raw(
        db,
        [{"type": "page.visited", "contact_id": contact.id, "properties": {"ip": "10.1.2.3"}}] * 3,
        source="test",
    )
    db.commit()
    url = f"/api/v1/contacts/{contact.id}"

    answer = client.delete(url, headers=headers)

    assert answer.status_code == 204
    assert answer.content == b""
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(f"{url}/timeline", headers=headers).status_code == 404
    listed = client.get("/api/v1/contacts", headers=headers).json()["items"]
    assert contact.id not in [c["id"] for c in listed]
    db.expire_all()
    row = db.get(Contact, contact.id)
    assert row is not None
    assert row.erased_at is not None
    assert (row.email, row.first_name, row.last_name, row.phone) == (None, None, None, None)
    assert row.attributes == {}
    events = list(db.scalars(select(Event).where(Event.contact_id == contact.id)))
    assert len(events) == 3
    assert all(e.properties == {} for e in events)
    assert is_suppressed(db, "Erase.Me@example.com")
    assert client.delete(url, headers=headers).status_code == 404


def test_timeline_pages_through_events_most_recent_first(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        {
            "type": "email.opened",
            "contact_id": contact.id,
            "occurred_at": (start + timedelta(hours=n // 2)).isoformat(),
            "properties": {"n": n},
        }
        for n in range(5)
    ]
    ingest_raw(db, items, source="test")
    db.commit()
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            f"/api/v1/contacts/{contact.id}/timeline", params=params, headers=headers
        ).json()
        seen += [e["properties"]["n"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == list(range(5))
    assert seen[0] == 4
    assert seen[-1] in (0, 1)
    first = client.get(f"/api/v1/contacts/{contact.id}/timeline", headers=headers).json()
    assert set(first["items"][0]) == {
        "id",
        "type",
        "occurred_at",
        "received_at",
        "properties",
        "source",
        "idempotency_key",
        "processed_at",
    }
