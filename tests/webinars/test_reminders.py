"""Reminders 24 hours and 1 hour before a webinar, each sent once, never late."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from campaigns.content.registrations import register
from campaigns.content.reminders import send_due_reminders
from campaigns.sequences.engine import Mailer
from nurture.models import Webinar, utcnow
from tests.email.smtpd import Behaviour
from tests.factories import make_contact
from tests.webinars.helpers import make_webinar


def subjects(behaviour: Behaviour) -> list[str]:
    return [str(r.parsed()["Subject"]) for r in behaviour.received]


def signed_up(db: Session, mailer: Mailer, start: datetime, now: datetime) -> Webinar:
    webinar = make_webinar(db, "Clinic", start, join_url="https://meet.example/j/9")
    contact = make_contact(db, time_zone="America/New_York")
    db.commit()
    register(
        db,
        webinar_id=webinar.id,
        contact_id=contact.id,
        now=now,
        transport=mailer.transport,
        config=mailer.config,
    )
    return webinar


def test_each_reminder_goes_once_at_its_time(db: Session, sink: tuple[Mailer, Behaviour]) -> None:
    mailer, behaviour = sink
    now = utcnow()
    start = now + timedelta(days=3)
    signed_up(db, mailer, start, now)

    def tick(at: datetime) -> int:
        return send_due_reminders(db, now=at, transport=mailer.transport, config=mailer.config)

    assert tick(start - timedelta(hours=30)) == 0
    assert tick(start - timedelta(hours=23)) == 1
    assert tick(start - timedelta(hours=22)) == 0  # the tick runs again: nothing more
    assert tick(start - timedelta(minutes=50)) == 1
    assert tick(start - timedelta(minutes=40)) == 0
    assert tick(start + timedelta(minutes=5)) == 0

    assert subjects(behaviour) == [
        "You're registered: Clinic",
        "Starting in 24 hours: Clinic",
        "Starting in 1 hour: Clinic",
    ]
    text = behaviour.received[2].parsed().get_body(("plain",))
    assert text is not None
    assert "America/New_York" in text.get_content()


def test_a_late_registration_gets_no_reminder_for_a_moment_already_past(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    now = utcnow()
    start = now + timedelta(hours=5)  # registered after the 24-hour mark
    signed_up(db, mailer, start, now)

    sent_now = send_due_reminders(db, now=now, transport=mailer.transport, config=mailer.config)
    sent_later = send_due_reminders(
        db, now=start - timedelta(minutes=30), transport=mailer.transport, config=mailer.config
    )

    assert (sent_now, sent_later) == (0, 1)
    assert subjects(behaviour) == ["You're registered: Clinic", "Starting in 1 hour: Clinic"]


def test_a_tick_that_runs_late_sends_only_the_latest_reminder(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    now = utcnow()
    start = now + timedelta(days=2)
    signed_up(db, mailer, start, now)

    send_due_reminders(
        db, now=start - timedelta(minutes=20), transport=mailer.transport, config=mailer.config
    )

    assert subjects(behaviour)[1:] == ["Starting in 1 hour: Clinic"]
