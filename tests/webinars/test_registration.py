"""Registering for a webinar: one seat, one row, one event, one confirmation with .ics."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.content.registrations import RegistrationClosed, WebinarFull, register
from campaigns.sequences.engine import Mailer
from nurture.db import session_scope
from nurture.models import EmailMessage, EmailTemplate, Event, Webinar, WebinarRegistration, utcnow
from tests.email.smtpd import Behaviour
from tests.factories import make_contact
from tests.webinars.helpers import make_webinar


def test_registering_takes_a_seat_records_an_event_and_sends_a_confirmation_with_ics(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    start = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    webinar = make_webinar(
        db, "Compliance clinic", start, capacity=10, join_url="https://meet.example/j/1"
    )
    contact = make_contact(db, first_name="Ada", time_zone="Europe/London")
    db.commit()

    result = register(
        db,
        webinar_id=webinar.id,
        contact_id=contact.id,
        now=utcnow(),
        transport=mailer.transport,
        config=mailer.config,
    )

    assert result.created
    assert result.confirmation_status == "sent"
    assert db.scalar(select(Webinar.seats_taken).where(Webinar.id == webinar.id)) == 1
    [event] = db.scalars(select(Event).where(Event.type == "webinar.registered")).all()
    assert event.properties["webinar_id"] == webinar.id
    [received] = behaviour.received
    message = received.parsed()
    assert message["Subject"] == "You're registered: Compliance clinic"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "invite.ics"
    calendar = Calendar.from_ical(attachment.get_content())
    [vevent] = calendar.walk("VEVENT")
    assert vevent.decoded("dtstart") == start
    assert str(vevent["location"]) == "https://meet.example/j/1"
    # Links in the e-mail go through the redirector, which keeps their targets.
    stored = db.scalars(select(EmailMessage)).one()
    assert "https://meet.example/j/1" in stored.links
    assert any(link.endswith("/invite.ics") for link in stored.links)
    # The template the confirmation came from is the editable starter.
    assert db.scalar(
        select(EmailTemplate.id).where(EmailTemplate.starter_name == "webinar_confirmation")
    )


def test_registering_twice_keeps_one_row_one_seat_and_one_confirmation(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    webinar = make_webinar(db, "Clinic", utcnow() + timedelta(days=2), capacity=5)
    contact = make_contact(db)
    db.commit()

    for _ in range(3):
        again = register(
            db,
            webinar_id=webinar.id,
            contact_id=contact.id,
            now=utcnow(),
            transport=mailer.transport,
            config=mailer.config,
        )

    assert not again.created
    assert db.scalar(select(func.count()).select_from(WebinarRegistration)) == 1
    assert db.scalar(select(Webinar.seats_taken).where(Webinar.id == webinar.id)) == 1
    assert len(behaviour.received) == 1
    assert db.scalar(select(func.count()).where(Event.type == "webinar.registered")) == 1


def test_a_full_webinar_refuses_a_new_registration_and_keeps_no_row(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    webinar = make_webinar(db, "Tiny room", utcnow() + timedelta(days=2), capacity=1)
    first, second = make_contact(db), make_contact(db)
    db.commit()
    register(
        db,
        webinar_id=webinar.id,
        contact_id=first.id,
        now=utcnow(),
        transport=mailer.transport,
        config=mailer.config,
    )

    with pytest.raises(WebinarFull):
        register(
            db,
            webinar_id=webinar.id,
            contact_id=second.id,
            now=utcnow(),
            transport=mailer.transport,
            config=mailer.config,
        )

    assert db.scalar(select(func.count()).select_from(WebinarRegistration)) == 1
    assert len(behaviour.received) == 1


def test_an_ended_webinar_takes_no_registrations(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, _ = sink
    webinar = make_webinar(db, "Yesterday", utcnow() - timedelta(days=1))
    contact = make_contact(db)
    db.commit()

    with pytest.raises(RegistrationClosed):
        register(
            db,
            webinar_id=webinar.id,
            contact_id=contact.id,
            now=utcnow(),
            transport=mailer.transport,
            config=mailer.config,
        )
    assert db.scalar(select(Webinar.seats_taken).where(Webinar.id == webinar.id)) == 0


def test_concurrent_registrations_of_one_contact_take_one_seat(
    db: Session, db_url: str, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    webinar = make_webinar(db, "Busy", utcnow() + timedelta(days=2), capacity=10)
    contact = make_contact(db)
    db.commit()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            with session_scope(db_url) as session:
                start.wait()
                register(
                    session,
                    webinar_id=webinar.id,
                    contact_id=contact.id,
                    now=utcnow(),
                    transport=mailer.transport,
                    config=mailer.config,
                )
        except BaseException as exc:  # noqa: BLE001 - the main thread re-raises what a worker met
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    db.expire_all()
    assert db.scalar(select(Webinar.seats_taken).where(Webinar.id == webinar.id)) == 1
    assert db.scalar(select(func.count()).select_from(WebinarRegistration)) == 1
    assert db.scalar(select(func.count()).select_from(EmailMessage)) == 1
    # SQLite may refuse a writer that waited too long; nothing else may go wrong.
    assert all("locked" in str(e) for e in errors), errors
    assert len(behaviour.received) == 1
