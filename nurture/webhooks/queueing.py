"""Putting deliveries in the queue table: new events for their subscribers, and replays.

Rows only: the send happens after the caller commits, in the `webhooks` actors, so a
slow or dead endpoint never holds up the transaction that processes events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, cast, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import Conflict, NotFound
from nurture.models import (
    DeliveryState,
    Event,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionType,
    utcnow,
)
from nurture.sqlsets import among

_COLUMNS = [
    "subscription_id",
    "event_id",
    "message_id",
    "state",
    "tries",
    "attempts",
    "next_attempt_at",
    "created_at",
]


def queue_for_events(
    session: Session, event_ids: Iterable[int], *, now: datetime | None = None
) -> list[int]:
    """Queue one delivery per active subscription and matching event; the new delivery ids.

    One INSERT ... SELECT of (subscription x event) on a unique (subscription, event)
    pair: a redelivered batch of events queues nothing twice.
    """
    ids = list(event_ids)
    if not ids:
        return []
    now = now or utcnow()
    message_id = (
        literal("msg_", String())
        + WebhookSubscription.message_prefix
        + literal("_", String())
        + cast(Event.id, String())
    )
    rows = (
        select(
            WebhookSubscription.id,
            Event.id,
            message_id,
            literal(DeliveryState.PENDING.value, String()),
            literal(0),
            literal(0),
            literal(now, WebhookDelivery.next_attempt_at.type),
            literal(now, WebhookDelivery.created_at.type),
        )
        .select_from(Event)
        .join(WebhookSubscriptionType, WebhookSubscriptionType.event_type == Event.type)
        .join(
            WebhookSubscription,
            WebhookSubscription.id == WebhookSubscriptionType.subscription_id,
        )
        .where(among(session, Event.id, ids, integers=True), WebhookSubscription.active)
        # One order for every writer, so concurrent batches wait rather than deadlock.
        .order_by(WebhookSubscription.id, Event.id)
    )
    insert = (
        postgresql.insert(WebhookDelivery)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(WebhookDelivery)
    )
    statement = (
        insert.from_select(_COLUMNS, rows)
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
        .returning(WebhookDelivery.id)
    )
    return sorted(session.scalars(statement))


def replay(
    session: Session, delivery_id: int, *, actor: str, now: datetime | None = None
) -> WebhookDelivery:
    """Send a delivery again from the start of the retry schedule, with the same
    `webhook-id` (receivers dedupe on it). The caller sends it after commit."""
    now = now or utcnow()
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("webhook delivery", delivery_id)
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not subscription.active:
        raise Conflict("the subscription is switched off; switch it on before replaying")
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            (WebhookDelivery.claimed_until.is_(None)) | (WebhookDelivery.claimed_until <= now),
        )
        .values(
            state=DeliveryState.PENDING.value,
            tries=0,
            next_attempt_at=now,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise Conflict("this delivery is being sent right now; replay it in a moment")
    audit.record(
        session,
        actor=actor,
        action="webhook.replayed",
        entity_type="webhook_delivery",
        entity_id=delivery_id,
        changes={"message_id": delivery.message_id},
    )
    session.refresh(delivery)
    return delivery
