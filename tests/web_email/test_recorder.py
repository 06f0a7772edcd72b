"""The tracking recorder: nothing is lost when the database is away, nothing stored twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.contacts import erase_contact
from nurture.events import EventInput
from nurture.models import Event
from nurture.web.public.recorder import EventRecorder
from tests.factories import make_contact

# Nothing listens on port 9 of loopback: every write fails at once.
UNREACHABLE = "postgresql+psycopg://nobody:nothing@127.0.0.1:9/nowhere?connect_timeout=1"


def _clicks(contact_id: int, count: int) -> list[EventInput]:
    now = datetime.now(UTC)
    return [
        EventInput(
            "email.clicked", now, {"link_index": n}, f"email.clicked:1:{n}:k", contact_id=contact_id
        )
        for n in range(count)
    ]


def _stored(db: Session) -> int:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Event).where(Event.type == "email.clicked")) or 0
    )


def test_events_that_cannot_be_written_are_spooled_and_replayed_once(
    db_url: str, db: Session, tmp_path: Path
) -> None:
    contact = make_contact(db)
    db.commit()
    spool = tmp_path / "spool.jsonl"
    offline = EventRecorder(UNREACHABLE, spool=spool, interval=0.05).start()
    for event in _clicks(contact.id, 5):
        offline.record(event)
    offline.stop(timeout=1.5)
    assert offline.failures >= 1
    assert len(spool.read_text().splitlines()) == 5
    # The same events spooled twice (say, two crashed attempts): keys keep them single.
    spool.write_text(spool.read_text() * 2)

    online = EventRecorder(db_url, spool=spool, interval=0.05).start()
    assert online.wait_idle(10)
    online.stop()
    assert not spool.exists()
    assert _stored(db) == 5


def test_a_flush_that_fails_keeps_its_events_for_the_next_try(db_url: str, db: Session) -> None:
    contact = make_contact(db)
    db.commit()
    recorder = EventRecorder(UNREACHABLE, spool=None)
    for event in _clicks(contact.id, 3):
        recorder.record(event)
    assert recorder.flush() is False
    assert not recorder.idle
    # The database is back (here: the recorder is pointed at one that answers).
    recorder._url = db_url
    assert recorder.flush() is True
    assert recorder.wait_idle(1)
    assert _stored(db) == 3


def test_clicks_of_erased_contacts_are_dropped_and_the_others_stored_once(
    db_url: str, db: Session
) -> None:
    kept = make_contact(db)
    gone = make_contact(db)
    db.commit()
    erase_contact(db, gone.id, actor="test")
    db.commit()
    recorder = EventRecorder(db_url, spool=None)
    clicks = _clicks(kept.id, 3)
    for event in [*clicks, clicks[0], *_clicks(gone.id, 2)]:
        recorder.record(event)
    assert recorder.flush() is True
    assert recorder.stored == 3
    db.expire_all()
    owners = db.scalars(select(Event.contact_id).where(Event.type == "email.clicked")).all()
    assert owners == [kept.id] * 3
