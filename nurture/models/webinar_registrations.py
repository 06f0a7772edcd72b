"""Who registered for which webinar, and whether they came."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class Attendance(enum.StrEnum):
    REGISTERED = "registered"  # not known yet (the webinar has not been reported on)
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class WebinarRegistration(Base):
    """One contact's seat at one webinar; the unique pair makes registering idempotent.

    `reminded_hours` is the smallest reminder offset (hours before the start) already
    dealt with: a reminder is due when the start is that close and this is larger.
    """

    __tablename__ = "webinar_registrations"
    __table_args__ = (
        UniqueConstraint("webinar_id", "contact_id"),
        Index("ix_webinar_registrations_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinars.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    attendance: Mapped[str] = mapped_column(String(12), default=Attendance.REGISTERED.value)
    attendance_at: Mapped[datetime | None] = mapped_column()
    minutes_attended: Mapped[int | None] = mapped_column()
    reminded_hours: Mapped[int | None] = mapped_column()
