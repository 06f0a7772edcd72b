"""Lifecycle moves: one row, one event, a reason to go back, sequences left at their goal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.versions import activate, create_sequence
from nurture.errors import InvalidInput, NotFound
from nurture.models import Enrolment, EnrolmentState, Event, LifecycleChange
from nurture.qualification.lifecycle import change_stage, history
from tests.factories import make_contact

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_a_move_is_recorded_once_as_a_row_and_an_event(db: Session) -> None:
    contact = make_contact(db, email="ann@example.com", lifecycle_stage="lead")
    events = change_stage(db, contact.id, "mql", reason="score 64", source="qualification", now=NOW)
    again = change_stage(db, contact.id, "mql", reason="score 65", source="qualification", now=NOW)

    assert len(events) == 1
    assert again == []
    stored = db.get(Event, events[0])
    assert stored is not None
    assert stored.type == "lifecycle.changed"
    assert stored.properties == {
        "from": "lead",
        "to": "mql",
        "reason": "score 64",
        "source": "qualification",
    }
    assert [(c.from_stage, c.to_stage) for c in history(db, contact.id)] == [("lead", "mql")]


def test_moving_back_needs_a_reason(db: Session) -> None:
    contact = make_contact(db, email="bo@example.com", lifecycle_stage="sql")
    with pytest.raises(InvalidInput) as refused:
        change_stage(db, contact.id, "lead", reason="  ", source="rep", now=NOW)
    assert refused.value.problems[0].field == "reason"
    assert db.scalars(select(LifecycleChange)).all() == []

    change_stage(db, contact.id, "lead", reason="no budget this year", source="rep", now=NOW)
    db.refresh(contact)
    assert contact.lifecycle_stage == "lead"


def test_unknown_stage_and_erased_contact_are_refused(db: Session) -> None:
    contact = make_contact(db, email="cy@example.com")
    with pytest.raises(InvalidInput) as refused:
        change_stage(db, contact.id, "hot", reason="", source="api", now=NOW)
    assert refused.value.problems[0].field == "stage"
    contact.erased_at = NOW
    db.flush()
    with pytest.raises(NotFound):
        change_stage(db, contact.id, "mql", reason="", source="api", now=NOW)


def test_sequences_whose_goal_is_the_stage_are_left_at_once(db: Session) -> None:
    contact = make_contact(db, email="di@example.com", lifecycle_stage="lead")
    steps = [{"key": "wait", "type": "wait", "duration": {"days": 30}}]
    nurture_seq = create_sequence(
        db, name="Nurture", steps_definition={"steps": steps, "goals": [{"lifecycle": ["mql"]}]}
    )
    other = create_sequence(db, name="Newsletter", steps_definition={"steps": steps})
    for sequence in (nurture_seq, other):
        activate(db, sequence.id)
        db.add(
            Enrolment(
                sequence_id=sequence.id,
                version_id=sequence.current_version_id,
                contact_id=contact.id,
                step_key="wait",
                next_run_at=NOW,
            )
        )
    db.flush()

    change_stage(db, contact.id, "mql", reason="score 70", source="qualification", now=NOW)

    states = {e.sequence_id: e.state for e in db.scalars(select(Enrolment))}
    assert states == {nurture_seq.id: EnrolmentState.EXITED.value, other.id: "active"}
    reasons = db.scalars(select(Enrolment.exit_reason).where(Enrolment.exit_reason.is_not(None)))
    assert list(reasons) == ["goal:lifecycle:mql"]
