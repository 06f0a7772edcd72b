"""Pause, resume and stop: per sequence and per enrolment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from campaigns.sequences.versions import get_sequence
from nurture.errors import Conflict, NotFound
from nurture.models import (
    LIVE_ENROLMENT_STATES,
    Enrolment,
    EnrolmentState,
    Sequence,
    SequenceStatus,
)

STOPPED = "stopped"


def resume_sequence(session: Session, sequence_id: int) -> Sequence:
    """Let the scheduler claim a paused sequence's enrolments again."""
    sequence = get_sequence(session, sequence_id, lock=True)
    if sequence.status != SequenceStatus.PAUSED.value:
        raise Conflict(f"only a paused sequence can be resumed (it is {sequence.status})")
    sequence.status = SequenceStatus.ACTIVE.value
    return sequence


def stop_sequence(session: Session, sequence_id: int, *, now: datetime) -> int:
    """Stop for good: every live enrolment exits with reason `stopped`; answers how many."""
    sequence = get_sequence(session, sequence_id, lock=True)
    sequence.status = SequenceStatus.STOPPED.value
    return exit_live_enrolments(
        session, Enrolment.sequence_id == sequence_id, reason=STOPPED, now=now
    )


def exit_live_enrolments(
    session: Session, which: ColumnElement[bool], *, reason: str, now: datetime
) -> int:
    """Exit every live (active or paused) enrolment matching `which`; answers how many.

    The engine moves an enrolment only by a compare-and-set on `state = active`, so
    a step already running for one changes nothing once its row has exited.
    """
    result = session.execute(
        update(Enrolment)
        .where(which, Enrolment.state.in_(LIVE_ENROLMENT_STATES))
        .values(
            state=EnrolmentState.EXITED.value,
            exit_reason=reason,
            finished_at=now,
            next_run_at=None,
            claim_token=None,
            claimed_until=None,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def pause_enrolment(session: Session, enrolment_id: int) -> Enrolment:
    enrolment = _live(session, enrolment_id)
    enrolment.state = EnrolmentState.PAUSED.value
    return enrolment


def resume_enrolment(session: Session, enrolment_id: int, *, now: datetime) -> Enrolment:
    """Continue a paused enrolment; a step that fell due while paused runs at once."""
    enrolment = _live(session, enrolment_id)
    if enrolment.state != EnrolmentState.PAUSED.value:
        raise Conflict("only a paused enrolment can be resumed")
    enrolment.state = EnrolmentState.ACTIVE.value
    if enrolment.next_run_at is None or enrolment.next_run_at < now:
        enrolment.next_run_at = now
    return enrolment


def stop_enrolment(session: Session, enrolment_id: int, *, now: datetime) -> Enrolment:
    enrolment = _live(session, enrolment_id)
    enrolment.state = EnrolmentState.EXITED.value
    enrolment.exit_reason = STOPPED
    enrolment.finished_at = now
    enrolment.next_run_at = None
    enrolment.claim_token = None
    enrolment.claimed_until = None
    return enrolment


def _live(session: Session, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id, with_for_update=True)
    if enrolment is None:
        raise NotFound("enrolment", enrolment_id)
    if enrolment.state not in LIVE_ENROLMENT_STATES:
        raise Conflict(f"the enrolment has ended ({enrolment.state})")
    return enrolment
