"""Enrolling a segment from the sequence page: the preview says who enters and who is
skipped and why, the confirmation enrols them in batches and the page (and a reload)
says what happened, from the audit record."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences import enrol_segment, versions
from campaigns.sequences.enrol import enrol_contacts
from nurture.contacts import suppress
from nurture.models import AuditEntry, Enrolment, SuppressionReason, utcnow
from segments import lists, store
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login, post_form


def _flow(template_id: int) -> dict[str, Any]:
    return {
        "steps": [
            {"key": "intro", "type": "email", "template_id": template_id},
            {"key": "won", "type": "goal"},
        ],
        "goals": [{"event": "meeting.booked"}],
        "triggers": [],
    }


def _sequence(db: Session, *, active: bool = True) -> int:
    sequence = versions.create_sequence(
        db, name="Legal nurture", steps_definition=_flow(make_template(db))
    )
    if active:
        versions.activate(db, sequence.id)
    db.commit()
    return sequence.id


def _segment(db: Session, sequence_id: int) -> tuple[int, dict[str, int]]:
    """A list of five: two who can enter, a customer, an unsubscribed contact and one
    already in the sequence."""
    people = {
        "fresh": make_contact(db, email="fresh@firm.example").id,
        "second": make_contact(db, email="second@firm.example").id,
        "customer": make_contact(db, email="client@firm.example", lifecycle_stage="customer").id,
        "gone": make_contact(db, email="gone@firm.example").id,
        "inside": make_contact(db, email="inside@firm.example").id,
    }
    suppress(db, "gone@firm.example", reason=SuppressionReason.UNSUBSCRIBED)
    enrol_contacts(db, sequence_id, [people["inside"]], now=utcnow())
    segment = store.create_segment(db, name="Legal leads", kind="static")
    lists.add_members(db, segment.id, list(people.values()))
    db.commit()
    return segment.id, people


def _signed_in(client: Client, db: Session) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)


def _enrolled(db: Session, sequence_id: int) -> set[int]:
    db.expire_all()
    return set(db.scalars(select(Enrolment.contact_id).where(Enrolment.sequence_id == sequence_id)))


def _text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">(.*?)</div>', html, re.S)
    assert found, html
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_preview_says_who_enters_and_why_others_are_skipped(
    client: Client, db: Session
) -> None:
    sequence_id = _sequence(db)
    segment_id, people = _segment(db, sequence_id)
    _signed_in(client, db)

    page = client.get(f"/sequences/{sequence_id}?segment_id={segment_id}", headers=HTML)

    assert page.status_code == 200
    preview = _text(page.text, "segment-preview")
    assert "Of 5 people in “Legal leads”, 2 will enter and 3 will be skipped." in preview
    assert "1: unsubscribed or suppressed" in preview
    assert "1: customers (this sequence leaves customers out)" in preview
    assert "1: already in this sequence" in preview
    assert "Enrol 2 from “Legal leads”" in preview
    assert _enrolled(db, sequence_id) == {people["inside"]}  # a preview changes nothing


def test_confirming_enrols_the_segment_and_the_page_says_what_happened(
    client: Client, db: Session
) -> None:
    sequence_id = _sequence(db)
    segment_id, people = _segment(db, sequence_id)
    _signed_in(client, db)

    response = post_form(
        client, f"/sequences/{sequence_id}/enrol/segment", {"segment_id": str(segment_id)}
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/sequences/{sequence_id}?enrolment=")
    assert _enrolled(db, sequence_id) == {people["inside"], people["fresh"], people["second"]}
    for _ in range(2):  # the redirect's page, then a reload of it
        page = client.get(location, headers=HTML)
        assert page.status_code == 200
        report = _text(page.text, "enrol-report")
        assert "2 enrolled from “Legal leads”, 3 skipped." in report
        assert "1: already in this sequence" in report
        assert "fresh@firm.example: enrolled" in report
        assert "client@firm.example: skipped, already a customer" in report
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "sequence.enrolled")).one()
    assert entry.entity_id == str(sequence_id)
    assert entry.changes["source"] == "segment"
    assert entry.changes["segment"] == "Legal leads"
    assert entry.changes["enrolled"] == 2
    assert entry.changes["reasons"] == {"customer": 1, "enrolled": 1, "suppressed": 1}


def test_a_big_segment_is_enrolled_batch_by_batch(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    sequence_id = _sequence(db)
    segment_id, _ = _segment(db, sequence_id)
    monkeypatch.setattr(enrol_segment, "BATCH", 1)
    commits: list[int] = []

    def commit() -> None:
        db.commit()
        commits.append(len(_enrolled(db, sequence_id)))

    entry = enrol_segment.enrol_segment(
        db, sequence_id, segment_id, actor="user:1", now=utcnow(), each_batch=commit
    )

    # Five members, one a batch, each committed on its own: the first (by contact id)
    # is in the sequence before the second batch runs.
    assert commits == [2, 3, 3, 3, 3]
    assert entry.changes["enrolled"] == 2
    assert entry.changes["skipped"] == 3


def test_a_second_run_takes_only_who_the_first_did_not(client: Client, db: Session) -> None:
    sequence_id = _sequence(db)
    segment_id, _ = _segment(db, sequence_id)
    _signed_in(client, db)
    url = f"/sequences/{sequence_id}/enrol/segment"
    post_form(client, url, {"segment_id": str(segment_id)})

    again = post_form(client, url, {"segment_id": str(segment_id)})

    report = _text(client.get(again.headers["location"], headers=HTML).text, "enrol-report")
    assert "0 enrolled from “Legal leads”, 5 skipped." in report
    assert "3: already in this sequence" in report


def test_a_draft_takes_no_segment(client: Client, db: Session) -> None:
    sequence_id = _sequence(db, active=False)
    segment = store.create_segment(db, name="Legal leads", kind="static")
    lists.add_members(db, segment.id, [make_contact(db).id])
    db.commit()
    _signed_in(client, db)

    response = post_form(
        client, f"/sequences/{sequence_id}/enrol/segment", {"segment_id": str(segment.id)}
    )

    assert response.status_code == 409
    assert "not a draft one" in response.text
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0
