"""Overdue tasks that asked to escalate: one alert e-mail to the assignee's team lead.

A task step with `"escalate": true` makes its task escalate once it is past due with
no outcome. The sweep claims every such task with one UPDATE ... RETURNING that sets
`escalated_at` and names the lead, so two sweeps racing claim each task once: the
second finds `escalated_at` set and matches nothing. The lead is the active
`SalesTeam.lead_id` of a team the assignee belongs to, never the assignee themselves;
with none, the task is still marked escalated (it will not be looked at again) and
nobody is mailed.

The claim and its `task.escalated` event are committed before any alert is sent;
each alert (starter template `task_overdue`, key `task:<id>:escalated:<lead>`) is
recorded before it goes out. An alert lost after its claim (a worker killed between
the two) is sent by a later sweep within RESEND_WINDOW: the key makes a repeat of a
delivered one a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, literal, select, update
from sqlalchemy.orm import Session

from campaigns.content.registrations import starter_template_id
from campaigns.delivery.transport import Transport
from campaigns.email import pipeline
from campaigns.email.mailconfig import MailConfig
from nurture import audit
from nurture.contacts.zones import zone
from nurture.events import EventInput, store_known
from nurture.models import (
    Company,
    Contact,
    EmailMessage,
    MessageStatus,
    SalesRep,
    SalesTeam,
    SalesTeamMember,
    Task,
    User,
)
from templates.context import contact_view, rep_view
from templates.message import Address
from templates.requirements import register_sender

TASK_ESCALATED = "task.escalated"
STARTER_TEMPLATE = "task_overdue"
register_sender("task.overdue", "the overdue task notice", {"lead", "task"})
# How long after its claim a lost alert is still sent (a later sweep finds it).
RESEND_WINDOW = timedelta(hours=6)
RESEND_LIMIT = 200


def escalation_key(task_id: int, lead_id: int) -> str:
    return f"task:{task_id}:escalated:{lead_id}"


def escalate_overdue(
    session: Session, *, now: datetime, transport: Transport, config: MailConfig
) -> list[int]:
    """Escalate the tasks overdue at `now` and alert their leads; the ids claimed now.

    Commits: the claim and its events first, then each alert as it is recorded.
    """
    claimed = claim_overdue(session, now=now)
    session.commit()
    alert_leads(session, now=now, transport=transport, config=config)
    return claimed.task_ids


@dataclass(frozen=True, slots=True)
class Claimed:
    task_ids: list[int]
    event_ids: list[int]  # the `task.escalated` events stored, to hand to the workers


def claim_overdue(session: Session, *, now: datetime) -> Claimed:
    """Mark the overdue tasks escalated, name their leads and store their events.

    The caller commits. `escalate_overdue` leaves the events to the tick's recovery
    of unprocessed events; a caller that wants them processed at once claims with
    this, commits, hands `event_ids` over and then calls `alert_leads`.
    """
    rows = session.execute(
        update(Task)
        .where(
            # The same predicate as the partial index ix_sequence_tasks_escalation.
            Task.escalate.is_(True),
            Task.escalated_at.is_(None),
            Task.outcome.is_(None),
            Task.due_at < now,
        )
        .values(escalated_at=now, escalated_to_id=_team_lead())
        .returning(Task.id, Task.contact_id, Task.assignee_id, Task.escalated_to_id)
        .execution_options(synchronize_session=False)
    ).all()
    if not rows:
        return Claimed([], [])
    event_ids = store_known(
        session,
        [
            EventInput(
                TASK_ESCALATED,
                now,
                {"task_id": task_id, "escalated_to": lead_id},
                f"{TASK_ESCALATED}:{task_id}",
                contact_id=contact_id,
            )
            for task_id, contact_id, _, lead_id in rows
        ],
        source="sequences",
    )
    for task_id, _, assignee_id, lead_id in rows:
        audit.record(
            session,
            actor="system",
            action="task.escalated",
            entity_type="task",
            entity_id=task_id,
            changes={"escalated_to_id": lead_id, "assignee_id": assignee_id},
        )
    return Claimed(sorted(int(row[0]) for row in rows), event_ids)


def alert_leads(
    session: Session, *, now: datetime, transport: Transport, config: MailConfig
) -> list[int]:
    """Send the alert of every task escalated to someone within RESEND_WINDOW whose
    alert is not out yet; the task ids alerted. Commits after each."""
    key = (
        literal("task:")
        + cast(Task.id, String)
        + literal(":escalated:")
        + cast(Task.escalated_to_id, String)
    )
    sent = select(EmailMessage.id).where(
        EmailMessage.idempotency_key == key,
        EmailMessage.status != MessageStatus.QUEUED.value,
    )
    pending = [
        (task, lead)
        for task, lead in session.execute(
            select(Task, User)
            .join(User, User.id == Task.escalated_to_id)
            .where(
                Task.escalated_at.is_not(None),
                Task.escalated_at >= now - RESEND_WINDOW,
                ~sent.exists(),
            )
            .order_by(Task.id)
            .limit(RESEND_LIMIT)
        )
    ]
    # End the read before writing: on SQLite a write after a read that another
    # sweep's commit overtook fails rather than waits.
    session.commit()
    if not pending:
        return []
    template_id = starter_template_id(session, STARTER_TEMPLATE)
    done: list[int] = []
    for task, lead in pending:
        pipeline.send_internal(
            session,
            template_id,
            to=Address(lead.email, lead.name or None),
            context=_context(session, task, lead, config, now=now),
            idempotency_key=escalation_key(task.id, lead.id),
            transport=transport,
            config=config,
        )
        session.commit()
        done.append(task.id)
    return done


def _team_lead() -> ColumnElement[Any]:
    """A SQL expression, correlated to the task row: the active lead of a team the
    assignee is in, other than the assignee (the lowest id when several), or NULL."""
    lead = User.__table__.alias("team_lead")
    return (
        select(func.min(SalesTeam.lead_id))
        .join(SalesTeamMember, SalesTeamMember.team_id == SalesTeam.id)
        .join(lead, lead.c.id == SalesTeam.lead_id)
        .where(
            SalesTeamMember.user_id == Task.assignee_id,
            SalesTeam.lead_id != Task.assignee_id,
            lead.c.is_active.is_(True),
        )
        .scalar_subquery()
    )


def _context(
    session: Session, task: Task, lead: User, config: MailConfig, *, now: datetime
) -> dict[str, Any]:
    contact = session.get(Contact, task.contact_id)
    company = None
    if contact is not None and contact.company_id is not None:
        company = session.get(Company, contact.company_id)
    assignee = session.get(User, task.assignee_id) if task.assignee_id is not None else None
    person = contact_view(
        email=(contact.email if contact else None) or "",
        first_name=contact.first_name if contact else None,
        last_name=contact.last_name if contact else None,
        title=contact.title if contact else None,
        company_name=company.name if company else None,
        company_industry=company.industry if company else None,
    )
    person["phone"] = contact.phone if contact else None
    zone_name = session.scalar(select(SalesRep.time_zone).where(SalesRep.user_id == lead.id))
    overdue = now - task.due_at
    return {
        "lead": person,
        "rep": rep_view(name=lead.name or lead.email, email=lead.email),
        "task": {
            "kind": task.kind,
            "instructions": task.instructions,
            "due": _local(task.due_at, zone_name),
            "overdue_hours": max(1, int(overdue.total_seconds() // 3600)),
            "assignee": "" if assignee is None else (assignee.name or assignee.email),
            "tasks_url": f"{config.base_url}/tasks?who=all",
            "contact_url": f"{config.base_url}/contacts/{task.contact_id}",
        },
    }


def _local(when: datetime, zone_name: str | None) -> str:
    """`2026-12-07 15:00 (Europe/Berlin)`: no weekday or month names, so both locales read it."""
    tz = zone(zone_name)
    shown = zone_name if zone_name and tz is not UTC else "UTC"
    return f"{when.astimezone(tz):%Y-%m-%d %H:%M} ({shown})"
