"""Prometheus metrics of one app instance: HTTP traffic, queue depth, event backlog,
failed e-mail.

Each app has its own registry, so tests can build many apps in one process.
HTTP metrics are counted by this process. Queue and event figures are read
at scrape time from Redis (or the in-process broker) and the database, so
every web process reports the same, cluster-wide numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from time import perf_counter

import dramatiq
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select

from nurture.db import get_engine
from nurture.models import EmailMessage, Event, MessageStatus
from workers.broker import queue_depths

log = logging.getLogger(__name__)

# Counting a huge backlog on every scrape would cost more than it tells;
# past this many the gauge saturates and the alert has fired anyway.
UNPROCESSED_CAP = 100_000
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The registry of one app and the ASGI middleware that feeds it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "nurture_http_requests",
            "HTTP requests handled by this process, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nurture_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Wrap `app` so every HTTP request is counted and timed."""

        async def record(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = perf_counter()
            status = 500

            async def capture(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, capture)
            finally:
                # The route template, not the raw path, keeps label values bounded.
                route = scope.get("path_template") or "unmatched"
                method = scope.get("method", "")
                self.requests.labels(method, route, str(status)).inc()
                self.latency.labels(method, route).observe(perf_counter() - started)

        return record

    def render(self, *, database_url: str, broker: dramatiq.Broker | None) -> bytes:
        """The text exposition: this process's HTTP figures plus a fresh backlog reading."""
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Backlog(database_url, broker))
        return generate_latest(self.registry) + generate_latest(scrape)


class _Backlog:
    """Reads queue depth and event figures when collected; a failing source reads as down."""

    def __init__(self, database_url: str, broker: dramatiq.Broker | None) -> None:
        self.database_url = database_url
        self.broker = broker

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "nurture_metrics_source_up",
            "1 if this scrape could read the source (database, broker), else 0.",
            labels=["source"],
        )
        yield from self._events(up)
        yield from self._queues(up)
        yield up

    def _events(self, up: GaugeMetricFamily) -> Iterator[Metric]:
        try:
            with get_engine(self.database_url).connect() as conn:
                last_id = conn.scalar(select(func.max(Event.id))) or 0
                pending = select(Event.id).where(Event.processed_at.is_(None))
                unprocessed = conn.scalar(
                    select(func.count()).select_from(pending.limit(UNPROCESSED_CAP).subquery())
                )
                failed = conn.execute(
                    select(EmailMessage.kind, func.count())
                    .where(EmailMessage.status == MessageStatus.FAILED.value)
                    .group_by(EmailMessage.kind)
                ).all()
        except Exception:
            log.warning("metrics: database unreadable", exc_info=True)
            up.add_metric(["database"], 0)
            return
        up.add_metric(["database"], 1)
        yield GaugeMetricFamily(
            "nurture_events_last_id",
            "Highest stored event id. Grows by one per ingested event (ids skipped by "
            "duplicates or rollbacks make it an upper bound); use rate() for ingest rate.",
            value=last_id,
        )
        yield GaugeMetricFamily(
            "nurture_events_unprocessed",
            f"Stored events no worker has processed yet (capped at {UNPROCESSED_CAP}).",
            value=unprocessed or 0,
        )
        # "failed" is a final status, so the number only grows (until old messages are
        # deleted): a counter, and rate() says how fast sends are failing.
        counter = CounterMetricFamily(
            "nurture_email_failed",
            "E-mail messages that failed for good (not sent: render error, retries exhausted, "
            "interrupted send), by kind (marketing, internal, test). "
            "Their reasons are in the Outbox, filtered to failed.",
            labels=["kind"],
        )
        for kind, number in sorted(failed):
            counter.add_metric([str(kind)], int(number))
        yield counter

    def _queues(self, up: GaugeMetricFamily) -> Iterator[Metric]:
        if self.broker is None:
            up.add_metric(["broker"], 0)
            return
        try:
            depths = queue_depths(self.broker)
        except Exception:
            log.warning("metrics: broker unreadable", exc_info=True)
            up.add_metric(["broker"], 0)
            return
        up.add_metric(["broker"], 1)
        gauge = GaugeMetricFamily(
            "nurture_queue_messages",
            "Messages in each Dramatiq queue: ready to run, delayed (retries), dead-lettered.",
            labels=["queue", "state"],
        )
        for queue, depth in sorted(depths.items()):
            gauge.add_metric([queue, "ready"], depth.ready)
            gauge.add_metric([queue, "delayed"], depth.delayed)
            gauge.add_metric([queue, "dead"], depth.dead)
        yield gauge
