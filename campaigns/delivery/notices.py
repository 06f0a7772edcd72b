"""Relay notifications reduced to what we act on: who, what happened, which message."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from nurture.errors import DomainError


class WebhookRejected(DomainError):
    """A webhook request we refuse (bad signature, unknown certificate host, bad JSON).
    The web layer answers 400 or 403 and acts on nothing in it."""


class NoticeKind(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"  # permanent: suppress the address
    SOFT_BOUNCE = "soft_bounce"  # transient: note only
    COMPLAINT = "complaint"  # marked as spam: suppress the address
    DELIVERED = "delivered"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Notice:
    """One recipient's outcome as a relay reported it. `message_id` is our EmailMessage id
    when the relay echoed our X-Nurture-Message header or custom argument; `message_id_header`
    is the Message-ID header when known; `provider_id` the relay's own id (for deduplication)."""

    kind: NoticeKind
    email: str
    provider: str
    provider_id: str
    detail: str = ""
    message_id: int | None = None
    message_id_header: str | None = None
