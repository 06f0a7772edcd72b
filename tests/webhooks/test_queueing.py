"""Queueing: one set-based statement, only matching active subscriptions, never twice."""

from __future__ import annotations

import threading

import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Event, WebhookAttempt, WebhookDelivery
from nurture.webhooks import subscriptions
from nurture.webhooks.queueing import queue_for_events
from tests.factories import make_contact
from tests.stub_worker import drain
from tests.webhooks.conftest import Receiver, dead_url, store_event, subscribe
from workers import actors, broker
from workers import webhooks as worker_webhooks


def _pairs(db: Session) -> set[tuple[int, int]]:
    rows = db.execute(select(WebhookDelivery.subscription_id, WebhookDelivery.event_id))
    return {(s, e) for s, e in rows}


def test_each_event_is_queued_for_each_active_subscription_of_its_type(db: Session) -> None:
    crm, _ = subscribe(db, "https://crm.example.com/a", "lead.qualified", "handoff.accepted")
    other, _ = subscribe(db, "https://crm.example.com/b", "handoff.accepted")
    off, _ = subscribe(db, "https://crm.example.com/c", "lead.qualified")
    subscriptions.update_subscription(db, off.id, actor="test", active=False)
    contact = make_contact(db)
    qualified = store_event(db, "lead.qualified", contact.id)
    accepted = store_event(db, "handoff.accepted", contact.id)
    ignored = store_event(db, "email.opened", contact.id)

    ids = queue_for_events(db, [qualified.id, accepted.id, ignored.id])

    assert len(ids) == 3
    assert _pairs(db) == {
        (crm.id, qualified.id),
        (crm.id, accepted.id),
        (other.id, accepted.id),
    }


def test_a_redelivered_batch_queues_nothing_twice(db: Session) -> None:
    subscribe(db, "https://crm.example.com/a", "lead.qualified")
    events = [store_event(db) for _ in range(3)]

    first = queue_for_events(db, [e.id for e in events])
    again = queue_for_events(db, [e.id for e in events])

    assert len(first) == 3
    assert again == []
    assert db.scalar(select(func.count()).select_from(WebhookDelivery)) == 3


def test_process_events_queues_and_sends_after_commit(
    db: Session, receiver: Receiver, worker: StubBroker
) -> None:
    subscribe(db, receiver.url, "lead.qualified")
    event = store_event(db, "lead.qualified")
    db.commit()

    actors.process_events.send([event.id])
    drain(worker)
    actors.process_events.send([event.id])  # a redelivered message
    drain(worker)

    assert len(receiver.requests) == 1
    db.expire_all()
    [state] = db.scalars(select(WebhookDelivery.state)).all()
    assert state == "delivered"


def test_a_dead_endpoint_never_fails_event_processing(db: Session, worker: StubBroker) -> None:
    subscribe(db, dead_url(), "lead.qualified")
    event = store_event(db, "lead.qualified")
    db.commit()

    actors.process_events.send([event.id])
    drain(worker)

    db.expire_all()
    assert db.scalar(select(func.count()).select_from(WebhookAttempt)) == 1
    [row] = db.scalars(select(WebhookDelivery)).all()
    assert (row.state, row.tries, row.last_status) == ("pending", 1, None)
    assert worker.dead_letters == []
    assert db.get_one(Event, event.id).processed_at is not None


def test_a_process_busy_sending_puts_the_delivery_back_for_a_moment(
    db: Session, receiver: Receiver, actor_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(db, receiver.url, "lead.qualified")
    [delivery_id] = queue_for_events(db, [store_event(db).id])
    db.commit()
    stub = broker.install(StubBroker())
    try:
        slots = threading.BoundedSemaphore(1)
        slots.acquire()  # another send holds this process's only slot
        monkeypatch.setattr(worker_webhooks, "_slots", slots)

        worker_webhooks.deliver_webhook.fn(delivery_id)
        [put_back] = [Message.decode(m) for m in stub.queues[dq_name("webhooks")].queue]
        assert receiver.requests == []
        assert put_back.args == (delivery_id,)
        assert put_back.options["eta"] > 0

        slots.release()
        worker_webhooks.deliver_webhook.fn(*put_back.args)
        assert len(receiver.requests) == 1
    finally:
        broker.install(StubBroker())
