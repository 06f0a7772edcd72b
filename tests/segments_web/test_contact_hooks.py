"""Segments follow contacts: erasure removes memberships; API and UI edits re-check at once."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.contacts import erase_contact
from nurture.models import SegmentMember
from segments import lists, store
from segments.membership import refresh_segment
from tests.api.conftest import Headers
from tests.factories import make_contact, make_user
from tests.ui.helpers import login, post_form

Client = TestClient[Litestar]
PARTNERS = {"version": 1, "rule": {"field": "title", "op": "contains", "value": "partner"}}


def _members(db: Session, segment_id: int) -> set[int]:
    db.expire_all()
    stmt = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
    return set(db.scalars(stmt))


def test_erasing_a_contact_removes_it_from_every_segment(db: Session) -> None:
    contact = make_contact(db, title="Partner")
    other = make_contact(db, title="Partner")
    dynamic = store.create_segment(db, name="Partners", rule=PARTNERS)
    static = store.create_segment(db, name="Picked", kind="static")
    refresh_segment(db, dynamic.id)
    lists.add_members(db, static.id, [contact.id, other.id])
    erase_contact(db, contact.id, actor="test")
    db.commit()
    assert _members(db, dynamic.id) == {other.id}
    assert _members(db, static.id) == {other.id}


def test_a_contact_changed_through_the_api_joins_and_leaves_at_once(
    client: Client, db: Session, headers: Headers
) -> None:
    segment = store.create_segment(db, name="Partners", rule=PARTNERS)
    db.commit()
    created = client.post(
        "/api/v1/contacts", json={"email": "p@firm.example", "title": "Partner"}, headers=headers
    )
    contact_id = created.json()["id"]
    assert _members(db, segment.id) == {contact_id}
    client.patch(f"/api/v1/contacts/{contact_id}", json={"title": "Clerk"}, headers=headers)
    assert _members(db, segment.id) == set()


def test_a_contact_edited_in_the_ui_joins_at_once(client: Client, db: Session) -> None:
    user = make_user(db, role="marketer")
    contact = make_contact(db, email="c@firm.example", title="Clerk")
    segment = store.create_segment(db, name="Partners", rule=PARTNERS)
    db.commit()
    login(client, user)
    answer = post_form(
        client,
        f"/contacts/{contact.id}/edit",
        {"email": "c@firm.example", "title": "Equity partner", "lifecycle_stage": "lead"},
    )
    assert answer.status_code == 303, answer.text
    assert _members(db, segment.id) == {contact.id}
