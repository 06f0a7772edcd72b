"""The capture mailbox: messages kept in the database when no SMTP relay is set."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class CapturedEmail(Base):
    """One captured message as it would have gone over SMTP (`raw`, CRLF bytes)."""

    __tablename__ = "captured_emails"
    __table_args__ = (
        Index("ix_captured_emails_created_at", "created_at"),
        Index("ix_captured_emails_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_messages.id", ondelete="CASCADE")
    )
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(String(2000))  # comma-separated envelope recipients
    subject: Mapped[str | None] = mapped_column(String(1000))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
