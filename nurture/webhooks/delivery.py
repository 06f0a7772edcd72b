"""Sending a delivery: claim it, POST it signed, record the attempt and what comes next.

Three steps, each its own transaction in the caller (workers/webhooks.py), so no
database transaction stays open while a remote server thinks:

1. `claim` moves `claimed_until` forward in one UPDATE that repeats the conditions
   (pending, due, not claimed, subscription on), so two workers never send the same
   attempt; the loser's UPDATE matches no row.
2. `send` makes the HTTP request (no database).
3. `record` stores the attempt and moves the delivery on: delivered on 2xx; on
   anything else the next try after the retry schedule, or failed after the last;
   410 Gone switches the subscription off.

Retries are driven by `next_attempt_at` in the table, found by the tick (`due_ids`),
never by a worker sleeping.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nurture.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from nurture.webhooks.payload import body_for_event
from nurture.webhooks.signing import signed_headers
from nurture.webhooks.subscriptions import secrets_in_use

# Wait before try n+1 after n failed tries; after the last, the delivery has failed.
# Nine tries over about 15 h 43 min (plus jitter).
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
MAX_TRIES = len(RETRY_DELAYS) + 1
# Each wait is stretched or shrunk by up to this share, so endpoints that failed
# together are not all retried in the same second.
JITTER = 0.1
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
# A worker owns an attempt this long; well past the request's own time limit.
CLAIM_LEASE = timedelta(seconds=60)
# Fresh deliveries and replays have their own message sent after commit; the tick
# leaves them alone this long before taking them as lost.
LOST_AFTER = timedelta(minutes=1)
KEEP_RESPONSE_BYTES = 2048
KEEP_ERROR_CHARS = 1000
USER_AGENT = "Nurture-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Claim:
    """What one claimed attempt needs, read inside the claiming transaction."""

    delivery_id: int
    subscription_id: int
    url: str
    message_id: str
    body: bytes
    secrets: tuple[str, ...]
    claimed_until: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one HTTP request gave: a status (when an answer came) or an error."""

    status_code: int | None
    response_body: str
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim(session: Session, delivery_id: int, *, now: datetime) -> Claim | None:
    """Take the attempt that is due for this delivery, or None when it is not ours to send
    (delivered, failed, not due yet, another worker's, subscription off)."""
    until = now + CLAIM_LEASE
    active = select(WebhookSubscription.id).where(WebhookSubscription.active)
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == DeliveryState.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
            (WebhookDelivery.claimed_until.is_(None)) | (WebhookDelivery.claimed_until <= now),
            WebhookDelivery.subscription_id.in_(active),
        )
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return None
    delivery = session.get_one(WebhookDelivery, delivery_id)
    session.refresh(delivery)
    subscription = session.get_one(WebhookSubscription, delivery.subscription_id)
    return Claim(
        delivery_id=delivery_id,
        subscription_id=subscription.id,
        url=subscription.url,
        message_id=delivery.message_id,
        body=body_for_event(session, delivery.event_id),
        secrets=tuple(secrets_in_use(subscription, now=now)),
        claimed_until=until,
    )


def send(claimed: Claim, *, now: datetime, client: httpx.Client | None = None) -> Outcome:
    """POST the signed body; never raises for what the network or the endpoint does."""
    headers = {
        **signed_headers(
            claimed.secrets, message_id=claimed.message_id, sent_at=now, body=claimed.body
        ),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    started = time.monotonic()
    own = client is None
    http = client or new_client()
    try:
        with http.stream("POST", claimed.url, content=claimed.body, headers=headers) as answer:
            kept = _read_some(answer, deadline=started + TOTAL_TIMEOUT)
            return Outcome(answer.status_code, kept, None, _ms_since(started))
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        return Outcome(None, "", _describe(exc), _ms_since(started))
    finally:
        if own:
            http.close()


def new_client() -> httpx.Client:
    """An HTTP client with the delivery time limits; redirects are not followed (a 3xx
    is a failed attempt: the subscription should name the final URL)."""
    return httpx.Client(
        timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
        follow_redirects=False,
    )


def record(
    session: Session,
    claimed: Claim,
    outcome: Outcome,
    *,
    now: datetime,
    rng: random.Random | None = None,
) -> str:
    """Store the attempt and move the delivery to its next state; answers that state
    ("deleted" when its subscription was deleted while the request was out)."""
    delivery = session.get(WebhookDelivery, claimed.delivery_id)
    if delivery is None:
        return "deleted"
    session.add(
        WebhookAttempt(
            delivery_id=claimed.delivery_id,
            attempted_at=now,
            status_code=outcome.status_code,
            response_body=outcome.response_body,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    tries = delivery.tries
    values: dict[str, object] = {
        "attempts": WebhookDelivery.attempts + 1,
        "last_attempt_at": now,
        "last_status": outcome.status_code,
        "last_error": outcome.error,
        "claimed_until": None,
    }
    if outcome.ok:
        values |= {"state": DeliveryState.DELIVERED.value, "delivered_at": now}
    elif outcome.status_code == 410:
        values |= {"state": DeliveryState.FAILED.value, "tries": tries + 1}
        _switch_off(session, claimed.subscription_id, now=now)
    elif tries + 1 >= MAX_TRIES:
        values |= {"state": DeliveryState.FAILED.value, "tries": tries + 1}
    else:
        wait = jittered(RETRY_DELAYS[tries], rng or random.Random())
        values |= {"tries": tries + 1, "next_attempt_at": now + wait}
    session.execute(
        update(WebhookDelivery)
        # Only while the claim is still ours: past the lease another worker may own it.
        .where(
            WebhookDelivery.id == claimed.delivery_id,
            WebhookDelivery.claimed_until == claimed.claimed_until,
        )
        .values(values)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(delivery)
    return delivery.state


def jittered(wait: timedelta, rng: random.Random) -> timedelta:
    return wait * (1 + rng.uniform(-JITTER, JITTER))


def due_ids(session: Session, *, now: datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose next try is due and that nobody holds, oldest first.

    A delivery never tried since it was queued or replayed (tries = 0) had its own
    message sent after commit; it counts as lost only LOST_AFTER past its time.
    """
    active = select(WebhookSubscription.id).where(WebhookSubscription.active)
    due = ((WebhookDelivery.tries > 0) & (WebhookDelivery.next_attempt_at <= now)) | (
        WebhookDelivery.next_attempt_at <= now - LOST_AFTER
    )
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state == DeliveryState.PENDING.value,
                due,
                (WebhookDelivery.claimed_until.is_(None)) | (WebhookDelivery.claimed_until <= now),
                WebhookDelivery.subscription_id.in_(active),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )


def _switch_off(session: Session, subscription_id: int, *, now: datetime) -> None:
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .values(
            active=False,
            disabled_reason=f"The endpoint answered 410 Gone at {now:%Y-%m-%d %H:%M} UTC",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def _read_some(answer: httpx.Response, *, deadline: float) -> str:
    """The first KEEP_RESPONSE_BYTES of the answer; reading stops at the deadline."""
    kept = bytearray()
    for chunk in answer.iter_bytes():
        kept.extend(chunk)
        if len(kept) >= KEEP_RESPONSE_BYTES or time.monotonic() > deadline:
            break
    return bytes(kept[:KEEP_RESPONSE_BYTES]).decode("utf-8", errors="replace")


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:KEEP_ERROR_CHARS]


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
