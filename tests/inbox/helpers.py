"""Hand-offs for inbox tests, inserted as qualification would leave them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from campaigns.sequences.versions import activate, create_sequence
from nurture.models import Contact, Handoff, Sequence, User
from nurture.qualification.inbox import Caller
from tests.factories import make_contact

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SUMMARY: dict[str, Any] = {
    "score": 72,
    "grade": "B",
    "probability": 0.64,
    "why": [{"rule": "Webinar attended", "points": 15}, "Read three case studies this week"],
    "recent_activity": [
        {"when": "2026-11-30T14:05:00+00:00", "what": "Attended the scaling webinar"},
        {"occurred_at": "2026-11-29T09:00:00+00:00", "type": "email.clicked", "url": "/pricing"},
    ],
    "content": ["Pricing guide", {"title": "Case study: Harbor Freight"}],
    "sequences": [{"name": "Logistics nurture", "step": "case-study-2"}],
    "company": {"name": "Harbor Freight Logistics", "industry": "logistics"},
    "nps": 9,
}


def caller(user: User, *, admin: bool = False) -> Caller:
    return Caller(user.id, admin or user.role == "admin", f"user:{user.id}")


def make_handoff(
    db: Session,
    owner: User | None,
    *,
    contact: Contact | None = None,
    due_at: datetime | None = None,
    team_id: int | None = None,
    created_at: datetime = NOW,
    **fields: Any,
) -> Handoff:
    contact = contact or make_contact(
        db, lifecycle_stage="mql", company={"name": "Harbor Freight Logistics"}
    )
    if owner is not None:
        contact.owner_id = owner.id
    handoff = Handoff(
        contact_id=contact.id,
        owner_id=owner.id if owner else None,
        team_id=team_id,
        state="pending",
        summary=SUMMARY,
        created_at=created_at,
        due_at=due_at or created_at + timedelta(hours=8),
        **fields,
    )
    db.add(handoff)
    db.flush()
    return handoff


def make_recycle_sequence(db: Session, name: str = "Recycle nurture") -> Sequence:
    steps = [{"key": "wait", "type": "wait", "duration": {"days": 30}}]
    sequence = create_sequence(db, name=name, steps_definition={"steps": steps})
    activate(db, sequence.id)
    db.flush()
    return sequence
