"""What a rule builder needs to offer: the field catalogue plus values in use.

`segments.fields.describe()` is fixed metadata; free-text fields such as
industry and country get suggestions from the data (so a marketer picks
"legal" from a menu instead of guessing its spelling), and the builder's
membership picker gets the segments that exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Company, Event, Segment
from segments.fields import describe

MAX_SUGGESTIONS = 200
RECENT_EVENTS = 5000
# Event types a builder offers even before any such event arrived.
COMMON_EVENTS = (
    "email.opened",
    "email.clicked",
    "page.visited",
    "form.submitted",
    "webinar.registered",
    "webinar.attended",
    "nps.answered",
    "project.completed",
    "deal.won",
)


def builder_catalogue(session: Session, *, exclude_segment: int | None = None) -> dict[str, Any]:
    """describe() plus `suggestions` (field -> values in use), `event_types` and
    `segments` ([{id, name}], without `exclude_segment`: a rule cannot use itself)."""
    catalogue = describe()
    catalogue["suggestions"] = {
        "company.industry": _distinct(session, Company.industry),
        "company.country": _distinct(session, Company.country),
    }
    catalogue["event_types"] = sorted({*COMMON_EVENTS, *_event_types(session)})
    stmt = select(Segment.id, Segment.name).order_by(Segment.name)
    catalogue["segments"] = [
        {"id": sid, "name": name} for sid, name in session.execute(stmt) if sid != exclude_segment
    ]
    return catalogue


def _distinct(session: Session, column: Any) -> list[str]:
    stmt = select(column).where(column.is_not(None)).distinct().limit(MAX_SUGGESTIONS)
    return sorted(value for value in session.scalars(stmt) if value)


def _event_types(session: Session) -> list[str]:
    # The most recent events by id (a primary-key walk, cheap on any size of log);
    # segment.* events are ours, not behaviour a marketer targets.
    recent = select(Event.type).order_by(Event.id.desc()).limit(RECENT_EVENTS).subquery()
    stmt = select(recent.c.type).where(recent.c.type.not_like("segment.%")).distinct()
    return list(session.scalars(stmt))
