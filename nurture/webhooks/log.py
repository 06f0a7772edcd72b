"""Reading the delivery log: a subscription's deliveries page by page, one delivery's attempts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, NotFound
from nurture.models import DeliveryState, Event, WebhookAttempt, WebhookDelivery
from nurture.validation import decode_cursor, encode_cursor, is_id

MAX_PAGE = 200
STATES = tuple(state.value for state in DeliveryState)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery: WebhookDelivery
    event_type: str
    contact_id: int


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """Newest first; `next_cursor` reads on (None: no more)."""

    items: list[DeliveryRow]
    next_cursor: str | None


def delivery_page(
    session: Session,
    subscription_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
    state: str | None = None,
) -> DeliveryPage:
    """One page of a subscription's deliveries, newest first, optionally in one state."""
    if state is not None and state not in STATES:
        raise InvalidInput.single("state", f"must be one of {', '.join(STATES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput.single("limit", f"must be from 1 to {MAX_PAGE}")
    query = (
        select(WebhookDelivery, Event.type, Event.contact_id)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        before = decode_cursor(cursor, "before")
        if not is_id(before):
            raise InvalidInput.single("cursor", "is not a cursor this listing gave out")
        query = query.where(WebhookDelivery.id < before)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    rows = [DeliveryRow(d, t, c) for d, t, c in session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor({"before": rows[-1].delivery.id}) if more else None
    return DeliveryPage(rows, next_cursor)


def get_delivery(session: Session, delivery_id: int) -> DeliveryRow:
    found = session.execute(
        select(WebhookDelivery, Event.type, Event.contact_id)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id)
    ).first()
    if found is None:
        raise NotFound("webhook delivery", delivery_id)
    return DeliveryRow(found[0], found[1], found[2])


def attempts_of(session: Session, delivery_id: int, *, limit: int = 50) -> list[WebhookAttempt]:
    """The delivery's latest attempts, newest first."""
    return list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id.desc())
            .limit(limit)
        )
    )
