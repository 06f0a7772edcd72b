"""Tasks for sales reps created by `task` steps, and the outcome a rep records.

Who gets a task: the step's `assign_to` names a resolver. "owner" (the default) is
the contact's owner, else the next sales rep in turn. Other names are resolvers that
a higher floor registers (`register_assignee`; reviews adds "account_manager"); one
that answers None, or is not registered, falls back to the owner rule, so a task is
never lost for want of an assignee.

When it is due: `due_in_hours` after creation (48 by default), or
`due_in_working_days` in the assignee's working week (`waits.add_working_days`, in
their SalesRep.time_zone, else UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.sequences import waits
from campaigns.sequences.wakeups import wake_event_waits
from nurture import audit
from nurture.contacts.zones import zone
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.events import EventInput, ingest
from nurture.models import Contact, Enrolment, Role, SalesRep, Task, TaskOutcome, User
from templates.context import contact_view
from templates.sandbox import environment

TASK_COMPLETED = "task.completed"
OWNER = "owner"

# Answers the user id a task goes to, or None to leave it to the owner rule.
Assignee = Callable[[Session, Contact, Enrolment], int | None]
_ASSIGNEES: dict[str, Assignee] = {}


def register_assignee(name: str, fn: Assignee) -> None:
    """Let task steps say `"assign_to": name`; registering again replaces."""
    _ASSIGNEES[name] = fn


def registered_assignee(name: str) -> Assignee | None:
    return _ASSIGNEES.get(name)


def create_task(
    session: Session,
    *,
    key: str,
    contact: Contact,
    enrolment_id: int | None,
    step_key: str | None,
    spec: Mapping[str, Any],
    now: datetime,
) -> Task:
    """The task for this idempotency key, created once; a second call answers the first task."""
    existing = session.scalars(select(Task).where(Task.idempotency_key == key)).one_or_none()
    if existing is not None:
        return existing
    assignee_id = _assignee(session, contact, enrolment_id, str(spec.get("assign_to", OWNER)))
    task = Task(
        idempotency_key=key,
        contact_id=contact.id,
        enrolment_id=enrolment_id,
        step_key=step_key,
        assignee_id=assignee_id,
        kind=str(spec["kind"]),
        instructions=render_instructions(str(spec.get("instructions", "")), contact),
        due_at=due_at(session, spec, assignee_id, now),
        escalate=spec.get("escalate") is True,
        created_at=now,
    )
    session.add(task)
    session.flush()
    return task


def due_at(
    session: Session, spec: Mapping[str, Any], assignee_id: int | None, now: datetime
) -> datetime:
    """When a task of this step, made `now` for this assignee, is due."""
    if "due_in_working_days" not in spec:
        return now + timedelta(hours=int(spec.get("due_in_hours", 48)))
    rep = session.get(SalesRep, assignee_id) if assignee_id is not None else None
    tz = zone(rep.time_zone if rep is not None else None)
    return waits.add_working_days(now, int(spec["due_in_working_days"]), tz)


def _assignee(
    session: Session, contact: Contact, enrolment_id: int | None, assign_to: str
) -> int | None:
    resolver = registered_assignee(assign_to) if assign_to != OWNER else None
    if resolver is not None and enrolment_id is not None:
        enrolment = session.get(Enrolment, enrolment_id)
        chosen = resolver(session, contact, enrolment) if enrolment is not None else None
        if chosen is not None:
            return chosen
    return contact.owner_id or _round_robin(session)


def record_task_outcome(
    session: Session, task_id: int, outcome: str, *, now: datetime, actor: str = "system"
) -> Task:
    """Record the rep's outcome once and add a `task.completed` event that branches read.

    Recording the same outcome again changes nothing; a different one is a Conflict
    naming the outcome already stored. The change is audited, and an enrolment waiting
    for `task.completed` is made due at once instead of at its next poll.
    """
    allowed = [o.value for o in TaskOutcome]
    if outcome not in allowed:
        raise InvalidInput.single("outcome", f"must be one of {', '.join(allowed)}")
    # Compare-and-set on "no outcome yet": of two clicks racing, exactly one records.
    claimed = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.outcome.is_(None))
        .values(outcome=outcome, outcome_at=now)
        .execution_options(synchronize_session=False)
    )
    task = session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise NotFound("task", task_id)
    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
        if task.outcome != outcome:
            when = f" on {task.outcome_at:%Y-%m-%d %H:%M} UTC" if task.outcome_at else ""
            raise Conflict(
                f"task {task.id} was already marked {outcome_label(task.outcome or '')!r}{when}; "
                "a recorded outcome cannot be changed"
            )
        return task
    properties = {"task_id": task.id, "outcome": outcome, "kind": task.kind}
    if task.enrolment_id is not None:
        properties.update(enrolment_id=task.enrolment_id, step_key=task.step_key)
    event = EventInput(
        TASK_COMPLETED, now, properties, f"{TASK_COMPLETED}:{task.id}", contact_id=task.contact_id
    )
    stored = ingest(session, [(0, event)], source="sequences").stored_event_ids
    audit.record(
        session,
        actor=actor,
        action="task.outcome_recorded",
        entity_type="task",
        entity_id=task.id,
        changes={"outcome": outcome, "contact_id": task.contact_id},
    )
    # Now, not when a worker processes the event: the rep sees the branch move at once.
    wake_event_waits(session, stored, now=now)
    return task


def outcome_label(outcome: str) -> str:
    """'meeting_booked' -> 'meeting booked': how people read an outcome."""
    return outcome.replace("_", " ")


def render_instructions(source: str, contact: Contact) -> str:
    """Instructions written by a marketer, rendered in the sandbox; the raw text if they fail."""
    if "{" not in source:
        return source
    view = contact_view(
        email=contact.email or "",
        first_name=contact.first_name,
        last_name=contact.last_name,
        title=contact.title,
        company_name=contact.company.name if contact.company else None,
        company_industry=contact.company.industry if contact.company else None,
        attributes=contact.attributes,
    )
    try:
        return str(environment(html=False).from_string(source).render(contact=view))
    # RecursionError: a macro that calls itself; the rep then reads the raw text.
    except (TemplateError, ValueError, TypeError, RecursionError):
        return source


def _round_robin(session: Session) -> int | None:
    """The next active sales user in turn (by how many tasks exist), or None if there are none."""
    reps = list(
        session.scalars(
            select(User.id)
            .where(User.role == Role.SALES.value, User.is_active.is_(True))
            .order_by(User.id)
        )
    )
    if not reps:
        return None
    count = session.scalar(select(func.count()).select_from(Task)) or 0
    return reps[count % len(reps)]
