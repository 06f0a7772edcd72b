"""A sequence run end to end through Dramatiq: stub broker, a real worker, the capture mailbox."""

from __future__ import annotations

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.events import EventInput, ingest
from nurture.models import EnrolmentState, StepRun, Task, utcnow
from tests.factories import make_contact
from tests.sequences.helpers import captured_count, enrolment_of, make_sequence
from tests.stub_worker import drain
from workers import actors
from workers.sequences import run_enrolment_step, sequence_tick


def test_three_step_sequence_runs_through_the_workers_exactly_once(
    db: Session, worker: StubBroker, template_id: int
) -> None:
    sequence = make_sequence(
        db,
        [
            {"key": "welcome", "type": "email", "template_id": template_id},
            {"key": "connect", "type": "task", "kind": "linkedin_connect"},
            {"key": "guide", "type": "email", "template_id": template_id},
        ],
        triggers=[{"event": "segment.entered", "segment_id": 3}],
    )
    contact = make_contact(db)
    stored = ingest(
        db,
        [(0, EventInput("segment.entered", utcnow(), {"segment_id": 3}, contact_id=contact.id))],
        source="test",
    )
    db.commit()

    actors.process_events.send(stored.stored_event_ids)  # enrols through the trigger
    drain(worker)
    sequence_tick.send()  # claims the due enrolment; each step enqueues the next
    drain(worker)
    enrolment = enrolment_of(db, sequence, contact.id)
    run_enrolment_step.send(enrolment.id, "welcome")  # a duplicated, late message
    sequence_tick.send()
    drain(worker)

    enrolment = enrolment_of(db, sequence, contact.id)
    assert enrolment.state == EnrolmentState.COMPLETED
    assert captured_count(db) == 2
    assert len(db.scalars(select(Task.id)).all()) == 1
    runs = db.execute(select(StepRun.step_key, StepRun.outcome).order_by(StepRun.id)).all()
    assert [tuple(run) for run in runs] == [
        ("welcome", "sent"),
        ("connect", "created"),
        ("guide", "sent"),
    ]
