"""Putting contacts into a sequence: by id (manual, API) or when a trigger event happens.

Set-based: a handful of statements per call whatever the number of contacts.
Excluded are erased and suppressed contacts, customers (unless the sequence
says otherwise), contacts already in the sequence, under the `never`
re-enrolment policy anyone who was ever in it, and contacts live in another
sequence of the same `goal_group` (active or paused: a paused sequence still
holds its people and will go on mailing them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from campaigns.sequences.definition import Flow
from campaigns.sequences.triggers import matches
from campaigns.sequences.versions import current_version, flow_of, get_sequence
from nurture.contacts.addresses import email_hash
from nurture.errors import Conflict, InvalidInput
from nurture.models import (
    LIVE_ENROLMENT_STATES,
    Contact,
    Enrolment,
    EnrolmentState,
    Event,
    LifecycleStage,
    Sequence,
    SequenceStatus,
    Suppression,
)

_RUNNING = (SequenceStatus.ACTIVE.value, SequenceStatus.PAUSED.value)
_CHUNK = 1000
# The first key of the advisory locks that serialise enrolment per goal group.
_GOAL_GROUP_LOCKS = 5_050_001


@dataclass(slots=True)
class EnrolResult:
    enrolled: list[int] = field(default_factory=list)
    # contact id -> why not: missing, erased, suppressed, customer, enrolled,
    # enrolled_before, same_goal
    skipped: dict[int, str] = field(default_factory=dict)


def enrol_contacts(
    session: Session, sequence_id: int, contact_ids: Iterable[int], *, now: datetime
) -> EnrolResult:
    """Enrol these contacts in the sequence's current version, due at once; the caller commits.

    Conflict when the sequence is a draft or stopped.
    """
    target = _target(session, sequence_id)
    wanted = sorted(set(contact_ids))
    result = EnrolResult()
    if target.flow.goal_group is not None:
        _lock_goal_group(session, target.flow.goal_group)
    rivals = _same_goal_sequences(session, sequence_id, target.flow.goal_group)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        reasons = _screen(session, target, rivals, chunk)
        result.skipped.update(reasons)
        fresh = [cid for cid in chunk if cid not in reasons]
        if fresh and target.flow.first is not None:
            session.execute(
                insert(Enrolment),
                [
                    {
                        "sequence_id": sequence_id,
                        "version_id": target.version_id,
                        "contact_id": cid,
                        "state": EnrolmentState.ACTIVE.value,
                        "step_key": target.flow.first,
                        "next_run_at": now,
                        "enrolled_at": now,
                    }
                    for cid in fresh
                ],
            )
            result.enrolled.extend(fresh)
    return result


def screen_contacts(session: Session, sequence_id: int, contact_ids: Iterable[int]) -> EnrolResult:
    """Who `enrol_contacts` would take now (`enrolled`) and who it would skip and why,
    changing nothing. Conflict when the sequence is a draft or stopped."""
    target = _target(session, sequence_id)
    rivals = _same_goal_sequences(session, sequence_id, target.flow.goal_group)
    wanted = sorted(set(contact_ids))
    result = EnrolResult()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        reasons = _screen(session, target, rivals, chunk)
        result.skipped.update(reasons)
        if target.flow.first is not None:
            result.enrolled.extend(cid for cid in chunk if cid not in reasons)
    return result


@dataclass(frozen=True, slots=True)
class _Target:
    sequence: Sequence
    version_id: int
    flow: Flow


def _target(session: Session, sequence_id: int) -> _Target:
    sequence = get_sequence(session, sequence_id)
    if sequence.status not in _RUNNING:
        raise Conflict(
            f"contacts can join an active or paused sequence, not a {sequence.status} one"
        )
    version = current_version(session, sequence)
    return _Target(sequence, version.id, flow_of(session, version.id))


def _screen(
    session: Session, target: _Target, rivals: list[int], chunk: list[int]
) -> dict[int, str]:
    """Contact id -> why it cannot join, for the ids of one chunk that cannot."""
    flow = target.flow
    reasons = _exclusions(session, target.sequence, chunk, flow.reenrol, flow.exclude_customers)
    reasons.update(_in_rival_sequences(session, rivals, chunk, reasons))
    return reasons


def enrol_from_events(session: Session, event_ids: list[int], *, now: datetime) -> EnrolResult:
    """Enrol the contacts of these events in every active sequence they trigger.

    A trigger names an event type, optionally a segment id and conditions on the
    event's properties (see campaigns.sequences.triggers). The caller commits.
    """
    result = EnrolResult()
    if not event_ids:
        return result
    events = session.execute(
        select(Event.contact_id, Event.type, Event.properties).where(Event.id.in_(event_ids))
    ).all()
    types = {kind for _, kind, _ in events}
    for sequence in session.scalars(
        select(Sequence).where(Sequence.status == SequenceStatus.ACTIVE.value).order_by(Sequence.id)
    ):
        if sequence.current_version_id is None:
            raise RuntimeError(
                "sequence.current_version_id is None, but an active sequence has a current version"
            )
        triggers = flow_of(session, sequence.current_version_id).triggers
        if not triggers or not types & {t["event"] for t in triggers}:
            continue
        # The batch is at most one message's events, already in memory.
        contacts = {
            contact_id
            for contact_id, kind, properties in events
            if any(matches(trigger, kind, properties or {}) for trigger in triggers)
        }
        if contacts:
            done = enrol_contacts(session, sequence.id, contacts, now=now)
            result.enrolled.extend(done.enrolled)
            result.skipped.update(done.skipped)
    return result


def _lock_goal_group(session: Session, goal_group: str) -> None:
    """Serialise enrolments into one goal group until the caller commits.

    Without it two workers enrolling one contact into two sequences of the same group
    at the same instant could both find the other sequence empty and both insert.
    PostgreSQL: a transaction advisory lock on the group, so the second enrolment
    waits, then reads the first one's rows. SQLite has one writer at a time, and a
    transaction that read before another's commit cannot write after it (it fails
    busy and is rolled back), so nothing is enrolled twice there either.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:group))"),
        {"space": _GOAL_GROUP_LOCKS, "group": goal_group},
    )


