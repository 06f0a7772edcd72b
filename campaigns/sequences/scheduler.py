"""Claim due enrolments in batches, so each due step is handed to exactly one message.

A SELECT picks a batch of due rows and an UPDATE marks them with a fresh claim
token and a lease. On PostgreSQL the SELECT locks its rows `FOR UPDATE SKIP
LOCKED`, so concurrent claimers take disjoint batches without waiting; SQLite
has no row locks, so the UPDATE repeats the claim condition and answers, with
RETURNING, only the rows it changed (SQLite runs one writer at a time). A claimed enrolment is
not claimed again until its lease runs out: if the message was lost, the next
claim after the lease finds it; if it was merely slow, the engine's
compare-and-set makes the second run a no-op.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.orm import Session

from nurture.models import Enrolment, EnrolmentState, Sequence, SequenceStatus
from nurture.sqlsets import among

DEFAULT_BATCH = 500
DEFAULT_LEASE = timedelta(minutes=10)


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
) -> list[tuple[int, str]]:
    """Claim up to `limit` due enrolments of active sequences; answers (id, step key) pairs.

    The caller commits (the claim holds once committed).
    """
    due = (
        select(Enrolment.id)
        .join(Sequence, Sequence.id == Enrolment.sequence_id)
        .where(_claimable(now), Sequence.status == SequenceStatus.ACTIVE.value)
        .order_by(Enrolment.next_run_at)
        .limit(limit)
        .with_for_update(of=Enrolment, skip_locked=True)
    )
    return _claim(session, due, now=now, lease=lease)


def claim_ids(
    session: Session, enrolment_ids: list[int], *, now: datetime, lease: timedelta = DEFAULT_LEASE
) -> list[tuple[int, str]]:
    """Claim those of these enrolments that are due and unclaimed (a worker going straight
    on to the next step of what it just ran); answers (id, step key) pairs. The caller
    commits."""
    if not enrolment_ids:
        return []
    mine = (
        select(Enrolment.id)
        .where(among(session, Enrolment.id, enrolment_ids, integers=True), _claimable(now))
        .order_by(Enrolment.id)
        .with_for_update(skip_locked=True)
    )
    return _claim(session, mine, now=now, lease=lease)


def release(session: Session, enrolment_ids: list[int]) -> int:
    """Drop the claims on these enrolments so the next tick claims them at once; answers how
    many were claimed. The caller commits.

    For a claimed step whose message never reached the queue (the broker refused it):
    without this it would wait out its lease. Clearing a claim that someone else took
    meanwhile is harmless: the step is sent once more and its second run is a no-op.
    """
    if not enrolment_ids:
        return 0
    result = session.execute(
        update(Enrolment)
        .where(
            Enrolment.id.in_(enrolment_ids),
            Enrolment.state == EnrolmentState.ACTIVE.value,
            Enrolment.claim_token.is_not(None),
        )
        .values(claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return (
        (Enrolment.state == EnrolmentState.ACTIVE.value)
        & (Enrolment.next_run_at <= now)
        & or_(Enrolment.claimed_until.is_(None), Enrolment.claimed_until < now)
    )


def _claim(
    session: Session, candidates: Select[Any], *, now: datetime, lease: timedelta
) -> list[tuple[int, str]]:
    # Two statements, not `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE)`:
    # PostgreSQL may re-run such a subquery while updating and claim more than n rows.
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    token = secrets.token_hex(16)
    rows = session.execute(
        update(Enrolment)
        # The claim condition again: on SQLite another claimer may have taken a row
        # between the two statements (PostgreSQL holds the row locks), so it is skipped.
        .where(among(session, Enrolment.id, ids, integers=True), _claimable(now))
        .values(claim_token=token, claimed_until=now + lease)
        .returning(Enrolment.id, Enrolment.step_key)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((int(row[0]), str(row[1])) for row in rows)
