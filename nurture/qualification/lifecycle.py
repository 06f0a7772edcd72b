"""Lifecycle stages: the one way a contact moves between them.

Every move is a `lifecycle_changes` row (the funnel report reads these), a
`lifecycle.changed` event (segments, sequence triggers and goals, webhooks see it),
an audit entry, and an immediate exit from sequences whose goal is the new stage.
Moving back down the funnel (an SQL recycled to lead, a customer lost) needs a reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.sequences.lifecycle_goals import exit_on_stage
from nurture import audit
from nurture.errors import InvalidInput, NotFound
from nurture.events import EventInput, store_known
from nurture.models import Contact, LifecycleChange, LifecycleStage

LIFECYCLE_CHANGED = "lifecycle.changed"
# The funnel, in order; a move to an earlier stage is a move back.
FUNNEL = (
    LifecycleStage.SUBSCRIBER.value,
    LifecycleStage.LEAD.value,
    LifecycleStage.MQL.value,
    LifecycleStage.SQL.value,
    LifecycleStage.OPPORTUNITY.value,
    LifecycleStage.CUSTOMER.value,
)
STAGES = tuple(stage.value for stage in LifecycleStage)
MAX_REASON = 500


def is_backwards(from_stage: str | None, to_stage: str) -> bool:
    """Whether the move goes down the funnel (former customer and other are off it)."""
    if from_stage not in FUNNEL or to_stage not in FUNNEL:
        return False
    return FUNNEL.index(to_stage) < FUNNEL.index(from_stage)


def change_stage(
    session: Session,
    contact_id: int,
    to_stage: str,
    *,
    reason: str,
    source: str,
    now: datetime,
    user_id: int | None = None,
    actor: str = "system",
) -> list[int]:
    """Move one contact to `to_stage`; the ids of the events stored (none if it was there).

    A compare-and-set on the stage read, so of two movers racing exactly one records
    the change; the other finds the contact already moved and records nothing. The
    caller commits and hands the returned events to the workers.
    """
    if to_stage not in STAGES:
        raise InvalidInput.single("stage", f"must be one of {', '.join(STAGES)}")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput.single("reason", f"must be at most {MAX_REASON} characters")
    row = session.execute(
        select(Contact.lifecycle_stage, Contact.erased_at).where(Contact.id == contact_id)
    ).one_or_none()
    if row is None or row.erased_at is not None:
        raise NotFound("contact", contact_id)
    from_stage = row.lifecycle_stage
    if from_stage == to_stage:
        return []
    if is_backwards(from_stage, to_stage) and not reason:
        raise InvalidInput.single(
            "reason", f"is needed to move a contact back from {from_stage} to {to_stage}"
        )
    moved = session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.lifecycle_stage == from_stage)
        .values(lifecycle_stage=to_stage)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(moved, "rowcount", 0) or 0) != 1:
        return []
    change = LifecycleChange(
        contact_id=contact_id,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        source=source,
        changed_by_id=user_id,
        occurred_at=now,
    )
    session.add(change)
    session.flush()
    properties = {"from": from_stage, "to": to_stage, "reason": reason, "source": source}
    stored = store_known(
        session,
        [
            EventInput(
                LIFECYCLE_CHANGED,
                now,
                properties,
                f"{LIFECYCLE_CHANGED}:{change.id}",
                contact_id=contact_id,
            )
        ],
        source="lifecycle",
    )
    audit.record(
        session,
        actor=actor,
        action="contact.lifecycle_changed",
        entity_type="contact",
        entity_id=contact_id,
        changes={"lifecycle_stage": [from_stage, to_stage], "reason": reason},
    )
    exit_on_stage(session, [contact_id], to_stage, now=now)
    return stored


def history(session: Session, contact_id: int) -> list[LifecycleChange]:
    """A contact's moves, oldest first."""
    return list(
        session.scalars(
            select(LifecycleChange)
            .where(LifecycleChange.contact_id == contact_id)
            .order_by(LifecycleChange.occurred_at, LifecycleChange.id)
        )
    )
