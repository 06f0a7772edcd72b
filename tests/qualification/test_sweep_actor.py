"""The sweep actor qualifies waiting leads and hands their events on to process_events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Event
from tests.qualification.helpers import enable, handoffs, lead
from tests.stub_worker import drain, stub_worker
from workers import actors  # noqa: F401 - declares process_events, which the sweep sends to
from workers import qualification as sweep_actor
from workers.qualification import qualification_sweep, send_sweep_if_due


@pytest.fixture
def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    with stub_worker(settings, monkeypatch) as stub:
        yield stub


def test_the_sweep_hands_over_waiting_leads_and_their_events_are_processed(
    db: Session, worker: StubBroker
) -> None:
    enable(db)
    ready = lead(db)
    lead(db, score=5)
    db.commit()

    qualification_sweep.send()
    drain(worker)
    qualification_sweep.send()
    drain(worker)

    db.expire_all()
    assert [h.contact_id for h in handoffs(db)] == [ready.id]
    stored = db.execute(
        select(Event.type, Event.processed_at).where(Event.contact_id == ready.id)
    ).all()
    assert sorted(t for t, _ in stored) == ["lead.qualified", "lifecycle.changed"]
    assert all(processed is not None for _, processed in stored)


def test_the_tick_sends_the_sweep_once_per_interval(
    worker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_actor, "GATE", sweep_actor.SweepGate())
    start = 1_000_000.0
    sent = [send_sweep_if_due(every=300, now=start + offset) for offset in (0, 10, 299, 300, 301)]
    assert sent == [True, False, False, True, False]
