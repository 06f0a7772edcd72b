"""One place that picks the broker: Redis in production, in-process when embedded.

Actors are declared against whatever broker is installed when their module is
imported; `install` re-binds all of them, so tests and the CLI can switch
brokers after import.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from nurture.config import Settings

DEFAULT_NAMESPACE = "nurture"
# A Redis that does not answer must fail a readiness probe, not hang it; the
# read timeout stays generous because Dramatiq's Lua scripts run server-side.
_CONNECT_TIMEOUT = 5.0
_READ_TIMEOUT = 30.0

_installed: dramatiq.Broker | None = None


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """Messages in one queue: waiting to run, waiting for their delay (retries), dead."""

    ready: int
    delayed: int
    dead: int


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


def redis_target(url: str) -> tuple[str, str]:
    """Split NURTURE_REDIS_URL into the URL for redis-py and the key namespace.

    An optional `?namespace=` query parameter lets several deployments (or test
    runs) share one Redis without seeing each other's queues.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    namespace = next((value for key, value in query if key == "namespace"), "")
    rest = urlencode([(key, value) for key, value in query if key != "namespace"])
    return urlunsplit(parts._replace(query=rest)), namespace or DEFAULT_NAMESPACE


def build_broker(settings: Settings, *, namespace: str | None = None) -> dramatiq.Broker:
    """A Redis broker when NURTURE_REDIS_URL is set, otherwise an in-process one."""
    if settings.redis_url:
        url, url_namespace = redis_target(settings.redis_url)
        pool = redis.ConnectionPool.from_url(
            url, socket_connect_timeout=_CONNECT_TIMEOUT, socket_timeout=_READ_TIMEOUT
        )
        return RedisBroker(  # type: ignore[no-untyped-call]
            connection_pool=pool,
            namespace=namespace or url_namespace,
            middleware=_middleware(),
        )
    return StubBroker(middleware=_middleware())


def install(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make `broker` the global one and move every actor declared so far onto it.

    Actors declare themselves on the global broker when their module is imported,
    so the previous global broker knows all of them; reading them from it (rather
    than importing the actor modules here) keeps this module below the actors.
    """
    global _installed
    previous = dramatiq.get_broker()
    dramatiq.set_broker(broker)
    _installed = broker
    for name in sorted(previous.get_declared_actors()):
        actor = previous.get_actor(name)
        actor.broker = broker
        broker.declare_actor(actor)
    return broker


def current() -> dramatiq.Broker:
    if _installed is None:
        raise RuntimeError("no broker installed: call workers.broker.install() first")
    return _installed


def ping(broker: dramatiq.Broker) -> None:
    """Raise if the broker cannot take messages (Redis: PING; in-process: always can)."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()


def queue_depths(broker: dramatiq.Broker) -> dict[str, QueueDepth]:
    """How many messages each declared queue holds, read without consuming any."""
    names = sorted(q for q in broker.get_declared_queues() if q not in broker.delay_queues)
    if isinstance(broker, RedisBroker):
        # Key layout of Dramatiq's Redis broker: a list per queue (and per delay
        # queue) of message ids, and a sorted set of dead-lettered ids.
        pipe = broker.client.pipeline(transaction=False)
        for name in names:
            pipe.llen(f"{broker.namespace}:{name}")
            pipe.llen(f"{broker.namespace}:{dq_name(name)}")
            pipe.zcard(f"{broker.namespace}:{xq_name(name)}")
        counts = [int(n) for n in pipe.execute()]
        return {name: QueueDepth(*counts[3 * i : 3 * i + 3]) for i, name in enumerate(names)}
    if isinstance(broker, StubBroker):
        return {
            name: QueueDepth(
                ready=broker.queues[name].qsize(),
                delayed=broker.queues[dq_name(name)].qsize(),
                dead=len(broker.dead_letters_by_queue[name]),
            )
            for name in names
        }
    return {}


# Declaring actors needs some broker; until `install` runs, a stub stands in so
# importing this package never opens a network connection.
dramatiq.set_broker(StubBroker(middleware=_middleware()))
