"""Segments: saved rules (dynamic) or hand-picked lists (static), and who is in them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow

# None is stored as SQL NULL (a static list has no rule), not as the JSON value null.
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class SegmentKind(enum.StrEnum):
    DYNAMIC = "dynamic"
    STATIC = "static"


class Segment(Base):
    """A dynamic segment keeps `rule` (a validated rule document); a static list has none.

    `revision` counts edits of the rule, so a refresh can tell it worked on an
    older rule; `next_refresh_at` is how the periodic refresh claims due segments.
    """

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(10))
    rule: Mapped[dict[str, Any] | None] = mapped_column(NullableJson)
    revision: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column()
    next_refresh_at: Mapped[datetime | None] = mapped_column(index=True)


class SegmentMember(Base):
    """One contact in one segment since `since`; the row's insert and delete are the
    single source of truth for segment.entered / segment.exited events."""

    __tablename__ = "segment_members"
    __table_args__ = (Index("ix_segment_members_contact_id", "contact_id"),)

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(default=utcnow)


class SegmentSizeHistory(Base):
    """The size of a segment after each full refresh, for "size over time"."""

    __tablename__ = "segment_size_history"
    __table_args__ = (Index("ix_segment_size_history_segment_at", "segment_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    size: Mapped[int] = mapped_column()
