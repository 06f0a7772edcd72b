"""Broadcasts: a one-off send of a template to a segment or a list, and each recipient.

The audience is frozen into `broadcast_recipients` when the broadcast starts, with the
moment each recipient is due (a local time in their zone, or the send time), the
phase they are in (the test group or the rest) and, once claimed and sent, their
message. Workers claim due recipients in batches, as sequences claim due steps.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"  # being written; nothing is frozen
    SCHEDULED = "scheduled"  # waits for `send_at`
    SENDING = "sending"  # recipients frozen; batches going out (the test group first)
    TESTING = "testing"  # the test group is out; the winner is picked at `decide_at`
    SENT = "sent"  # everyone due has been sent (or skipped)
    CANCELLED = "cancelled"  # stopped: what was not sent never will be


class CapPolicy(enum.StrEnum):
    RESPECT = "respect"  # the frequency cap holds a recipient back until one more fits
    OVERRIDE = "override"  # an announcement that goes regardless of the cap


class RecipientPhase(enum.StrEnum):
    TEST = "test"
    REST = "rest"  # gets the winner (or the default) after the test
    ALL = "all"  # no test phase


class RecipientState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"  # a message exists for it (see `outcome` for how it ended)
    SKIPPED = "skipped"  # suppressed, opted out, erased, no address
    CANCELLED = "cancelled"


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=BroadcastStatus.DRAFT.value)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_templates.id", ondelete="SET NULL")
    )
    # Exactly one of: a segment, or a static list of contacts given at creation.
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    contact_ids: Mapped[dict[str, Any] | None] = mapped_column()
    # When to send (UTC); with `local_time`, the day whose local time it is per recipient.
    send_at: Mapped[datetime | None] = mapped_column()
    local_time: Mapped[str | None] = mapped_column(String(5))  # "09:00", in each zone
    cap_policy: Mapped[str] = mapped_column(String(10), default=CapPolicy.RESPECT.value)
    # {"start": "21:00", "end": "08:00"}: nobody gets it in those local hours.
    quiet_hours: Mapped[dict[str, Any] | None] = mapped_column()
    # Test phase: this percent of the audience split across the experiment's variants,
    # the winner chosen `test_hours` after the test group went out.
    test_percent: Mapped[int | None] = mapped_column()
    test_hours: Mapped[float | None] = mapped_column()
    decide_at: Mapped[datetime | None] = mapped_column()
    # What the rest got: the winner, or the default when the rule named none.
    rest_variant: Mapped[str | None] = mapped_column(String(20))
    total: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BroadcastRecipient(Base):
    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        PrimaryKeyConstraint("broadcast_id", "contact_id"),
        # The claim: pending recipients that are due, per broadcast.
        Index("ix_broadcast_recipients_due", "broadcast_id", "state", "due_at"),
    )

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(10), default=RecipientPhase.ALL.value)
    # The variant it gets (the test group's assignment, or the rest's winner).
    variant_key: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12), default=RecipientState.PENDING.value)
    due_at: Mapped[datetime | None] = mapped_column()
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(String(40))
