"""Sequence test builders: a sequence from steps, enrolments, a driver of due steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import versions
from campaigns.sequences.engine import Limits, Mailer, StepResult, Verdict, run_step
from campaigns.sequences.enrol import enrol_contacts
from nurture.models import CapturedEmail, Enrolment, StepRun


def make_sequence(db: Session, steps: list[dict[str, Any]], **settings: Any) -> int:
    """An active sequence with these steps (and top-level settings such as goals)."""
    sequence = versions.create_sequence(
        db, name="Nurture", steps_definition={"steps": steps, **settings}
    )
    versions.activate(db, sequence.id)
    db.commit()
    return sequence.id


def enrol(db: Session, sequence_id: int, contact_id: int, now: datetime) -> int:
    result = enrol_contacts(db, sequence_id, [contact_id], now=now)
    db.commit()
    assert result.enrolled == [contact_id], result.skipped
    return enrolment_of(db, sequence_id, contact_id).id


def enrolment_of(db: Session, sequence_id: int, contact_id: int) -> Enrolment:
    return db.scalars(
        select(Enrolment)
        .where(Enrolment.sequence_id == sequence_id, Enrolment.contact_id == contact_id)
        .execution_options(populate_existing=True)
    ).one()


def reload(db: Session, enrolment_id: int) -> Enrolment:
    enrolment = db.get(Enrolment, enrolment_id, populate_existing=True)
    assert enrolment is not None
    return enrolment


def drive(
    db: Session,
    enrolment_id: int,
    now: datetime,
    mailer: Mailer,
    limits: Limits | None = None,
) -> list[StepResult]:
    """Run every step due at `now`, as the scheduler and actors would, one by one."""
    results: list[StepResult] = []
    for _ in range(50):
        enrolment = reload(db, enrolment_id)
        if enrolment.step_key is None:
            break
        result = run_step(
            db, enrolment_id, enrolment.step_key, now=now, mailer=mailer, limits=limits
        )
        results.append(result)
        if result.verdict is not Verdict.ADVANCED:
            break
    return results


def outcomes(db: Session, enrolment_id: int) -> dict[str, str | None]:
    rows = db.execute(
        select(StepRun.step_key, StepRun.outcome)
        .where(StepRun.enrolment_id == enrolment_id)
        .execution_options(populate_existing=True)
    )
    return {key: outcome for key, outcome in rows}


def captured_count(db: Session) -> int:
    return len(db.scalars(select(CapturedEmail.id)).all())
