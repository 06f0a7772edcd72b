"""The production broker: Dramatiq on the real Redis, each test in its own key namespace."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from nurture.config import Settings
from tests.test_workers import processed_at, store_events
from workers import actors, broker, context
from workers.ticker import Ticker

pytestmark = pytest.mark.redis


def redis_url_with_namespace() -> str:
    url = os.environ.get("NURTURE_TEST_REDIS_URL")
    if not url:
        pytest.fail("NURTURE_TEST_REDIS_URL is not set: run the suite with `make test`")
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}namespace=nurture-test-{secrets.token_hex(6)}"


@pytest.fixture
def redis_settings(settings: Settings) -> Settings:
    return replace(settings, redis_url=redis_url_with_namespace())


@pytest.fixture
def redis_broker(redis_settings: Settings) -> Iterator[RedisBroker]:
    """A Redis broker installed for this test; its keys are deleted afterwards."""
    context.configure(redis_settings)
    installed = broker.install(broker.build_broker(redis_settings))
    assert isinstance(installed, RedisBroker)
    yield installed
    for key in installed.client.scan_iter(f"{installed.namespace}:*"):
        installed.client.delete(key)
    installed.close()
    # Later tests must not enqueue into this namespace by accident.
    broker.install(StubBroker())


def test_redis_worker_processes_events_sent_to_the_queue(
    db_url: str, redis_broker: RedisBroker
) -> None:
    ids = store_events(db_url)
    worker = dramatiq.Worker(redis_broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        actors.process_events.send(ids)
        redis_broker.join("events", timeout=20_000)
        worker.join()
    finally:
        worker.stop(timeout=10_000)

    assert all(when is not None for when in processed_at(db_url, ids).values())


def test_redis_tick_recovers_events_whose_message_was_lost(
    db_url: str, redis_broker: RedisBroker
) -> None:
    lost = store_events(db_url, received_ago=timedelta(minutes=10))
    worker = dramatiq.Worker(redis_broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        actors.tick.send()
        for queue in ("ticks", "events"):
            redis_broker.join(queue, timeout=20_000)
            worker.join()
    finally:
        worker.stop(timeout=10_000)

    assert all(when is not None for when in processed_at(db_url, lost).values())


def test_queue_depths_count_messages_waiting_in_redis(redis_broker: RedisBroker) -> None:
    actors.process_events.send([1])
    actors.process_events.send([2])

    depths = broker.queue_depths(redis_broker)

    assert depths["events"] == broker.QueueDepth(ready=2, delayed=0, dead=0)
    assert depths["ticks"] == broker.QueueDepth(ready=0, delayed=0, dead=0)


def test_tickers_in_several_processes_enqueue_one_tick_per_interval(
    redis_broker: RedisBroker, redis_settings: Settings
) -> None:
    # Each `nurture worker` has its own ticker and its own connection.
    other = broker.build_broker(redis_settings)
    first, second = Ticker(redis_broker, every=60), Ticker(other, every=60)

    sent = [first.tick_once(), second.tick_once(), first.tick_once()]
    other.close()

    assert sent == [True, False, False]
    assert broker.queue_depths(redis_broker)["ticks"].ready == 1


def test_namespace_in_the_redis_url_keeps_deployments_apart() -> None:
    url, namespace = broker.redis_target(
        "redis://127.0.0.1:6379/2?namespace=acme&ssl_cert_reqs=none"
    )

    assert (url, namespace) == ("redis://127.0.0.1:6379/2?ssl_cert_reqs=none", "acme")
    assert broker.redis_target("redis://127.0.0.1:6379/0")[1] == broker.DEFAULT_NAMESPACE
