"""A real Dramatiq worker on the in-process stub broker, for tests that run actors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from nurture.config import Settings
from workers import broker, context

# A message may enqueue others (an event starts a sequence step, a step sends an
# e-mail), so draining repeats; more rounds than this means something loops.
MAX_DRAIN_ROUNDS = 20


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


def queue_names(stub: StubBroker) -> list[str]:
    """Every queue the installed actors declared (their delay queues are joined with them)."""
    return sorted(set(stub.get_declared_queues()) - stub.delay_queues)


def drain(stub: StubBroker) -> None:
    """Wait until every declared queue is empty and no message is still being worked on."""
    names = queue_names(stub)
    for _ in range(MAX_DRAIN_ROUNDS):
        for name in names:
            stub.join(name, timeout=20_000, fail_fast=True)
        # A message counts as unfinished until acknowledged, so all-zero after a
        # full round means nothing is left that could enqueue more.
        if all(queue.unfinished_tasks == 0 for queue in stub.queues.values()):
            return
    raise AssertionError(f"queues still busy after {MAX_DRAIN_ROUNDS} rounds: {names}")
