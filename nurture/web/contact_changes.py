"""What follows an edit of a contact's fields through the API or a page.

Fit rules and segment rules read the fields (title, company, attributes), so an edit
re-checks the contact's dynamic segments, recomputes its score and grade at once rather
than at the next daily rescore, and qualifies it if it now matches the MQL rule. The
events this writes (segment entered/exited, lifecycle.changed, lead.qualified) reach the
workers after the commit, and the rep of a new hand-off is e-mailed then too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from nurture import contacts
from nurture.models import Contact, utcnow
from nurture.qualification.lifecycle import change_stage
from nurture.qualification.qualify import check_contacts as qualify
from nurture.scoring.engine import rescore_contacts
from segments import membership
from workers.actors import hand_over
from workers.handoffs import notify_after_commit

if TYPE_CHECKING:
    from nurture.web.auth import Principal


def after_contact_change(session: Session, contact_ids: Sequence[int]) -> None:
    """Re-check segments, score, grade and qualification of these edited contacts."""
    now = utcnow()
    changes = membership.check_contacts(session, contact_ids, now=now)
    rescored = rescore_contacts(session, contact_ids, now=now)
    qualified = qualify(session, rescored, now=now)
    notify_after_commit(session, qualified.handoff_ids)
    hand_over(session, [*(i for c in changes for i in c.event_ids), *qualified.event_ids])


def update_with_stage(
    session: Session,
    contact_id: int,
    fields: Mapping[str, object],
    principal: Principal,
    *,
    reason: str,
    source: str,
) -> Contact:
    """Store an edit of a contact's fields; a new `lifecycle_stage` goes through the
    lifecycle's `change_stage` like every other move (its history row, the
    `lifecycle.changed` event for triggers, goals and webhooks, the audit entry), never
    as a plain field write. InvalidInput as usual (`reason` when moving back down)."""
    rest = dict(fields)
    stage = rest.pop("lifecycle_stage", None)
    contact = contacts.update_contact(session, contact_id, rest, actor=principal.actor)
    if not isinstance(stage, str) or not stage:
        return contact
    event_ids = change_stage(
        session,
        contact_id,
        stage,
        reason=reason,
        source=source,
        now=utcnow(),
        user_id=principal.id if principal.kind == "user" else None,
        actor=principal.actor,
    )
    # change_stage moves the row in SQL; what reads the contact next must see the new stage.
    session.expire(contact, ["lifecycle_stage"])
    hand_over(session, event_ids)
    return contact
