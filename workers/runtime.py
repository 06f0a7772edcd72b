"""Starting background work: inside the web process (embedded) or in `dramatiq` workers.

Embedded (no NURTURE_REDIS_URL): the web process installs an in-process broker
and runs Dramatiq worker threads plus the scheduler ticker. With Redis the web
process only enqueues; `nurture worker` runs the workers and the ticker.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq

from nurture.config import Settings, get_settings
from workers import broker, context, lifeline
from workers.ticker import Ticker

# Idle worker threads wake this often to notice a stop; in-process queues make
# waking cheap, and a short wait keeps web shutdown (and each test app) quick.
EMBEDDED_WAKE_MS = 100


def message_grace_ms(shutdown_seconds: float) -> int:
    """How long a stopping Dramatiq worker waits for messages in progress, in milliseconds.

    `Worker.stop(timeout)` may wait that long twice (worker threads, then
    consumers), and a `dramatiq` worker process notices a signal up to a second
    late, so 40% of what is left after that second keeps the whole stop inside
    `shutdown_seconds`. A message that does not finish in time is redelivered
    or found again by the tick.
    """
    return max(100, int((shutdown_seconds - 1) * 400))


@dataclass
class RuntimeHandle:
    """What this process runs in the background; `stop()` is safe to call twice."""

    broker: dramatiq.Broker
    worker: dramatiq.Worker | None = None
    ticker: Ticker | None = None
    stopped: bool = False
    stop_timeout_ms: int = message_grace_ms(30)

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
            self.worker.stop(timeout=self.stop_timeout_ms)
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
    return RuntimeHandle(
        installed, worker, ticker, stop_timeout_ms=message_grace_ms(settings.shutdown_seconds)
    )


def install_for_worker() -> None:
    """Entry point for `dramatiq` worker processes started by `nurture worker`.

    Runs in each worker process before it consumes: ties the process's life to
    the `dramatiq` main process (see workers/lifeline.py), points actors at
    this process's settings and re-binds them to the Redis broker.
    """
    lifeline.die_with_parent()
    settings = get_settings()
    if settings.embedded_broker:
        raise RuntimeError("NURTURE_REDIS_URL must be set for `nurture worker`")
    context.configure(settings)
    broker.install(broker.build_broker(settings))
