"""Attendance after a webinar, from CSV and from API items; branches read the events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content.attendance import (
    marks_from_csv,
    marks_from_items,
    record_attendance,
)
from campaigns.sequences.engine import Mailer
from nurture.errors import Conflict, InvalidInput, Problem
from nurture.models import Event, Webinar, WebinarRegistration, utcnow
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrol, make_sequence, outcomes
from tests.webinars.helpers import make_webinar


def held(db: Session) -> Webinar:
    return make_webinar(db, "Held yesterday", utcnow() - timedelta(days=1), duration_minutes=45)


def registered(db: Session, webinar: Webinar, email: str) -> int:
    contact = make_contact(db, email=email)
    db.add(WebinarRegistration(webinar_id=webinar.id, contact_id=contact.id))
    db.commit()
    return contact.id


def states(db: Session) -> dict[int, str]:
    rows = db.execute(
        select(WebinarRegistration.contact_id, WebinarRegistration.attendance).execution_options(
            populate_existing=True
        )
    )
    return {contact_id: state for contact_id, state in rows}


def event_types(db: Session, contact_id: int) -> list[str]:
    return sorted(db.scalars(select(Event.type).where(Event.contact_id == contact_id)))


def test_csv_marks_attendees_and_no_shows_and_reports_bad_lines(db: Session) -> None:
    webinar = held(db)
    ann = registered(db, webinar, "ann@example.com")
    bob = registered(db, webinar, "bob@example.com")
    cid = registered(db, webinar, "cid@example.com")
    walk_in = make_contact(db, email="walkin@example.com").id
    db.commit()
    data = (
        b"Email,Duration\n"
        b"ANN@example.com,40\n"
        b"bob@example.com,0\n"
        b"\n"
        b"not-an-address,5\n"
        b"walkin@example.com,12\n"
        b"stranger@example.com,30\n"
        b"cid@example.com,ten\n"
    )

    marks, problems = marks_from_csv(data)
    report = record_attendance(
        db, webinar.id, marks, now=utcnow(), mark_rest_no_show=True, problems=problems
    )
    db.commit()

    assert report.problems == [
        Problem("email", "must be an e-mail address", 5),
        Problem("duration", "must be a whole number of minutes", 8),
        Problem("email", "no contact has this address", 7),
    ]
    assert (report.attended, report.no_show) == (2, 2)
    assert states(db) == {ann: "attended", bob: "no_show", cid: "no_show", walk_in: "attended"}
    assert event_types(db, ann) == ["webinar.attended"]
    assert event_types(db, cid) == ["webinar.no_show"]


def test_reporting_again_adds_no_events_and_never_downgrades_an_attendee(db: Session) -> None:
    webinar = held(db)
    ann = registered(db, webinar, "ann@example.com")
    first, _ = marks_from_items([{"email": "ann@example.com", "attended": True}])
    record_attendance(db, webinar.id, first, now=utcnow())
    db.commit()

    later, _ = marks_from_items([{"email": "ann@example.com", "attended": False}])
    report = record_attendance(db, webinar.id, later, now=utcnow(), mark_rest_no_show=True)
    record_attendance(db, webinar.id, first, now=utcnow())
    db.commit()

    assert (report.attended, report.no_show) == (0, 0)
    assert states(db) == {ann: "attended"}
    assert event_types(db, ann) == ["webinar.attended"]


def test_bad_items_name_their_index_and_field() -> None:
    marks, problems = marks_from_items(
        [
            {"email": "a@example.com", "attended": True},
            {"email": "b@example.com", "attended": "maybe"},
            {"email": "c@example.com", "seen": True},
            "d@example.com",
            {"email": "e@example.com", "attended": False, "minutes": -3},
        ]
    )
    assert [m.email for m in marks] == ["a@example.com"]
    assert problems == [
        Problem("seen", "is not a known field", 2),
        Problem("", "must be an object", 3),
        Problem("attended", "must be yes or no", 1),
        Problem("minutes", "must be a whole number of minutes", 4),
    ]
    with pytest.raises(InvalidInput):
        marks_from_items({"email": "a@example.com"})
    with pytest.raises(InvalidInput):
        marks_from_csv(b"address,seen\nx,y\n")


def test_attendance_before_the_webinar_starts_is_refused(db: Session) -> None:
    webinar = make_webinar(db, "Tomorrow", utcnow() + timedelta(days=1))
    with pytest.raises(Conflict):
        record_attendance(db, webinar.id, [], now=utcnow())


def test_a_branch_on_webinar_attended_follows_the_upload(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    webinar = held(db)
    came = registered(db, webinar, "came@example.com")
    missed = registered(db, webinar, "missed@example.com")
    steps = [
        {
            "key": "came",
            "type": "branch",
            "condition": {"event": "webinar.attended"},
            "then": [{"key": "thanks", "type": "goal"}],
            "else": [{"key": "recording", "type": "exit"}],
        }
    ]
    sequence = make_sequence(db, steps)
    start = utcnow() - timedelta(days=2)
    enrolments = {c: enrol(db, sequence, c, start) for c in (came, missed)}
    marks, _ = marks_from_items([{"email": "came@example.com", "attended": True}])
    record_attendance(db, webinar.id, marks, now=utcnow(), mark_rest_no_show=True)
    db.commit()

    for enrolment in enrolments.values():
        drive(db, enrolment, utcnow(), mailer)

    assert outcomes(db, enrolments[came]) == {"came": "then", "thanks": "goal"}
    assert outcomes(db, enrolments[missed]) == {"came": "else", "recording": "exit"}


def test_a_broken_quote_costs_its_own_line_and_the_rows_after_it_still_count() -> None:
    data = (
        b"email,attended\n"
        b"ann@example.com,yes\n"
        b'"bob@example.com,yes\n'
        b"cid@example.com,no\n"
        b"dee@example.com,yes\n"
    )

    marks, problems = marks_from_csv(data)

    assert [p.index for p in problems] == [3]
    assert "not closed" in problems[0].message
    assert sorted(m.email for m in marks) == [
        "ann@example.com",
        "cid@example.com",
        "dee@example.com",
    ]
