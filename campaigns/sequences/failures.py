"""What "failed" means in a sequence, once, for the sequence list and the step table.

A failure is one person at one step where either the step's e-mail ended failed (its
message's status now, not the status it had when the step ran: a deferred send that
later gave up counts) or the engine stopped the enrolment there (enrolment state
`failed`). The list's Failed column is the sum of the steps' failed counts.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, union
from sqlalchemy.orm import Session

from nurture.models import EmailMessage, Enrolment, EnrolmentState, MessageStatus, StepRun

FAILED = "failed"


def message_of_run() -> ColumnElement[bool]:
    """The join condition of a step run to the message it sent (steps keep its id)."""
    joined: ColumnElement[bool] = EmailMessage.id == StepRun.detail["message_id"].as_integer()
    return joined


def run_outcome() -> ColumnElement[Any]:
    """A step run's outcome as it stands: its message's status when it sent one."""
    return func.coalesce(EmailMessage.status, StepRun.outcome)


def _failures(scope: ColumnElement[bool]) -> Select[Any]:
    """(sequence id, enrolment id, step key) of every failure within `scope` (a condition on
    Enrolment); a person failing twice at one step counts once."""
    by_run = (
        select(
            Enrolment.sequence_id.label("sequence_id"),
            Enrolment.id.label("enrolment_id"),
            StepRun.step_key.label("step_key"),
        )
        .join(StepRun, StepRun.enrolment_id == Enrolment.id)
        .join(EmailMessage, message_of_run(), isouter=True)
        .where(scope, run_outcome() == MessageStatus.FAILED.value)
    )
    by_state = select(
        Enrolment.sequence_id.label("sequence_id"),
        Enrolment.id.label("enrolment_id"),
        Enrolment.step_key.label("step_key"),
    ).where(
        and_(
            scope,
            Enrolment.state == EnrolmentState.FAILED.value,
            Enrolment.step_key.is_not(None),
        )
    )
    return select(union(by_run, by_state).subquery())


def failed_by_step(session: Session, sequence_id: int) -> dict[str, int]:
    """Step key -> failures at that step, over every version (steps nobody failed at are
    left out)."""
    failures = _failures(Enrolment.sequence_id == sequence_id).subquery()
    rows = session.execute(select(failures.c.step_key, func.count()).group_by(failures.c.step_key))
    return {str(key): int(number) for key, number in rows}


def failed_by_sequence(session: Session, sequence_ids: Seq[int]) -> dict[int, int]:
    """Sequence id -> failures at all its steps (sequences without any are left out)."""
    if not sequence_ids:
        return {}
    failures = _failures(Enrolment.sequence_id.in_(sequence_ids)).subquery()
    rows = session.execute(
        select(failures.c.sequence_id, func.count()).group_by(failures.c.sequence_id)
    )
    return {int(sequence_id): int(number) for sequence_id, number in rows}
