"""A real Dramatiq worker on the in-process stub broker, for tests that run actors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from nurture.config import Settings
from workers import broker, context

QUEUES = ("events", "ticks", "sequences", "email")


@contextmanager
def stub_worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    """Actors see `settings`; two worker threads run whatever is sent until the block ends."""
    monkeypatch.setattr(context, "_settings", settings)
    stub = broker.install(broker.build_broker(settings))
    assert isinstance(stub, StubBroker)
    running = dramatiq.Worker(stub, worker_threads=2, worker_timeout=100)
    running.start()
    try:
        yield stub
    finally:
        running.stop(timeout=10_000)
        stub.close()
        broker.install(StubBroker())  # leave no closed broker behind for later tests


def drain(stub: StubBroker) -> None:
    """Wait until every queue is empty; a message may enqueue others, so look again."""
    for _ in range(3):
        for queue in QUEUES:
            stub.join(queue, timeout=20_000, fail_fast=True)
