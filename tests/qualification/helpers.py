"""Builders for qualification tests: ready leads, sales reps, settings turned on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Contact, Event, Handoff, User
from nurture.qualification import settings
from tests.factories import make_contact, make_user


def enable(db: Session, **changes: Any) -> settings.Settings:
    """Qualification on with the default rule (score ≥ 60, grade B or better)."""
    return settings.update(db, {"enabled": True, **changes}, actor="test")


def lead(db: Session, *, score: int = 70, grade: str | None = "B", **fields: object) -> Contact:
    """A contact at stage lead with this score and grade (set as scoring would)."""
    fields.setdefault("lifecycle_stage", "lead")
    contact = make_contact(db, **fields)
    contact.score = score
    contact.fit_grade = grade
    db.flush()
    return contact


def rep(db: Session, *, active: bool = True) -> User:
    user = make_user(db, role="sales")
    user.is_active = active
    db.flush()
    return user


def handoffs(db: Session, contact_id: int | None = None) -> list[Handoff]:
    stmt = select(Handoff).order_by(Handoff.id)
    if contact_id is not None:
        stmt = stmt.where(Handoff.contact_id == contact_id)
    return list(db.scalars(stmt))


def events(db: Session, event_type: str) -> list[Event]:
    return list(db.scalars(select(Event).where(Event.type == event_type).order_by(Event.id)))
