"""PATCH moves a contact's stage through the lifecycle, like the form and every other
mover: a history row, the `lifecycle.changed` event, and a reason to move back down."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Contact, Event, LifecycleChange
from nurture.qualification.lifecycle import LIFECYCLE_CHANGED
from nurture.web.api.contacts import STAGE_SOURCE
from tests.api.conftest import Headers
from tests.factories import make_contact


def _changes(db: Session, contact_id: int) -> list[LifecycleChange]:
    query = select(LifecycleChange).where(LifecycleChange.contact_id == contact_id)
    return list(db.scalars(query.order_by(LifecycleChange.id)))


def test_a_stage_patched_through_the_api_is_a_lifecycle_change_with_its_event(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db, lifecycle_stage="lead")
    db.commit()

    answer = client.patch(
        f"/api/v1/contacts/{contact.id}",
        json={"lifecycle_stage": "sql", "title": "CFO"},
        headers=headers,
    )

    assert answer.status_code == 200, answer.text
    assert (answer.json()["lifecycle_stage"], answer.json()["title"]) == ("sql", "CFO")
    db.expire_all()
    [change] = _changes(db, contact.id)
    assert (change.from_stage, change.to_stage, change.source) == ("lead", "sql", STAGE_SOURCE)
    events = db.scalars(
        select(Event).where(Event.contact_id == contact.id, Event.type == LIFECYCLE_CHANGED)
    ).all()
    assert [(e.properties["from"], e.properties["to"]) for e in events] == [("lead", "sql")]


def test_moving_back_down_needs_a_reason_named_as_the_body_names_it(
    client: TestClient[Litestar], db: Session, headers: Headers
) -> None:
    contact = make_contact(db, lifecycle_stage="customer")
    db.commit()
    url = f"/api/v1/contacts/{contact.id}"

    refused = client.patch(url, json={"lifecycle_stage": "lead", "title": "CFO"}, headers=headers)

    assert refused.status_code == 422, refused.text
    assert "lifecycle_reason" in refused.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    # Nothing of the refused edit is kept, not even the field that was fine.
    assert (stored.lifecycle_stage, stored.title) == ("customer", contact.title)
    assert _changes(db, contact.id) == []

    moved = client.patch(
        url,
        json={"lifecycle_stage": "lead", "lifecycle_reason": "Contract ended; new buyer"},
        headers=headers,
    )

    assert moved.status_code == 200, moved.text
    db.expire_all()
    [change] = _changes(db, contact.id)
    assert (change.to_stage, change.reason) == ("lead", "Contract ended; new buyer")
