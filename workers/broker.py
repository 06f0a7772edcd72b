"""One place that picks the broker: Redis in production, in-process when embedded.

Actors are declared against whatever broker is installed when their module is
imported; `install` re-binds all of them, so tests and the CLI can switch
brokers after import.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from nurture.config import Settings

_installed: dramatiq.Broker | None = None


def _middleware() -> list[dramatiq.Middleware]:
    # Prometheus middleware is left out: /metrics reports queue depth itself.
    return [
        AgeLimit(),
        TimeLimit(time_limit=10 * 60 * 1000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=10, min_backoff=1000, max_backoff=5 * 60 * 1000),
    ]


def build_broker(settings: Settings, *, namespace: str = "nurture") -> dramatiq.Broker:
    if settings.redis_url:
        return RedisBroker(  # type: ignore[no-untyped-call]
            url=settings.redis_url, namespace=namespace, middleware=_middleware()
        )
    return StubBroker(middleware=_middleware())


def install(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make `broker` the global one and declare every known actor on it."""
    global _installed
    dramatiq.set_broker(broker)
    _installed = broker
    from workers import actors

    for actor in actors.ALL:
        actor.broker = broker
        broker.declare_actor(actor)
    return broker


def current() -> dramatiq.Broker:
    if _installed is None:
        raise RuntimeError("no broker installed: call workers.broker.install() first")
    return _installed


# Declaring actors needs some broker; until `install` runs, a stub stands in so
# importing this package never opens a network connection.
dramatiq.set_broker(StubBroker(middleware=_middleware()))
