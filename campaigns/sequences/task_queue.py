"""A sales rep's task queue: which tasks to show, in what order, with the contact's context.

Open tasks come by due time (overdue first, since they are due earliest); done
tasks by when their outcome was recorded, latest first. Pages are cut by a
cursor holding the last row's sort position, so a task that changes while a rep
pages cannot make another one appear twice or be skipped.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from campaigns.sequences.definition import TASK_KINDS
from nurture.errors import InvalidInput, NotFound
from nurture.models import Contact, Enrolment, Event, Sequence, Task, User
from nurture.validation import is_id

MAX_PAGE = 100
RECENT_EVENTS = 5
_BAD_CURSOR = "is not a cursor this listing gave out"
# Ids are 64-bit signed integers in the database; a larger number is no id at all.


class TaskState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Assignee:
    """Whose tasks: one user's (`user_id`), nobody's (`unassigned`), or everyone's (neither)."""

    user_id: int | None = None
    unassigned: bool = False

    @classmethod
    def everyone(cls) -> Assignee:
        return cls()


@dataclass(frozen=True, slots=True)
class TaskFilter:
    assignee: Assignee = Assignee()
    state: TaskState = TaskState.OPEN
    kind: str | None = None
    due_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of tasks; `next_cursor` is None on the last page."""

    items: list[Task]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Origin:
    """The sequence and step that created a task."""

    sequence_id: int
    sequence_name: str
    step_key: str | None


@dataclass(frozen=True, slots=True)
class TaskCard:
    """A task with what a rep needs beside it: the contact, recent events, its origin."""

    task: Task
    contact: Contact
    assignee: User | None
    origin: Origin | None
    recent_events: list[Event]


def check_kind(kind: str | None) -> str | None:
    """`kind` when it names a task kind (or is empty), else InvalidInput naming `kind`."""
    if not kind:
        return None
    if kind not in TASK_KINDS:
        raise InvalidInput.single("kind", f"must be one of {', '.join(TASK_KINDS)}")
    return kind


def list_tasks(
    session: Session, filters: TaskFilter, *, cursor: str | None = None, limit: int = 20
) -> TaskPage:
    """Tasks matching `filters`, `limit` at a time; pass `next_cursor` back for more."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput.single("limit", f"must be between 1 and {MAX_PAGE}")
    check_kind(filters.kind)
    open_tasks = filters.state is TaskState.OPEN
    when = Task.due_at if open_tasks else Task.outcome_at
    stmt = _filtered(filters)
    if cursor is not None:
        position, last_id = _decode(cursor)
        if open_tasks:
            stmt = stmt.where(or_(when > position, and_(when == position, Task.id > last_id)))
        else:
            stmt = stmt.where(or_(when < position, and_(when == position, Task.id < last_id)))
    order = (when.asc(), Task.id.asc()) if open_tasks else (when.desc(), Task.id.desc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode(last.due_at if open_tasks else last.outcome_at, last.id)
    return TaskPage(rows[:limit], next_cursor)


def count_tasks(session: Session, filters: TaskFilter) -> int:
    stmt = _filtered(filters).with_only_columns(func.count(Task.id)).order_by(None)
    return session.scalar(stmt) or 0


def due_count(session: Session, user_id: int, *, now: datetime) -> int:
    """Open tasks of this user due today (UTC) or overdue: the number on the nav badge."""
    return count_tasks(
        session,
        TaskFilter(assignee=Assignee(user_id=user_id), due_before=end_of_day(now)),
    )


def end_of_day(now: datetime) -> datetime:
    """The first instant of the next UTC day: 'due today' means due before it."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("task", task_id)
    return task


def cards(session: Session, tasks: list[Task], *, with_events: bool = True) -> list[TaskCard]:
    """The context of each task, in a fixed number of queries whatever the page size."""
    if not tasks:
        return []
    contact_ids = {t.contact_id for t in tasks}
    contacts = {
        c.id: c
        for c in session.scalars(
            select(Contact)
            .where(Contact.id.in_(contact_ids))
            .options(joinedload(Contact.company), joinedload(Contact.owner))
        ).unique()
    }
    user_ids = {t.assignee_id for t in tasks if t.assignee_id is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    origins = _origins(session, {t.enrolment_id for t in tasks if t.enrolment_id is not None})
    events = recent_events(session, contact_ids) if with_events else {}
    return [
        TaskCard(
            task=t,
            contact=contacts[t.contact_id],
            assignee=users.get(t.assignee_id) if t.assignee_id is not None else None,
            origin=_origin(origins, t),
            recent_events=events.get(t.contact_id, []),
        )
        for t in tasks
    ]


def recent_events(
    session: Session, contact_ids: set[int], per_contact: int = RECENT_EVENTS
) -> dict[int, list[Event]]:
    """The latest `per_contact` events of each contact, newest first, in one query."""
    if not contact_ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=Event.contact_id,
            order_by=(Event.occurred_at.desc(), Event.id.desc()),
        )
        .label("rank")
    )
    ranked = select(Event.id.label("id"), rank).where(Event.contact_id.in_(contact_ids)).subquery()
    stmt = (
        select(Event)
        .join(ranked, ranked.c.id == Event.id)
        .where(ranked.c.rank <= per_contact)
        .order_by(Event.contact_id, Event.occurred_at.desc(), Event.id.desc())
    )
    found: dict[int, list[Event]] = defaultdict(list)
    for event in session.scalars(stmt):
        found[event.contact_id].append(event)
    return dict(found)


def linkedin_search_url(contact: Contact) -> str:
    """A LinkedIn people search for the contact's name and company (we store no profile URL)."""
    words = [contact.first_name, contact.last_name]
    if contact.company is not None:
        words.append(contact.company.name)
    keywords = " ".join(w for w in words if w)
    return "https://www.linkedin.com/search/results/people/?" + urlencode({"keywords": keywords})


def _filtered(filters: TaskFilter) -> Select[Task]:
    conditions: list[ColumnElement[bool]] = []
    if filters.assignee.unassigned:
        conditions.append(Task.assignee_id.is_(None))
    elif filters.assignee.user_id is not None:
        conditions.append(Task.assignee_id == filters.assignee.user_id)
    if filters.state is TaskState.OPEN:
        conditions.append(Task.outcome.is_(None))
    else:
        conditions.append(Task.outcome.is_not(None))
    if filters.kind:
        conditions.append(Task.kind == filters.kind)
    if filters.due_before is not None:
        conditions.append(Task.due_at < filters.due_before)
    # Erased contacts keep their rows for statistics, but nobody should call them.
    live = select(Contact.id).where(Contact.id == Task.contact_id, Contact.erased_at.is_(None))
    conditions.append(live.exists())
    return select(Task).where(*conditions)


def _origins(session: Session, enrolment_ids: set[int]) -> dict[int, tuple[int, str]]:
    if not enrolment_ids:
        return {}
    rows = session.execute(
        select(Enrolment.id, Sequence.id, Sequence.name)
        .join(Sequence, Sequence.id == Enrolment.sequence_id)
        .where(Enrolment.id.in_(enrolment_ids))
    )
    return {enrolment_id: (sequence_id, name) for enrolment_id, sequence_id, name in rows}


def _origin(origins: dict[int, tuple[int, str]], task: Task) -> Origin | None:
    if task.enrolment_id is None or task.enrolment_id not in origins:
        return None
    sequence_id, name = origins[task.enrolment_id]
    return Origin(sequence_id, name, task.step_key)


def _encode(when: datetime | None, task_id: int) -> str:
    position: dict[str, Any] = {"t": when.isoformat() if when else None, "id": task_id}
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(position["t"])
        last_id = position["id"]
        if when.tzinfo is None or not is_id(last_id):
            raise ValueError("not a position this listing wrote")
        return when.astimezone(UTC), last_id
    except (binascii.Error, ValueError, KeyError, TypeError, OverflowError):
        raise InvalidInput.single("cursor", _BAD_CURSOR) from None
