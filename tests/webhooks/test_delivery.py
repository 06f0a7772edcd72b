"""Deliveries against a real HTTP server on loopback: retries, a dead endpoint, 410, replay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    utcnow,
)
from nurture.webhooks import delivery, subscriptions
from nurture.webhooks.delivery import KEEP_RESPONSE_BYTES, MAX_TRIES, RETRY_DELAYS
from nurture.webhooks.queueing import queue_for_events, replay
from tests.webhooks.conftest import Receiver, dead_url, store_event, subscribe
from workers.webhooks import deliver_one


def _queued_one(db: Session, url: str) -> int:
    subscribe(db, url, "lead.qualified")
    event = store_event(db)
    [delivery_id] = queue_for_events(db, [event.id])
    db.commit()
    return delivery_id


def _attempts(db: Session, delivery_id: int) -> list[WebhookAttempt]:
    db.expire_all()
    return list(
        db.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
    )


def test_a_failing_endpoint_is_retried_on_schedule_until_it_answers_200(
    db: Session, receiver: Receiver, actor_settings: Settings
) -> None:
    receiver.statuses = [500, 503, 200]
    delivery_id = _queued_one(db, receiver.url)
    start = utcnow()

    assert deliver_one(delivery_id, now=start) == "pending"
    # Not yet due: the tick finds nothing and a stray message sends nothing.
    soon = start + RETRY_DELAYS[0] * 0.85
    db.expire_all()
    assert delivery.due_ids(db, now=soon) == []
    assert deliver_one(delivery_id, now=soon) is None
    assert len(receiver.requests) == 1

    second = start + RETRY_DELAYS[0] * 1.15
    assert delivery.due_ids(db, now=second) == [delivery_id]
    assert deliver_one(delivery_id, now=second) == "pending"
    third = second + RETRY_DELAYS[1] * 1.15
    db.expire_all()
    assert delivery.due_ids(db, now=third) == [delivery_id]
    assert deliver_one(delivery_id, now=third) == "delivered"
    assert deliver_one(delivery_id, now=third + timedelta(hours=1)) is None

    assert [a.status_code for a in _attempts(db, delivery_id)] == [500, 503, 200]
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert len(ids) == 1, "every retry carries the same webhook-id"
    assert len({request.body for request in receiver.requests}) == 1
    stored = db.get_one(WebhookDelivery, delivery_id)
    assert (stored.state, stored.attempts, stored.last_status) == ("delivered", 3, 200)
    assert stored.delivered_at == third


def test_a_dead_endpoint_records_each_attempt_and_fails_after_the_last_try(
    db: Session, actor_settings: Settings
) -> None:
    delivery_id = _queued_one(db, dead_url())
    now = utcnow()
    states = []
    for _ in range(MAX_TRIES):
        states.append(deliver_one(delivery_id, now=now))
        db.expire_all()
        now = db.get_one(WebhookDelivery, delivery_id).next_attempt_at + timedelta(seconds=1)

    assert states == ["pending"] * (MAX_TRIES - 1) + ["failed"]
    attempts = _attempts(db, delivery_id)
    assert len(attempts) == MAX_TRIES
    assert all(a.status_code is None and a.error for a in attempts)
    assert "ConnectError" in (attempts[0].error or "")
    assert delivery.due_ids(db, now=now + timedelta(days=2)) == []


def test_the_retry_waits_follow_the_schedule_with_bounded_jitter(
    db: Session, actor_settings: Settings
) -> None:
    delivery_id = _queued_one(db, dead_url())
    now = utcnow()
    for wait in RETRY_DELAYS:
        deliver_one(delivery_id, now=now)
        db.expire_all()
        scheduled = db.get_one(WebhookDelivery, delivery_id).next_attempt_at
        assert wait * 0.9 <= scheduled - now <= wait * 1.1
        now = scheduled


def test_410_gone_switches_the_subscription_off_and_holds_its_other_deliveries(
    db: Session, receiver: Receiver, actor_settings: Settings
) -> None:
    receiver.statuses = [410]
    subscription, _ = subscribe(db, receiver.url, "lead.qualified")
    events = [store_event(db), store_event(db)]
    first, second = queue_for_events(db, [e.id for e in events])
    db.commit()

    assert deliver_one(first) == "failed"
    assert deliver_one(second) is None

    db.expire_all()
    stored = db.get_one(WebhookSubscription, subscription.id)
    assert not stored.active
    assert "410" in (stored.disabled_reason or "")
    assert db.get_one(WebhookDelivery, second).state == "pending"
    assert delivery.due_ids(db, now=utcnow() + timedelta(hours=1)) == []
    assert len(receiver.requests) == 1


def test_the_answer_kept_is_cut_at_2_kb(
    db: Session, receiver: Receiver, actor_settings: Settings
) -> None:
    receiver.statuses = [400]
    receiver.answer = b"x" * 10_000
    delivery_id = _queued_one(db, receiver.url)

    deliver_one(delivery_id)

    [attempt] = _attempts(db, delivery_id)
    assert attempt.status_code == 400
    assert attempt.response_body == "x" * KEEP_RESPONSE_BYTES
    assert attempt.duration_ms >= 0


def test_a_claimed_attempt_is_not_sent_by_a_second_worker(
    db: Session, actor_settings: Settings
) -> None:
    delivery_id = _queued_one(db, "https://crm.example.com/hooks")
    now = utcnow()

    first = delivery.claim(db, delivery_id, now=now)
    db.commit()
    second = delivery.claim(db, delivery_id, now=now + timedelta(seconds=5))

    assert first is not None
    assert second is None
    # Past the lease (a worker died mid-send) the attempt may be taken again.
    assert delivery.claim(db, delivery_id, now=now + delivery.CLAIM_LEASE * 2) is not None


def test_replay_sends_the_same_message_again_with_the_same_webhook_id(
    db: Session, receiver: Receiver, actor_settings: Settings
) -> None:
    delivery_id = _queued_one(db, receiver.url)
    assert deliver_one(delivery_id) == "delivered"

    replayed = replay(db, delivery_id, actor="test")
    db.commit()
    assert replayed.state == "pending"
    assert deliver_one(delivery_id) == "delivered"

    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.body == again.body
    assert len(_attempts(db, delivery_id)) == 2


def test_a_subscription_deleted_during_the_request_is_no_error(
    db: Session, receiver: Receiver, actor_settings: Settings
) -> None:
    subscription, _ = subscribe(db, receiver.url, "lead.qualified")
    [delivery_id] = queue_for_events(db, [store_event(db).id])
    db.commit()
    now = utcnow()
    claimed = delivery.claim(db, delivery_id, now=now)
    db.commit()
    assert claimed is not None
    outcome = delivery.send(claimed, now=now)
    subscriptions.delete_subscription(db, subscription.id, actor="test")
    db.commit()

    assert delivery.record(db, claimed, outcome, now=now) == "deleted"
    assert _attempts(db, delivery_id) == []
