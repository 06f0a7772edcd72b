"""The SLA breach: pending hand-offs past their due time go to the team lead.

One UPDATE claims every overdue hand-off not yet escalated and names who it goes to
(the active lead of its team, else the settings' fallback owner, else the first
active admin), so two sweeps running at once never escalate, or alert, twice: the
second finds `escalated_at` set and its UPDATE matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, update
from sqlalchemy.orm import Session

from nurture import audit
from nurture.events import EventInput, store_known
from nurture.models import (
    Handoff,
    HandoffState,
    Role,
    SalesTeam,
    SalesTeamMember,
    User,
)
from nurture.qualification.inbox import settings_row

ESCALATED = "handoff.escalated"


@dataclass(frozen=True, slots=True)
class Escalation:
    handoff_ids: list[int]
    event_ids: list[int]


def escalate_due(session: Session, *, now: datetime) -> list[int]:
    """Escalate the pending hand-offs whose SLA ended before `now`; their ids."""
    return escalate(session, now=now).handoff_ids


def escalate(session: Session, *, now: datetime) -> Escalation:
    """Escalate the overdue hand-offs: their ids and the `handoff.escalated` events stored.

    The caller commits, hands the events to the workers and sends the alerts
    (workers.handoffs does all three).
    """
    claimed = session.execute(
        update(Handoff)
        .where(
            Handoff.state == HandoffState.PENDING.value,
            Handoff.escalated_at.is_(None),
            Handoff.due_at.is_not(None),
            Handoff.due_at < now,
        )
        .values(escalated_at=now, escalated_to_id=_escalate_to(session))
        .returning(Handoff.id, Handoff.contact_id, Handoff.escalated_to_id, Handoff.owner_id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return Escalation([], [])
    event_ids = store_known(
        session,
        [
            EventInput(
                ESCALATED,
                now,
                {"handoff_id": hid, "escalated_to_id": to_id, "owner_id": owner_id},
                f"{ESCALATED}:{hid}:{now.isoformat()}",
                contact_id=contact_id,
            )
            for hid, contact_id, to_id, owner_id in claimed
        ],
        source="handoffs",
    )
    for hid, _, to_id, owner_id in claimed:
        audit.record(
            session,
            actor="system",
            action="handoff.escalated",
            entity_type="handoff",
            entity_id=hid,
            changes={"escalated_to_id": to_id, "owner_id": owner_id},
        )
    return Escalation(sorted(int(row[0]) for row in claimed), event_ids)


def _escalate_to(session: Session) -> ColumnElement[Any]:
    """A SQL expression, correlated to the hand-off row, naming who gets the alert."""
    settings = settings_row(session)
    fallback = settings.fallback_owner_id
    if fallback is not None:
        active = session.scalar(
            select(User.id).where(User.id == fallback, User.is_active.is_(True))
        )
        fallback = active
    if fallback is None:
        fallback = session.scalar(
            select(func.min(User.id)).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        )
    lead = User.__table__.alias("team_lead")
    of_team = (
        select(SalesTeam.lead_id)
        .join(lead, lead.c.id == SalesTeam.lead_id)
        .where(SalesTeam.id == Handoff.team_id, lead.c.is_active.is_(True))
        .scalar_subquery()
    )
    # A hand-off routed to one rep has no team: the lead of a team the owner is in.
    of_owner = (
        select(func.min(SalesTeam.lead_id))
        .join(SalesTeamMember, SalesTeamMember.team_id == SalesTeam.id)
        .join(lead, lead.c.id == SalesTeam.lead_id)
        .where(SalesTeamMember.user_id == Handoff.owner_id, lead.c.is_active.is_(True))
        .scalar_subquery()
    )
    # A lead who owns the hand-off is not alerted about themselves.
    return func.coalesce(
        func.nullif(of_team, Handoff.owner_id),
        func.nullif(of_owner, Handoff.owner_id),
        literal(fallback, type_=Handoff.escalated_to_id.type),
    )
