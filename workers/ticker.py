"""The scheduler tick: a daemon thread that enqueues the `tick` actor at a fixed interval.

Several processes may tick at once (the web process when embedded, every
`nurture worker` in production). That is safe because the tick's work is
idempotent: it only re-sends ids of events still unprocessed, and
`process_events` marks only rows whose `processed_at` is still empty, so a
duplicate message changes nothing. On Redis the tickers also claim each
interval with `SET NX PX`, so the cluster enqueues about one tick per
interval instead of one per process.
"""

from __future__ import annotations

import logging
import secrets
import threading

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from workers import actors

log = logging.getLogger(__name__)


class Ticker:
    """Sends `tick` now and then every `every` seconds until `stop()`."""

    def __init__(self, broker: dramatiq.Broker, every: float) -> None:
        if every <= 0:
            raise ValueError(f"tick interval must be positive, got {every}")
        self.broker = broker
        self.every = every
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nurture-ticker", daemon=True)
        self._token = secrets.token_hex(8)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop ticking; waits at most `timeout` seconds, so a shutdown stays bounded.

        The thread is a daemon: one caught in a slow enqueue is left to end with
        the process, and the next tick (here or in another process) does its work.
        """
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def tick_once(self) -> bool:
        """Enqueue one tick unless another process claimed this interval; True if sent."""
        if not self._claim():
            return False
        # A tick that waited longer than two intervals (workers down) is stale:
        # the next one does the same work, so AgeLimit drops the old one.
        max_age_ms = int(self.every * 2000)
        message = actors.tick.message_with_options(max_age=max_age_ms)
        self.broker.enqueue(message)
        return True

    def _claim(self) -> bool:
        if not isinstance(self.broker, RedisBroker):
            return True
        key = f"{self.broker.namespace}:tick-claim"
        # Expire a little before the interval ends so the next claim is free on time.
        ttl_ms = max(1, int(self.every * 900))
        return bool(self.broker.client.set(key, self._token, nx=True, px=ttl_ms))

    def _run(self) -> None:
        # The first tick comes one interval after start, not at once: a process that
        # is still starting (or a test that is still setting up) is not raced by it.
        while not self._stopping.wait(self.every):
            try:
                self.tick_once()
            except Exception:
                # A broker hiccup must not kill the scheduler; the next tick retries.
                log.exception("could not enqueue the scheduler tick")
