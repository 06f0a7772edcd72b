"""Leave sequences at once when a contact reaches a lifecycle stage that is one of their goals.

The step runner also checks lifecycle goals, but only when an enrolment's next step
is due, which may be weeks away in a nurture sequence; a qualified lead must stop
getting nurture e-mail now, so qualification calls this in its own transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.control import exit_live_enrolments
from campaigns.sequences.versions import flow_of
from nurture.models import LIVE_ENROLMENT_STATES, Enrolment


def exit_on_stage(
    session: Session, contact_ids: Collection[int], stage: str, *, now: datetime
) -> int:
    """Exit the live enrolments of these contacts whose sequence version has a lifecycle
    goal naming `stage`, with the step runner's reason (`goal:lifecycle:<stage>`);
    answers how many left."""
    if not contact_ids:
        return 0
    versions = set(
        session.scalars(
            select(Enrolment.version_id)
            .where(
                Enrolment.contact_id.in_(list(contact_ids)),
                Enrolment.state.in_(LIVE_ENROLMENT_STATES),
            )
            .distinct()
        )
    )
    goal_versions = [
        version_id
        for version_id in sorted(versions)
        if any(stage in goal.get("lifecycle", ()) for goal in flow_of(session, version_id).goals)
    ]
    if not goal_versions:
        return 0
    return exit_live_enrolments(
        session,
        Enrolment.contact_id.in_(list(contact_ids)) & Enrolment.version_id.in_(goal_versions),
        reason=f"goal:lifecycle:{stage}",
        now=now,
    )
