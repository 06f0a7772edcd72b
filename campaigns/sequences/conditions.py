"""What happened since enrolment: exit goals and branch conditions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from campaigns.sequences.definition import Flow
from nurture.contacts.addresses import email_hash
from nurture.models import (
    Contact,
    EmailMessage,
    Enrolment,
    Event,
    SegmentMember,
    Suppression,
    Task,
)
from nurture.sqlsets import among


def effect_key(enrolment_id: int, step_key: str) -> str:
    """The idempotency key of a step's outward effect: the same on every attempt."""
    return f"seq:{enrolment_id}:{step_key}"


@dataclass(frozen=True, slots=True)
class Walker:
    """What the exit checks read of one enrolment and its contact."""

    enrolment_id: int
    contact_id: int
    enrolled_at: datetime
    email: str | None
    erased: bool
    lifecycle_stage: str


def exit_reason(session: Session, enrolment: Enrolment, contact: Contact, flow: Flow) -> str | None:
    """Why the enrolment must leave now (a goal reached, suppressed, erased), or None."""
    walker = Walker(
        enrolment.id,
        contact.id,
        enrolment.enrolled_at,
        contact.email,
        contact.erased_at is not None,
        contact.lifecycle_stage,
    )
    return exit_reasons(session, [walker], flow).get(enrolment.id)


def exit_reasons(session: Session, walkers: Sequence[Walker], flow: Flow) -> dict[int, str]:
    """Enrolment id -> why it must leave now, for those that must; set-based (a batch of
    steps asks for hundreds at once).

    In this order: erased, suppressed, the flow's goals in their order (a lifecycle
    stage, or an event since enrolment), then a reply since enrolment: a reply stops
    every sequence (campaigns.email.replies exits the rows at once); this also catches
    one recorded through the events API, or racing a new enrolment.
    """
    if not walkers:
        return {}
    hashes = {w.contact_id: email_hash(w.email) for w in walkers if w.email is not None}
    suppressed = (
        set(
            session.scalars(
                select(Suppression.email_hash).where(
                    among(session, Suppression.email_hash, set(hashes.values()))
                )
            )
        )
        if hashes
        else set()
    )
    kinds = {str(goal["event"]) for goal in flow.goals if "event" in goal} | {"email.replied"}
    latest: dict[tuple[int, str], datetime] = {}
    for contact_id, kind, last in session.execute(
        select(Event.contact_id, Event.type, func.max(Event.occurred_at))
        .where(
            among(session, Event.contact_id, {w.contact_id for w in walkers}, integers=True),
            Event.type.in_(sorted(kinds)),
        )
        .group_by(Event.contact_id, Event.type)
    ):
        if last is not None:
            latest[(contact_id, kind)] = last

    def since_enrolment(walker: Walker, kind: str) -> bool:
        last = latest.get((walker.contact_id, kind))
        return last is not None and last >= walker.enrolled_at

    reasons: dict[int, str] = {}
    for walker in walkers:
        reason = None
        if walker.erased:
            reason = "erased"
        elif hashes.get(walker.contact_id) in suppressed:
            reason = "suppressed"
        else:
            for goal in flow.goals:
                if "lifecycle" in goal and walker.lifecycle_stage in goal["lifecycle"]:
                    reason = f"goal:lifecycle:{walker.lifecycle_stage}"
                    break
                if "event" in goal and since_enrolment(walker, goal["event"]):
                    reason = f"goal:{goal['event']}"
                    break
            else:
                if since_enrolment(walker, "email.replied"):
                    reason = "replied"
        if reason is not None:
            reasons[walker.enrolment_id] = reason
    return reasons


def branch_holds(session: Session, enrolment: Enrolment, condition: Mapping[str, Any]) -> bool:
    """Evaluate a branch condition for this enrolment (see definition.check_condition):
    one test, or an any/all group of them. A group stops at the first test that decides
    it, so a contact who opened is not also looked up for a click."""
    if "any" in condition:
        return any(branch_holds(session, enrolment, test) for test in condition["any"])
    if "all" in condition:
        return all(branch_holds(session, enrolment, test) for test in condition["all"])
    return _test_holds(session, enrolment, condition)


def _test_holds(session: Session, enrolment: Enrolment, condition: Mapping[str, Any]) -> bool:
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
    where = condition.get("where")
    if step is None and where is None:
        return _had_event(session, enrolment, condition["event"])
    # Without a step, only the latest event matters to `where`.
    latest_only = 1 if step is None else None
    events = _event_properties(session, enrolment, condition["event"], limit=latest_only)
    if step is not None:
        message_id = session.scalar(
            select(EmailMessage.id).where(
                EmailMessage.idempotency_key == effect_key(enrolment.id, step)
            )
        )
        if message_id is None:
            return False
        events = [props for props in events if props.get("message_id") == message_id]
    if where is None:
        return bool(events)
    # Answers can change (a new score, a status moving on): the latest one counts.
    return bool(events) and properties_match(events[0], where)


def properties_match(properties: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    """Whether every property named in `where` holds its value or one of its list's.

    True and 1 are different answers here, though Python holds them equal.
    """
    for name, wanted in where.items():
        if name not in properties:
            return False
        actual = properties[name]
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(
            isinstance(option, bool) == isinstance(actual, bool) and option == actual
            for option in options
        ):
            return False
    return True


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


def _event_properties(
    session: Session, enrolment: Enrolment, kind: str, *, limit: int | None = None
) -> list[Mapping[str, Any]]:
    """The properties of this type's events since enrolment, the latest first.

    Few events per contact and type: reading them beats a JSON query per dialect.
    """
    return list(
        session.scalars(
            select(Event.properties)
            .where(
                Event.contact_id == enrolment.contact_id,
                Event.type == kind,
                Event.occurred_at >= enrolment.enrolled_at,
            )
            .order_by(Event.occurred_at.desc(), Event.id.desc())
            .limit(limit)
        )
    )
