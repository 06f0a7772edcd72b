"""The test worker's drain() waits for every queue the actors declare, not a hand-kept list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Enrolment
from segments import store
from tests.factories import make_contact
from tests.segments.helpers import member_ids, rule
from tests.sequences.helpers import make_sequence
from tests.stub_worker import drain, queue_names, stub_worker
from workers import actors


@pytest.fixture
def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    with stub_worker(settings, monkeypatch) as stub:
        yield stub


def test_drain_knows_the_queue_of_every_actor(worker: StubBroker) -> None:
    assert set(queue_names(worker)) == {actor.queue_name for actor in actors.ALL}
    assert {"segments", "imports"} <= set(queue_names(worker))


def test_drain_waits_for_a_segment_refresh_and_the_enrolment_it_causes(
    db: Session, worker: StubBroker
) -> None:
    partner = make_contact(db, title="Partner")
    make_contact(db, title="Associate")
    segment = store.create_segment(
        db, name="Partners", rule=rule({"field": "title", "op": "contains", "value": "partner"})
    )
    sequence_id = make_sequence(
        db,
        [{"key": "call", "type": "task", "kind": "call"}],
        triggers=[{"event": "segment.entered", "segment_id": segment.id}],
    )
    db.commit()

    # segments queue -> events queue -> enrolment: drain must follow the whole chain.
    actors.refresh_segments.send([segment.id])
    drain(worker)

    assert member_ids(db, segment.id) == {partner.id}
    enrolled = db.scalars(select(Enrolment.contact_id).where(Enrolment.sequence_id == sequence_id))
    assert list(enrolled) == [partner.id]
