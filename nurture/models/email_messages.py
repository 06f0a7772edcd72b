"""Every e-mail we send (or decide not to send), keyed by an idempotency key."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class MessageStatus(enum.StrEnum):
    """Where a message is. `queued` is written before anything goes out; only the
    claimant that moves a message from `queued` (or due `deferred`) to `sending`
    in one UPDATE may hand it to the transport."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"  # a 4xx answer: retried at next_attempt_at
    BOUNCED = "bounced"  # a 5xx answer, or a relay's permanent bounce notice
    FAILED = "failed"  # gave up (retries exhausted, render error, interrupted send)
    SUPPRESSED = "suppressed"  # not sent: the address or topic is suppressed


FINAL_STATUSES = frozenset(
    {MessageStatus.SENT, MessageStatus.BOUNCED, MessageStatus.FAILED, MessageStatus.SUPPRESSED}
)


class EmailMessage(Base):
    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_contact_id", "contact_id"),
        Index("ix_email_messages_template_id", "template_id"),
        # The retry tick looks for deferred messages that are due.
        Index(
            "ix_email_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'deferred'"),
            sqlite_where=text("status = 'deferred'"),
        ),
        # /metrics counts failed messages by kind on every scrape; they are few.
        Index(
            "ix_email_messages_failed",
            "kind",
            postgresql_where=text("status = 'failed'"),
            sqlite_where=text("status = 'failed'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.QUEUED.value)
    kind: Mapped[str] = mapped_column(String(20))  # TemplateKind, or "test" for test sends
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_templates.id", ondelete="SET NULL")
    )
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_template_versions.id", ondelete="SET NULL")
    )
    locale: Mapped[str | None] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(40))
    # None for internal mail to a user; erasing a contact empties to_email.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    to_email: Mapped[str | None] = mapped_column(String(320))
    from_email: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(1000))
    # The Message-ID header (with <>), how relays' bounce notices find the message.
    message_id_header: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Targets of the tracked links, by link index: the redirector reads them here.
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # The built message kept while a retry is pending (deferred), so the retry sends
    # the same bytes; emptied once the message reaches a final status.
    pending_raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Plain context passed by the caller beyond contact/rep/brand (case_study, webinar...).
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What an experiment's variant changed (subject, preheader, from_name), kept so a
    # message built again (resumed after its sender died) is the same variant.
    overrides: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
