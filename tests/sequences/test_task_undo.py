"""A task outcome recorded by mistake can be undone for a few minutes; the sequence then
goes on as if it had never been recorded, and the undo is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.engine import Mailer
from campaigns.sequences.task_undo import UNDO_WINDOW, undo_task_outcome
from campaigns.sequences.tasks import TASK_COMPLETED, record_task_outcome
from nurture.errors import Conflict
from nurture.models import AuditEntry, EnrolmentState, Event, Task, utcnow
from tests.factories import make_contact, make_task
from tests.sequences.helpers import drive, outcomes, reload
from tests.sequences.test_task_outcomes import SLOW_POLL, _start


def _completed_events(db: Session, task_id: int) -> list[Event]:
    query = select(Event).where(Event.type == TASK_COMPLETED)
    return [e for e in db.scalars(query) if e.properties.get("task_id") == task_id]


def test_an_undone_outcome_leaves_the_enrolment_waiting_as_if_never_recorded(
    db: Session, mailer: Mailer
) -> None:
    enrolment, task = _start(db, mailer)
    clicked = utcnow() + timedelta(hours=2)
    record_task_outcome(db, task.id, "meeting_booked", now=clicked, actor="user:1")
    db.commit()

    undone = undo_task_outcome(db, task.id, now=clicked + timedelta(minutes=3), actor="user:1")
    db.commit()

    assert not undone.sequence_moved_on
    stored = db.get(Task, task.id, populate_existing=True)
    assert stored is not None
    assert (stored.outcome, stored.outcome_at) == (None, None)
    assert _completed_events(db, task.id) == []
    # The wake-up from the click finds no outcome: the enrolment keeps waiting.
    drive(db, enrolment, clicked + timedelta(minutes=4), mailer, SLOW_POLL)
    waiting = reload(db, enrolment)
    assert (waiting.state, waiting.step_key) == (EnrolmentState.ACTIVE, "answer")
    assert "booked" not in outcomes(db, enrolment)

    # The right outcome, recorded next, steers the branch.
    later = clicked + timedelta(minutes=5)
    record_task_outcome(db, task.id, "not_interested", now=later, actor="user:1")
    db.commit()
    drive(db, enrolment, later, mailer, SLOW_POLL)
    assert outcomes(db, enrolment)["booked"] == "else"
    assert [e.properties["outcome"] for e in _completed_events(db, task.id)] == ["not_interested"]


def test_the_undo_is_audited_with_who_and_what(db: Session, mailer: Mailer) -> None:
    _, task = _start(db, mailer)
    now = utcnow()
    record_task_outcome(db, task.id, "done", now=now, actor="user:7")
    undo_task_outcome(db, task.id, now=now + timedelta(minutes=1), actor="user:7")
    db.commit()

    [entry] = db.scalars(select(AuditEntry).where(AuditEntry.action == "task.outcome_undone"))
    assert entry.actor == "user:7"
    assert entry.entity_id == str(task.id)
    assert entry.changes["outcome"] == ["done", None]
    assert entry.changes["sequence_moved_on"] is False


def test_an_outcome_can_be_undone_only_within_the_window(db: Session) -> None:
    task = make_task(db, make_contact(db))
    recorded = utcnow()
    record_task_outcome(db, task.id, "done", now=recorded, actor="user:1")
    db.commit()

    with pytest.raises(Conflict, match="10 minutes"):
        undo_task_outcome(db, task.id, now=recorded + UNDO_WINDOW + timedelta(seconds=1), actor="x")
    db.rollback()
    undo_task_outcome(db, task.id, now=recorded + UNDO_WINDOW, actor="user:1")
    db.commit()

    with pytest.raises(Conflict, match="no outcome"):
        undo_task_outcome(db, task.id, now=recorded + UNDO_WINDOW, actor="user:1")


def test_an_enrolment_that_already_acted_on_the_outcome_is_not_rewound(
    db: Session, mailer: Mailer
) -> None:
    enrolment, task = _start(db, mailer)
    clicked = utcnow() + timedelta(hours=2)
    record_task_outcome(db, task.id, "meeting_booked", now=clicked, actor="user:1")
    db.commit()
    drive(db, enrolment, clicked, mailer, SLOW_POLL)
    assert reload(db, enrolment).state == EnrolmentState.COMPLETED

    undone = undo_task_outcome(db, task.id, now=clicked + timedelta(minutes=1), actor="user:1")
    db.commit()

    assert undone.sequence_moved_on
    assert undone.task.outcome is None
    finished = reload(db, enrolment)
    assert (finished.state, finished.exit_reason) == (EnrolmentState.COMPLETED, "goal:won")
