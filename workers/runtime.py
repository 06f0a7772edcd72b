"""Starting background work: inside the web process (embedded) or in `dramatiq` workers.

Embedded (no NURTURE_REDIS_URL): the web process installs an in-process broker
and runs Dramatiq worker threads plus the scheduler ticker. With Redis the web
process only enqueues; `nurture worker` runs the workers and the ticker.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq

from nurture.config import Settings, get_settings
from workers import broker, context
from workers.ticker import Ticker

# How long shutdown waits for messages in progress before giving up on them
# (an unfinished message is redelivered or found again by the tick).
STOP_TIMEOUT_MS = 30_000
# Idle worker threads wake this often to notice a stop; in-process queues make
# waking cheap, and a short wait keeps web shutdown (and each test app) quick.
EMBEDDED_WAKE_MS = 100


@dataclass
class RuntimeHandle:
    """What this process runs in the background; `stop()` is safe to call twice."""

    broker: dramatiq.Broker
    worker: dramatiq.Worker | None = None
    ticker: Ticker | None = None
    stopped: bool = False

    def problem(self) -> str | None:
        """Why this runtime cannot do its work right now, or None when it can."""
        try:
            broker.ping(self.broker)
        except Exception as exc:  # noqa: BLE001 - any failure to reach it is the answer
            return f"broker unreachable ({type(exc).__name__})"
        if self.stopped:
            return "background runtime stopped"
        if self.worker is not None:
            threads = [*self.worker.workers, *self.worker.consumers.values()]
            if not threads or not all(t.is_alive() for t in threads):
                return "in-process worker threads are not running"
        if self.ticker is not None and not self.ticker.is_alive():
            return "scheduler ticker is not running"
        return None

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.ticker is not None:
            self.ticker.stop()
        if self.worker is not None:
            self.worker.stop(timeout=STOP_TIMEOUT_MS)
        self.broker.close()


def start_for_web(settings: Settings) -> RuntimeHandle:
    """Install the broker; with no Redis configured, run workers and the ticker in this process."""
    context.configure(settings)
    installed = broker.install(broker.build_broker(settings))
    if not settings.embedded_broker:
        return RuntimeHandle(installed)
    worker = dramatiq.Worker(
        installed,
        worker_threads=settings.embedded_worker_threads,
        worker_timeout=EMBEDDED_WAKE_MS,
    )
    worker.start()
    ticker = Ticker(installed, settings.tick_seconds).start()
    return RuntimeHandle(installed, worker, ticker)


def install_for_worker() -> None:
    """Entry point for `dramatiq` worker processes started by `nurture worker`.

    Runs in each worker process before it consumes: points actors at this
    process's settings and re-binds them to the Redis broker.
    """
    settings = get_settings()
    if settings.embedded_broker:
        raise RuntimeError("NURTURE_REDIS_URL must be set for `nurture worker`")
    context.configure(settings)
    broker.install(broker.build_broker(settings))
