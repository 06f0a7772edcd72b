"""What the outbound webhooks API answers and accepts (documented in /schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from nurture.models import DeliveryState, WebhookAttempt
from nurture.webhooks.log import DeliveryRow
from nurture.webhooks.subscriptions import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TYPES,
    MAX_URL_LENGTH,
    SubscriptionView,
)

Url = Annotated[
    str, Meta(max_length=MAX_URL_LENGTH, examples=["https://crm.example.com/hooks/nurture"])
]
EventTypes = Annotated[
    list[Annotated[str, Meta(max_length=100)]],
    Meta(max_length=MAX_TYPES, examples=[["lead.qualified", "handoff.accepted"]]),
]
Description = Annotated[str, Meta(max_length=MAX_DESCRIPTION_LENGTH)]


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    """An endpoint (http or https) and the event types it hears."""

    url: Url
    event_types: EventTypes
    description: Description = ""
    active: bool = True


class SubscriptionPatch(msgspec.Struct, forbid_unknown_fields=True):
    """The parts to change; parts left out keep their value."""

    url: Url | UnsetType = UNSET
    event_types: EventTypes | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class SubscriptionOut(msgspec.Struct):
    id: int
    url: str
    description: str
    event_types: list[str]
    active: bool
    # Why the system switched it off (410 Gone), if it did.
    disabled_reason: str | None
    # Until then the secret before the last rotation still signs too.
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionList(msgspec.Struct):
    items: list[SubscriptionOut]


class SubscriptionCreated(msgspec.Struct):
    """The new subscription and its signing secret, shown this once."""

    subscription: SubscriptionOut
    secret: str


class SecretOut(msgspec.Struct):
    """The new signing secret, shown this once; the previous one signs too until
    `previous_secret_expires_at`."""

    subscription_id: int
    secret: str
    previous_secret_expires_at: datetime | None


class AttemptOut(msgspec.Struct):
    id: int
    attempted_at: datetime
    # None when no answer came (refused, timed out); see `error`.
    status_code: int | None
    # The first 2 KB of the answer.
    response_body: str
    error: str | None
    duration_ms: int


class DeliveryOut(msgspec.Struct):
    id: int
    subscription_id: int
    event_id: int
    event_type: str
    contact_id: int
    # The `webhook-id` header of every attempt and replay of this delivery.
    message_id: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPageOut(msgspec.Struct):
    """Newest first; pass `next_cursor` back as `cursor` (null: no more)."""

    items: list[DeliveryOut]
    next_cursor: str | None


class DeliveryDetailOut(msgspec.Struct):
    """A delivery with its latest attempts, newest first."""

    delivery: DeliveryOut
    attempts: list[AttemptOut]


def subscription_out(found: SubscriptionView) -> SubscriptionOut:
    s = found.subscription
    return SubscriptionOut(
        id=s.id,
        url=s.url,
        description=s.description,
        event_types=found.event_types,
        active=s.active,
        disabled_reason=s.disabled_reason,
        previous_secret_expires_at=s.previous_secret_expires_at,
        created_at=s.created_at,
        updated_at=s.updated_at,
    )


def delivery_out(row: DeliveryRow) -> DeliveryOut:
    d = row.delivery
    return DeliveryOut(
        id=d.id,
        subscription_id=d.subscription_id,
        event_id=d.event_id,
        event_type=row.event_type,
        contact_id=row.contact_id,
        message_id=d.message_id,
        state=d.state,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if d.state == DeliveryState.PENDING else None,
        last_attempt_at=d.last_attempt_at,
        last_status=d.last_status,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
    )


def attempt_out(a: WebhookAttempt) -> AttemptOut:
    return AttemptOut(
        id=a.id,
        attempted_at=a.attempted_at,
        status_code=a.status_code,
        response_body=a.response_body,
        error=a.error,
        duration_ms=a.duration_ms,
    )
