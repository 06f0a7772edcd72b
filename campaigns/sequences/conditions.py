"""What happened since enrolment: exit goals and branch conditions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from campaigns.sequences.definition import Flow
from nurture.emails import email_hash
from nurture.models import (
    Contact,
    EmailMessage,
    Enrolment,
    Event,
    SegmentMember,
    Suppression,
    Task,
)


def effect_key(enrolment_id: int, step_key: str) -> str:
    """The idempotency key of a step's outward effect: the same on every attempt."""
    return f"seq:{enrolment_id}:{step_key}"


def exit_reason(session: Session, enrolment: Enrolment, contact: Contact, flow: Flow) -> str | None:
    """Why the enrolment must leave now (a goal reached, suppressed, erased), or None."""
    if contact.erased_at is not None:
        return "erased"
    if contact.email is not None and session.scalar(
        select(exists().where(Suppression.email_hash == email_hash(contact.email)))
    ):
        return "suppressed"
    for goal in flow.goals:
        if "lifecycle" in goal and contact.lifecycle_stage in goal["lifecycle"]:
            return f"goal:lifecycle:{contact.lifecycle_stage}"
        if "event" in goal and _had_event(session, enrolment, goal["event"]):
            return f"goal:{goal['event']}"
    # A reply stops every sequence (campaigns.email.replies exits the rows at once); this
    # also catches one recorded through the events API, or racing a new enrolment.
    if _had_event(session, enrolment, "email.replied"):
        return "replied"
    return None


def branch_holds(session: Session, enrolment: Enrolment, condition: Mapping[str, Any]) -> bool:
    """Evaluate a branch condition for this enrolment (see definition.check_branch)."""
    if "segment_id" in condition:
        return bool(
            session.scalar(
                select(
                    exists().where(
                        SegmentMember.segment_id == condition["segment_id"],
                        SegmentMember.contact_id == enrolment.contact_id,
                    )
                )
            )
        )
    if "task_outcome" in condition:
        outcome = session.scalar(
            select(Task.outcome).where(
                Task.idempotency_key == effect_key(enrolment.id, condition["step"])
            )
        )
        return outcome in condition["task_outcome"]
    step = condition.get("step")
    if step is None:
        return _had_event(session, enrolment, condition["event"])
    message_id = session.scalar(
        select(EmailMessage.id).where(
            EmailMessage.idempotency_key == effect_key(enrolment.id, step)
        )
    )
    if message_id is None:
        return False
    return any(
        props.get("message_id") == message_id
        for props in _event_properties(session, enrolment, condition["event"])
    )


def event_since(session: Session, contact_id: int, kind: str, since: datetime) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Event.contact_id == contact_id, Event.type == kind, Event.occurred_at >= since
                )
            )
        )
    )


def _had_event(session: Session, enrolment: Enrolment, kind: str) -> bool:
    return event_since(session, enrolment.contact_id, kind, enrolment.enrolled_at)


def _event_properties(session: Session, enrolment: Enrolment, kind: str) -> list[Mapping[str, Any]]:
    # Few events per contact and type: reading them beats a JSON query per dialect.
    return list(
        session.scalars(
            select(Event.properties).where(
                Event.contact_id == enrolment.contact_id,
                Event.type == kind,
                Event.occurred_at >= enrolment.enrolled_at,
            )
        )
    )
