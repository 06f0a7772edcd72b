"""E-mails about hand-offs: the rep hears of a new lead, the team lead of a missed SLA.

Both use the starter `lead_handoff` template (internal: no unsubscribe link, no
suppression check), loaded into the template store the first time it is needed, so a
marketer can reword it under Content. Each e-mail has an idempotency key recorded
before it is sent (`handoff:<id>:notify:<owner>`, `handoff:<id>:escalated:<lead>`):
a retried actor, a second sweep or a redelivered message finds the key done and
sends nothing again. `notified_at` is set once the rep's message is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.content.registrations import starter_template_id
from campaigns.delivery.transport import Transport
from campaigns.email import pipeline
from campaigns.email.mailconfig import MailConfig
from nurture.models import Company, Contact, Handoff, HandoffState, SalesRep, User
from nurture.qualification.inbox import settings_row
from nurture.qualification.inbox_summary import summary_view
from templates.context import contact_view, rep_view
from templates.message import Address
from templates.requirements import register_sender

TEMPLATE = "lead_handoff"
register_sender("handoff.notice", "the lead hand-off notice", {"lead", "handoff"})
_PENDING = HandoffState.PENDING.value


def notify_key(handoff_id: int, owner_id: int) -> str:
    return f"handoff:{handoff_id}:notify:{owner_id}"


def escalation_key(handoff_id: int, lead_id: int) -> str:
    return f"handoff:{handoff_id}:escalated:{lead_id}"


def notify_handoffs(
    session: Session,
    handoff_ids: list[int],
    *,
    now: datetime,
    transport: Transport,
    config: MailConfig,
) -> list[int]:
    """E-mail each pending, not yet notified hand-off's owner; the ids notified now.

    Commits as it goes (a message is recorded before it is sent).
    """
    if not handoff_ids:
        return []
    rows = session.execute(
        select(Handoff, User)
        .join(User, User.id == Handoff.owner_id)
        .where(
            Handoff.id.in_(handoff_ids),
            Handoff.state == _PENDING,
            Handoff.notified_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(Handoff.id)
    ).all()
    if not rows:
        return []
    template_id = starter_template_id(session, TEMPLATE)
    done: list[int] = []
    for handoff, owner in rows:
        context = _context(session, handoff, owner, config)
        pipeline.send_internal(
            session,
            template_id,
            to=Address(owner.email, owner.name or None),
            context=context,
            idempotency_key=notify_key(handoff.id, owner.id),
            transport=transport,
            config=config,
        )
        session.execute(
            update(Handoff)
            .where(
                Handoff.id == handoff.id,
                Handoff.owner_id == owner.id,
                Handoff.notified_at.is_(None),
            )
            .values(notified_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        done.append(handoff.id)
    return done


def notify_escalations(
    session: Session,
    handoff_ids: list[int],
    *,
    transport: Transport,
    config: MailConfig,
) -> list[int]:
    """E-mail whoever each escalated, still pending hand-off went to; the ids alerted
    (a repeat finds the key done and sends nothing)."""
    if not handoff_ids:
        return []
    rows = session.execute(
        select(Handoff, User)
        .join(User, User.id == Handoff.escalated_to_id)
        .where(
            Handoff.id.in_(handoff_ids),
            Handoff.state == _PENDING,
            Handoff.escalated_at.is_not(None),
            User.is_active.is_(True),
        )
        .order_by(Handoff.id)
    ).all()
    if not rows:
        return []
    template_id = starter_template_id(session, TEMPLATE)
    done: list[int] = []
    for handoff, lead in rows:
        owner = session.get(User, handoff.owner_id) if handoff.owner_id else None
        context = _context(session, handoff, lead, config)
        who = "nobody" if owner is None else (owner.name or owner.email)
        due = "" if handoff.due_at is None else f" (due {_local(handoff.due_at, 'UTC')})"
        context["handoff"]["reasons"] = [
            f"Escalated to you: {who} has not accepted or rejected this lead within "
            f"the SLA{due}. You can reassign it from the sales inbox.",
            *context["handoff"]["reasons"],
        ]
        context["handoff"]["respond_by"] = "now"
        pipeline.send_internal(
            session,
            template_id,
            to=Address(lead.email, lead.name or None),
            context=context,
            idempotency_key=escalation_key(handoff.id, lead.id),
            transport=transport,
            config=config,
        )
        session.commit()
        done.append(handoff.id)
    return done


def unnotified(session: Session, *, older_than: datetime, limit: int = 200) -> list[int]:
    """Pending hand-offs created before `older_than` whose owner was never e-mailed
    (the message after qualification was lost): the sweep sends them again."""
    # Owners who were deactivated are left out: they would be picked again every sweep.
    return list(
        session.scalars(
            select(Handoff.id)
            .join(User, User.id == Handoff.owner_id)
            .where(
                Handoff.state == _PENDING,
                Handoff.notified_at.is_(None),
                Handoff.created_at < older_than,
                User.is_active.is_(True),
            )
            .order_by(Handoff.id)
            .limit(limit)
        )
    )


def recently_escalated(session: Session, *, since: datetime, limit: int = 200) -> list[int]:
    """Pending hand-offs escalated after `since`: the sweep re-sends their alerts (the
    idempotency key makes that a no-op unless the first send was lost)."""
    return list(
        session.scalars(
            select(Handoff.id)
            .where(Handoff.state == _PENDING, Handoff.escalated_at >= since)
            .order_by(Handoff.id)
            .limit(limit)
        )
    )


def _context(
    session: Session, handoff: Handoff, recipient: User, config: MailConfig
) -> dict[str, Any]:
    contact = session.get(Contact, handoff.contact_id)
    company = None
    if contact is not None and contact.company_id is not None:
        company = session.get(Company, contact.company_id)
    view = summary_view(handoff.summary)
    lead = contact_view(
        email=(contact.email if contact else None) or "",
        first_name=contact.first_name if contact else None,
        last_name=contact.last_name if contact else None,
        title=contact.title if contact else None,
        company_name=company.name if company else view.company.get("name"),
        company_industry=company.industry if company else view.company.get("industry"),
    )
    lead["phone"] = contact.phone if contact else None
    zone = session.scalar(select(SalesRep.time_zone).where(SalesRep.user_id == recipient.id))
    zone = zone or settings_row(session).default_time_zone
    page = f"{config.base_url}/inbox/{handoff.id}"
    return {
        "lead": lead,
        "rep": rep_view(name=recipient.name or recipient.email, email=recipient.email),
        "handoff": {
            "score": view.score if view.score is not None else "",
            "threshold": view.threshold,
            "reasons": view.why or ["It matched the qualification rule."],
            "activities": [{"when": a.when, "what": a.what} for a in view.activities],
            "respond_by": "soon" if handoff.due_at is None else _local(handoff.due_at, zone),
            "accept_url": f"{page}#accept",
            "reject_url": f"{page}#reject",
            "lead_url": f"{config.base_url}/contacts/{handoff.contact_id}",
        },
    }


def _local(when: datetime, zone: str) -> str:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return f"{aware.astimezone(tz):%A, %d %B, %H:%M} ({zone})"