def _same_goal_sequences(session: Session, sequence_id: int, goal_group: str | None) -> list[int]:
    """The other running sequences that declare this goal group."""
    if goal_group is None:
        return []
    rivals: list[int] = []
    for other_id, version_id in session.execute(
        select(Sequence.id, Sequence.current_version_id).where(
            Sequence.id != sequence_id, Sequence.status.in_(_RUNNING)
        )
    ):
        if version_id is None:
            continue
        try:
            other = flow_of(session, version_id)
        except InvalidInput:  # pragma: no cover - stored versions were valid when published
            continue
        if other.goal_group == goal_group:
            rivals.append(other_id)
    return rivals


def _in_rival_sequences(
    session: Session, rivals: list[int], ids: list[int], reasons: dict[int, str]
) -> dict[int, str]:
    if not rivals:
        return {}
    busy = session.scalars(
        select(Enrolment.contact_id).where(
            Enrolment.sequence_id.in_(rivals),
            Enrolment.contact_id.in_(ids),
            Enrolment.state.in_(LIVE_ENROLMENT_STATES),
        )
    )
    return {cid: "same_goal" for cid in busy if cid not in reasons}


def _exclusions(
    session: Session, sequence: Sequence, ids: list[int], reenrol: str, exclude_customers: bool
) -> dict[int, str]:
    reasons: dict[int, str] = {}
    contacts = session.execute(
        select(Contact.id, Contact.email, Contact.erased_at, Contact.lifecycle_stage).where(
            Contact.id.in_(ids)
        )
    ).all()
    found = {row[0] for row in contacts}
    reasons.update({cid: "missing" for cid in ids if cid not in found})
    hashes = {email_hash(email): cid for cid, email, _, _ in contacts if email}
    suppressed = set(
        session.scalars(select(Suppression.email_hash).where(Suppression.email_hash.in_(hashes)))
    )
    for cid, email, erased_at, stage in contacts:
        if erased_at is not None:
            reasons[cid] = "erased"
        elif email and email_hash(email) in suppressed:
            reasons[cid] = "suppressed"
        elif exclude_customers and stage == LifecycleStage.CUSTOMER.value:
            reasons[cid] = "customer"
    for cid, state in session.execute(
        select(Enrolment.contact_id, Enrolment.state).where(
            Enrolment.sequence_id == sequence.id, Enrolment.contact_id.in_(ids)
        )
    ):
        if cid in reasons:
            continue
        if state in LIVE_ENROLMENT_STATES:
            reasons[cid] = "enrolled"
        elif reenrol == "never":
            reasons[cid] = "enrolled_before"
    return reasons
