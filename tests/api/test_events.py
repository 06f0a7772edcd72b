"""Posting events: one or a batch, idempotent by key, processed later by the worker."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Contact, Event
from tests.api.conftest import Headers
from tests.factories import make_contact
from workers import broker

URL = "/api/v1/events"


def _wait_for_processing() -> None:
    # The embedded worker acknowledges a message only after its actor finished
    # (and committed), so an empty queue means the work is done.
    broker.current().join("events", timeout=20_000)


def _count_events(db: Session) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(Event)) or 0


def test_one_event_object_is_stored_and_later_processed(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db)
    db.commit()
    answer = client.post(
        URL,
        json={
            "type": "webinar.attended",
            "contact_id": contact.id,
            "occurred_at": "2026-03-01T10:00:00+01:00",
            "properties": {"webinar": "Contract law 101"},
        },
        headers=headers,
    )
    assert answer.status_code == 202
    body = answer.json()
    assert body["counts"] == {"stored": 1, "duplicate": 0, "rejected": 0}
    [item] = body["items"]
    assert item["status"] == "stored"
    assert item["contact_id"] == contact.id

    _wait_for_processing()

    db.expire_all()
    event = db.get(Event, item["event_id"])
    assert event is not None
    assert event.processed_at is not None
    assert event.source == "api"
    assert event.properties == {"webinar": "Contract law 101"}
    refreshed = db.get(Contact, contact.id)
    assert refreshed is not None
    assert refreshed.last_activity_at is not None
    assert refreshed.last_activity_at.isoformat() == "2026-03-01T09:00:00+00:00"


def test_a_batch_stores_valid_items_and_names_each_rejected_one(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db)
    db.commit()
    batch: list[Any] = [
        {"type": "page.visited", "contact_id": contact.id},
        {"type": "page.visited", "email": "not-an-address"},
        {"type": "form.submitted", "email": "New.Lead@Example.com"},
        {"type": 7, "contact_id": contact.id},
        "a string",
        {"type": "page.visited", "contact_id": contact.id, "colour": "red"},
        {"type": "page.visited", "contact_id": 999_999},
    ]
    answer = client.post(URL, json={"events": batch}, headers=headers)

    assert answer.status_code == 202
    body = answer.json()
    assert body["counts"] == {"stored": 2, "duplicate": 0, "rejected": 5}
    assert [i["index"] for i in body["items"]] == list(range(7))
    statuses = [i["status"] for i in body["items"]]
    assert statuses == [
        "stored",
        "rejected",
        "stored",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    problems = {i["index"]: i["problem"] for i in body["items"] if i["status"] == "rejected"}
    assert {index: p["field"] for index, p in problems.items()} == {
        1: "email",
        3: "type",
        4: "",
        5: "colour",
        6: "contact_id",
    }
    assert all(p["index"] == index and p["message"] for index, p in problems.items())
    assert len(body["created_contact_ids"]) == 1
    assert _count_events(db) == 2
    created = db.get(Contact, body["created_contact_ids"][0])
    assert created is not None
    assert created.email == "new.lead@example.com"


def test_a_repeated_idempotency_key_stores_nothing_new(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    event = {"type": "form.submitted", "email": "ada@example.com", "idempotency_key": "form-1"}
    first = client.post(URL, json={"events": [event, event]}, headers=headers).json()
    again = client.post(URL, json=event, headers=headers)

    assert [i["status"] for i in first["items"]] == ["stored", "duplicate"]
    assert again.status_code == 202
    assert again.json()["counts"] == {"stored": 0, "duplicate": 1, "rejected": 0}
    assert "event_id" not in again.json()["items"][0]
    assert _count_events(db) == 1


def test_a_full_batch_of_a_thousand_is_stored_and_every_event_processed(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    batch = [
        {
            "type": "page.visited",
            "email": f"reader{n % 50}@firm.example",
            "properties": {"url": f"/insights/{n}"},
            "idempotency_key": f"visit-{n}",
        }
        for n in range(1000)
    ]
    answer = client.post(URL, json={"events": batch}, headers=headers)

    assert answer.status_code == 202
    assert answer.json()["counts"]["stored"] == 1000
    assert len(answer.json()["created_contact_ids"]) == 50
    _wait_for_processing()
    db.commit()
    unprocessed = select(func.count()).select_from(Event).where(Event.processed_at.is_(None))
    assert db.scalar(unprocessed) == 0
    assert _count_events(db) == 1000


def test_an_empty_batch_is_answered_with_zero_counts(
    client: TestClient[Litestar], headers: Headers
) -> None:
    answer = client.post(URL, json={"events": []}, headers=headers)
    assert answer.status_code == 202
    assert answer.json() == {
        "counts": {"stored": 0, "duplicate": 0, "rejected": 0},
        "items": [],
        "created_contact_ids": [],
    }
