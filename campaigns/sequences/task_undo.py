"""Taking back a task outcome recorded by mistake, for a few minutes after it was recorded.

Undoing reopens the task and withdraws its `task.completed` event, so branches, waits,
reports and the contact's timeline that read the event later see no outcome, and the rep
can record the right one. An enrolment still waiting for the outcome (at the task's step
or at a wait for `task.completed`) therefore continues as if nothing had been recorded.

An enrolment that has already moved on is not rewound: the steps it took since may have
sent e-mail, created tasks or ended the enrolment, and none of that can be taken back.
The undo says so (`Undone.sequence_moved_on`) and the audit entry records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from campaigns.sequences.tasks import TASK_COMPLETED, outcome_label
from campaigns.sequences.versions import flow_of
from campaigns.sequences.wakeups import event_waits
from nurture import audit
from nurture.errors import Conflict, NotFound
from nurture.models import Enrolment, EnrolmentState, Event, Task

# How long after recording an outcome it can still be undone.
UNDO_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Undone:
    """The reopened task; `sequence_moved_on` when its enrolment had already acted on it."""

    task: Task
    sequence_moved_on: bool


def can_undo(task: Task, now: datetime) -> bool:
    """Whether the task's outcome may still be undone at `now`."""
    return (
        task.outcome is not None
        and task.outcome_at is not None
        and now - task.outcome_at <= UNDO_WINDOW
    )


def undo_task_outcome(session: Session, task_id: int, *, now: datetime, actor: str) -> Undone:
    """Reopen a task whose outcome was recorded at most UNDO_WINDOW ago; Conflict otherwise.

    The caller commits. Audited as `task.outcome_undone`.
    """
    task = session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise NotFound("task", task_id)
    if task.outcome is None or task.outcome_at is None:
        raise Conflict("this task has no outcome to undo")
    if not can_undo(task, now):
        minutes = int(UNDO_WINDOW.total_seconds() // 60)
        raise Conflict(
            f"an outcome can be undone for {minutes} minutes after it is recorded; "
            f"{outcome_label(task.outcome)!r} was recorded on {task.outcome_at:%Y-%m-%d %H:%M} UTC"
        )
    outcome, recorded_at = task.outcome, task.outcome_at
    # Compare-and-set on the outcome read: of an undo racing another undo, one wins.
    reopened = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.outcome == outcome, Task.outcome_at == recorded_at)
        .values(outcome=None, outcome_at=None)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(reopened, "rowcount", 0) or 0) != 1:
        raise Conflict("the outcome changed meanwhile; reload the task")
    # The event's key is the task's own, so deleting it also lets a new outcome be recorded.
    session.execute(
        delete(Event)
        .where(Event.idempotency_key == f"{TASK_COMPLETED}:{task_id}")
        .execution_options(synchronize_session=False)
    )
    moved_on = _sequence_moved_on(session, task)
    audit.record(
        session,
        actor=actor,
        action="task.outcome_undone",
        entity_type="task",
        entity_id=task_id,
        changes={
            "outcome": [outcome, None],
            "contact_id": task.contact_id,
            "sequence_moved_on": moved_on,
        },
    )
    session.refresh(task)
    return Undone(task, moved_on)


def _sequence_moved_on(session: Session, task: Task) -> bool:
    """Whether the task's enrolment has left the place where it waits for the outcome."""
    if task.enrolment_id is None:
        return False
    enrolment = session.get(Enrolment, task.enrolment_id)
    if enrolment is None:
        return False
    if enrolment.state != EnrolmentState.ACTIVE.value:
        return True
    if enrolment.step_key == task.step_key:
        return False
    waiting = event_waits(flow_of(session, enrolment.version_id)).get(TASK_COMPLETED, set())
    return enrolment.step_key not in waiting
