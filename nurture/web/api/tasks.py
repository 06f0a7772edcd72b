"""Sales tasks over the API: list them (a CRM pulls a rep's queue) and record an outcome.

The handlers only translate: campaigns.sequences.task_queue selects and pages,
campaigns.sequences.tasks records the outcome once (409 for a different second
one), adds the `task.completed` event and writes the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from campaigns.sequences import task_queue
from campaigns.sequences.task_queue import Assignee, TaskCard, TaskFilter, TaskState
from campaigns.sequences.tasks import record_task_outcome
from nurture.errors import InvalidInput
from nurture.models import TaskOutcome, utcnow
from nurture.validation import parse_id
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors_meaning
from nurture.web.api.schemas import ContactOut, contact_out
from nurture.web.auth import Principal, api_roles

Db = NamedDependency[Session]
Me = NamedDependency[Principal]
TaskId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The task's id")]
_OWN_MEANING = {
    404: "No such task",
    409: "The task already has a different outcome; an outcome is recorded once",
}


class SequenceRef(msgspec.Struct):
    id: int
    name: str


class TaskOut(msgspec.Struct):
    id: int
    kind: str
    instructions: str
    due_at: datetime
    overdue: bool
    assignee_id: int | None
    outcome: str | None
    outcome_at: datetime | None
    created_at: datetime
    contact: ContactOut
    sequence: SequenceRef | None
    step_key: str | None
    enrolment_id: int | None


class TaskPageOut(msgspec.Struct):
    """One page of tasks; pass `next_cursor` back as `cursor` for the next (null: no more)."""

    items: list[TaskOut]
    next_cursor: str | None


class OutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    """The rep's outcome; recording the same one again changes nothing."""

    outcome: TaskOutcome


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors_meaning(_OWN_MEANING, *statuses)


def task_out(card: TaskCard, now: datetime) -> TaskOut:
    task = card.task
    origin = card.origin
    return TaskOut(
        id=task.id,
        kind=task.kind,
        instructions=task.instructions,
        due_at=task.due_at,
        overdue=task.outcome is None and task.due_at < now,
        assignee_id=task.assignee_id,
        outcome=task.outcome,
        outcome_at=task.outcome_at,
        created_at=task.created_at,
        contact=contact_out(card.contact),
        sequence=None if origin is None else SequenceRef(origin.sequence_id, origin.sequence_name),
        step_key=task.step_key,
        enrolment_id=task.enrolment_id,
    )


@get(
    "/tasks",
    guards=[api_roles()],
    sync_to_thread=True,
    summary="List sales tasks: open ones by due time, done ones latest first",
    responses=_errors(422),
)
def list_tasks(
    db: Db,
    assignee: Annotated[
        str | None,
        QueryParameter(
            description="A user id, or `unassigned`; leave out for everyone's tasks",
            max_length=20,
        ),
    ] = None,
    status: Annotated[
        TaskState, QueryParameter(description="`open` (no outcome yet) or `done`")
    ] = TaskState.OPEN,
    kind: Annotated[
        str | None,
        QueryParameter(
            description="linkedin_connect, linkedin_message, call or meeting", max_length=30
        ),
    ] = None,
    due_before: Annotated[
        datetime | None,
        QueryParameter(description="Only tasks due before this time (ISO 8601, with zone)"),
    ] = None,
    cursor: Annotated[
        str | None,
        QueryParameter(description="The `next_cursor` of the previous page", max_length=500),
    ] = None,
    limit: Annotated[
        int, QueryParameter(ge=1, le=task_queue.MAX_PAGE, description="Items per page")
    ] = 50,
) -> TaskPageOut:
    filters = TaskFilter(
        assignee=_assignee(assignee),
        state=status,
        kind=task_queue.check_kind(kind),
        due_before=None if due_before is None else _utc(due_before, "due_before"),
    )
    found = task_queue.list_tasks(db, filters, cursor=cursor, limit=limit)
    now = utcnow()
    cards = task_queue.cards(db, found.items, with_events=False)
    return TaskPageOut([task_out(card, now) for card in cards], found.next_cursor)


@post(
    "/tasks/{task_id:int}/outcome",
    guards=[api_roles()],
    sync_to_thread=True,
    status_code=200,
    summary="Record a task's outcome (done, no_answer, meeting_booked, not_interested)",
    description="Recorded once: the same outcome again answers 200 and changes nothing; "
    "a different one answers 409. Adds a `task.completed` event that sequence branches read.",
    operation_class=json_body_operation(OutcomeIn, description="The outcome"),
    responses=_errors(404, 409, 422),
)
def record_outcome(data: JSONBody[OutcomeIn], db: Db, principal: Me, task_id: TaskId) -> TaskOut:
    now = utcnow()
    task = record_task_outcome(db, task_id, data.outcome.value, now=now, actor=principal.actor)
    return task_out(task_queue.cards(db, [task], with_events=False)[0], now)


def _assignee(value: str | None) -> Assignee:
    if value is None or value == "":
        return Assignee.everyone()
    if value == "unassigned":
        return Assignee(unassigned=True)
    user_id = parse_id(value)
    if user_id is None:
        raise InvalidInput.single("assignee", "must be a user id or 'unassigned'")
    return Assignee(user_id=user_id)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput.single(name, "must include a time zone, like 2026-03-01T09:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput.single(name, "is out of range") from None


HANDLERS = [list_tasks, record_outcome]
