"""The embedded runtime: in-process broker, worker threads and the scheduler tick."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select, update

from nurture import events
from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import Contact, Event, utcnow
from workers import actors, broker, runtime
from workers.runtime import RuntimeHandle


def store_events(
    db_url: str, count: int = 3, *, received_ago: timedelta | None = None
) -> list[int]:
    """Ingest events as the API does, without enqueueing them."""
    with session_scope(db_url) as db:
        items = [{"type": "page.visited", "email": f"reader{n}@example.com"} for n in range(count)]
        ids = events.ingest_raw(db, items, source="test").stored_event_ids
        if received_ago is not None:
            db.execute(
                update(Event).where(Event.id.in_(ids)).values(received_at=utcnow() - received_ago)
            )
    assert len(ids) == count
    return ids


def processed_at(db_url: str, ids: list[int]) -> dict[int, datetime | None]:
    with session_scope(db_url) as db:
        rows = db.execute(select(Event.id, Event.processed_at).where(Event.id.in_(ids)))
        return {event_id: when for event_id, when in rows}


def last_activity(db_url: str) -> dict[int, datetime | None]:
    with session_scope(db_url) as db:
        rows = db.execute(select(Contact.id, Contact.last_activity_at))
        return {contact_id: when for contact_id, when in rows}


def drain(handle: RuntimeHandle) -> None:
    """Wait until the in-process worker has run every queued message, ticks included."""
    assert handle.worker is not None
    for _ in range(2):  # a tick may enqueue events, so wait twice
        handle.broker.join("ticks", timeout=20_000)
        handle.broker.join("events", timeout=20_000)
        handle.worker.join()


@pytest.fixture
def embedded(settings: Settings) -> Iterator[RuntimeHandle]:
    handle = runtime.start_for_web(settings)
    yield handle
    handle.stop()


def test_embedded_runtime_processes_events_sent_to_the_queue(
    db_url: str, embedded: RuntimeHandle
) -> None:
    ids = store_events(db_url)
    assert all(when is None for when in processed_at(db_url, ids).values())

    actors.process_events.send(ids)
    drain(embedded)

    assert all(when is not None for when in processed_at(db_url, ids).values())


def test_tick_recovers_events_whose_message_was_lost(db_url: str, embedded: RuntimeHandle) -> None:
    lost = store_events(db_url, received_ago=timedelta(minutes=10))

    actors.tick.send()
    drain(embedded)

    assert all(when is not None for when in processed_at(db_url, lost).values())


def test_tick_leaves_recent_events_to_their_own_message(
    db_url: str, embedded: RuntimeHandle
) -> None:
    fresh = store_events(db_url)
    # A lost one beside them shows the tick did run: it picks that one up.
    lost = store_events(db_url, received_ago=timedelta(minutes=10))

    actors.tick.send()
    drain(embedded)

    assert all(when is None for when in processed_at(db_url, fresh).values())
    assert all(when is not None for when in processed_at(db_url, lost).values())


def test_redelivered_message_changes_nothing(db_url: str, embedded: RuntimeHandle) -> None:
    ids = store_events(db_url, count=2)
    actors.process_events.send(ids)
    drain(embedded)
    first = processed_at(db_url, ids)
    activity = last_activity(db_url)

    actors.process_events.send(ids)
    drain(embedded)

    assert processed_at(db_url, ids) == first
    assert last_activity(db_url) == activity


def test_embedded_ticker_finds_lost_events_on_its_own(db_url: str, settings: Settings) -> None:
    lost = store_events(db_url, received_ago=timedelta(minutes=10))
    handle = runtime.start_for_web(replace(settings, tick_seconds=0.2))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(when is not None for when in processed_at(db_url, lost).values()):
                break
            time.sleep(0.1)
        assert all(when is not None for when in processed_at(db_url, lost).values())
        assert handle.problem() is None
    finally:
        handle.stop()


def test_stopped_runtime_reports_why_it_is_not_ready(settings: Settings) -> None:
    handle = runtime.start_for_web(settings)
    assert handle.problem() is None

    handle.stop()
    handle.stop()  # a second stop (lifespan and signal handler both) is harmless

    assert handle.problem() == "background runtime stopped"


def test_tick_also_enqueues_the_email_housekeeping(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dramatiq.brokers.stub import StubBroker

    from workers import broker, context

    monkeypatch.setattr(context, "_settings", settings)
    stub = broker.install(StubBroker())
    actors.tick.fn()
    queued = [message.actor_name for message in _queued(stub, "ticks")]
    assert queued == ["email_tick", "webinar_tick", "webhook_tick", "escalation_sweep"]


def _queued(stub: object, queue: str) -> list[Any]:
    import dramatiq

    assert isinstance(stub, dramatiq.brokers.stub.StubBroker)
    pending = stub.queues[queue]
    return [dramatiq.Message.decode(pending.get_nowait()) for _ in range(pending.qsize())]


def test_installing_a_broker_moves_every_actor_onto_it() -> None:
    fresh = broker.install(StubBroker())
    assert sorted(fresh.get_declared_actors()) == sorted(a.actor_name for a in actors.ALL)
    assert all(a.broker is fresh for a in actors.ALL)
