"""What the builder's trigger note promises: a segment trigger enrols those who join the
segment after activation, not those already in it."""

from __future__ import annotations

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import versions
from nurture.models import Enrolment, SegmentKind
from segments import lists
from segments.store import create_segment
from tests.factories import make_contact
from tests.stub_worker import drain
from workers import actors


def test_a_segment_trigger_enrols_newcomers_but_not_members_from_before_activation(
    db: Session, worker: StubBroker, template_id: int
) -> None:
    segment = create_segment(db, name="Legal leads", kind=SegmentKind.STATIC.value)
    already, newcomer = make_contact(db), make_contact(db)
    before = lists.add_members(db, segment.id, [already.id])
    sequence = versions.create_sequence(
        db,
        name="Legal nurture",
        steps_definition={
            "steps": [{"key": "intro", "type": "email", "template_id": template_id}],
            "triggers": [{"event": "segment.entered", "segment_id": segment.id}],
        },
    )
    db.commit()
    actors.process_events.send(before.event_ids)
    drain(worker)

    versions.activate(db, sequence.id)
    db.commit()
    after = lists.add_members(db, segment.id, [newcomer.id])
    db.commit()
    actors.process_events.send(after.event_ids)
    drain(worker)

    enrolled = set(db.scalars(select(Enrolment.contact_id)).all())
    assert enrolled == {newcomer.id}
