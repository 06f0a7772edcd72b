"""The contact form moves a contact's stage the way every other mover does: through the
lifecycle, with its history row, event and audit entry, and a reason to move back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry, Contact, Event, LifecycleChange
from nurture.qualification.lifecycle import LIFECYCLE_CHANGED
from nurture.web.ui.contact_form import SOURCE
from tests.factories import make_contact, make_user
from tests.ui.helpers import Client, login, post_form


def _changes(db: Session, contact_id: int) -> list[LifecycleChange]:
    query = select(LifecycleChange).where(LifecycleChange.contact_id == contact_id)
    return list(db.scalars(query.order_by(LifecycleChange.id)))


def _stage_events(db: Session, contact_id: int) -> list[Event]:
    query = select(Event).where(Event.contact_id == contact_id, Event.type == LIFECYCLE_CHANGED)
    return list(db.scalars(query))


def test_a_stage_picked_on_the_form_is_a_lifecycle_change_with_its_event(
    client: Client, db: Session
) -> None:
    contact = make_contact(db, lifecycle_stage="lead")
    editor = make_user(db, role="sales")
    db.commit()
    login(client, editor)

    answer = post_form(
        client,
        f"/contacts/{contact.id}/edit",
        {"email": contact.email or "", "first_name": "Ann", "lifecycle_stage": "sql"},
    )

    assert answer.status_code == 303, answer.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert (stored.first_name, stored.lifecycle_stage) == ("Ann", "sql")
    [change] = _changes(db, contact.id)
    assert (change.from_stage, change.to_stage, change.source) == ("lead", "sql", SOURCE)
    assert change.changed_by_id == editor.id
    [event] = _stage_events(db, contact.id)
    assert (event.properties["from"], event.properties["to"]) == ("lead", "sql")
    audited = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "contact.lifecycle_changed",
            AuditEntry.entity_id == str(contact.id),
        )
    ).all()
    assert [entry.actor for entry in audited] == [f"user:{editor.id}"]


def test_saving_the_form_without_touching_the_stage_records_no_change(
    client: Client, db: Session
) -> None:
    contact = make_contact(db, lifecycle_stage="mql")
    editor = make_user(db, role="marketer")
    db.commit()
    login(client, editor)

    answer = post_form(
        client,
        f"/contacts/{contact.id}/edit",
        {"email": contact.email or "", "title": "CTO", "lifecycle_stage": "mql"},
    )

    assert answer.status_code == 303, answer.text
    assert _changes(db, contact.id) == []
    assert _stage_events(db, contact.id) == []


def test_moving_back_down_the_funnel_asks_why_and_keeps_the_reason(
    client: Client, db: Session
) -> None:
    contact = make_contact(db, lifecycle_stage="customer")
    editor = make_user(db, role="marketer")
    db.commit()
    login(client, editor)
    form = {"email": contact.email or "", "first_name": "Ann", "lifecycle_stage": "lead"}

    refused = post_form(client, f"/contacts/{contact.id}/edit", form)

    assert refused.status_code == 422
    assert "Say why the contact moves back down the funnel" in refused.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert stored.lifecycle_stage == "customer"
    assert stored.first_name != "Ann"  # nothing of a refused edit is kept

    reason = "Contract ended; they may come back next year"
    answer = post_form(client, f"/contacts/{contact.id}/edit", {**form, "stage_reason": reason})

    assert answer.status_code == 303, answer.text
    [change] = _changes(db, contact.id)
    assert (change.from_stage, change.to_stage, change.reason) == ("customer", "lead", reason)
