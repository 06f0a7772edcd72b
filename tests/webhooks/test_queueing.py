"""Queueing: one set-based statement, only matching active subscriptions, never twice."""

from __future__ import annotations

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Event, WebhookAttempt, WebhookDelivery
from nurture.webhooks import subscriptions
from nurture.webhooks.queueing import queue_for_events
from tests.factories import make_contact
from tests.stub_worker import drain
from tests.webhooks.conftest import Receiver, dead_url, store_event, subscribe
from workers import actors


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
