"""Membership changes made in the UI reach the workers at once, not at the tick's sweep."""

from __future__ import annotations

import json

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Contact, Enrolment, Segment
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.sequences.helpers import make_sequence
from tests.stub_worker import drain
from tests.ui.helpers import Client, login, post_form
from workers import broker

PARTNERS = {"version": 1, "rule": {"field": "title", "op": "contains", "value": "partner"}}


def test_a_contact_entering_through_a_ui_refresh_is_enrolled_without_the_tick(
    client: Client, db: Session
) -> None:
    # The app's tick runs hourly in tests, so only the hand-over can enrol in time.
    contact = make_contact(db, title="Clerk")
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    created = post_form(
        client,
        "/segments/new",
        {"name": "Partners", "kind": "dynamic", "rule": json.dumps(PARTNERS)},
    )
    assert created.status_code == 303
    segment_id = db.scalar(select(Segment.id).where(Segment.name == "Partners"))
    assert segment_id is not None
    sequence_id = make_sequence(
        db,
        [{"key": "welcome", "type": "email", "template_id": make_template(db)}],
        triggers=[{"event": "segment.entered", "segment_id": segment_id}],
    )
    # A change that is no event: only the refresh finds that the contact now belongs.
    db.get_one(Contact, contact.id).title = "Partner"
    db.commit()

    refreshed = post_form(client, f"/segments/{segment_id}/refresh", {})
    assert refreshed.status_code == 303
    embedded = broker.current()
    assert isinstance(embedded, StubBroker)
    drain(embedded)

    enrolled = db.scalars(
        select(Enrolment.contact_id)
        .where(Enrolment.sequence_id == sequence_id)
        .execution_options(populate_existing=True)
    ).all()
    assert enrolled == [contact.id]
