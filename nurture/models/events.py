"""The append-only event log: everything a contact did or had done to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # Behavioural segment rules ask "did contact C have event T since D".
        Index("ix_events_contact_type_time", "contact_id", "type", "occurred_at"),
        # The tick looks for events that no worker processed (a lost queue message).
        Index(
            "ix_events_unprocessed",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(40), default="api")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    processed_at: Mapped[datetime | None] = mapped_column()
