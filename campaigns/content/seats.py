"""Webinar seats: taken and given back with one conditional UPDATE each, so two
workers registering people at once can never overfill an event."""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from nurture.models import Webinar


def take_seat(session: Session, webinar_id: int) -> bool:
    """Take one seat; False when the webinar is full (or gone). The caller commits."""
    result = session.execute(
        update(Webinar)
        .where(
            Webinar.id == webinar_id,
            or_(Webinar.capacity.is_(None), Webinar.seats_taken < Webinar.capacity),
        )
        .values(seats_taken=Webinar.seats_taken + 1)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))


def give_back_seat(session: Session, webinar_id: int) -> None:
    """Return one seat (a cancelled registration); never below zero. The caller commits."""
    session.execute(
        update(Webinar)
        .where(Webinar.id == webinar_id, Webinar.seats_taken > 0)
        .values(seats_taken=Webinar.seats_taken - 1)
        .execution_options(synchronize_session="fetch")
    )
