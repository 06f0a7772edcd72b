"""Small builders for segment tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nurture.models import Contact, Event, SegmentMember

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def rule(node: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "rule": node}


def set_contact(session: Session, contact_id: int, **values: Any) -> None:
    session.execute(update(Contact).where(Contact.id == contact_id).values(**values))


def member_ids(session: Session, segment_id: int) -> set[int]:
    stmt = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
    return set(session.scalars(stmt))


def segment_events(session: Session, kind: str, segment_id: int) -> list[int]:
    """Contact ids of the segment.entered / segment.exited events of a segment, sorted."""
    stmt = select(Event.contact_id, Event.properties).where(Event.type == kind)
    return sorted(c for c, props in session.execute(stmt) if props["segment_id"] == segment_id)


def count_events(session: Session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(Event.type == kind)) or 0
