"""What follows an edit of a contact's fields through the API or a page.

Fit rules and segment rules read the fields (title, company, attributes), so an edit
re-checks the contact's dynamic segments, recomputes its score and grade at once rather
than at the next daily rescore, and qualifies it if it now matches the MQL rule. The
events this writes (segment entered/exited, lifecycle.changed, lead.qualified) reach the
workers after the commit, and the rep of a new hand-off is e-mailed then too.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from nurture.models import utcnow
from nurture.qualification.qualify import check_contacts as qualify
from nurture.scoring.engine import rescore_contacts
from segments import membership
from workers.actors import hand_over
from workers.handoffs import notify_after_commit


def after_contact_change(session: Session, contact_ids: Sequence[int]) -> None:
    """Re-check segments, score, grade and qualification of these edited contacts."""
    now = utcnow()
    changes = membership.check_contacts(session, contact_ids, now=now)
    rescored = rescore_contacts(session, contact_ids, now=now)
    qualified = qualify(session, rescored, now=now)
    notify_after_commit(session, qualified.handoff_ids)
    hand_over(session, [*(i for c in changes for i in c.event_ids), *qualified.event_ids])
