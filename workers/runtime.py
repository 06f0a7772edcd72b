"""Starting background work inside the web process: the embedded runtime."""

from __future__ import annotations

from dataclasses import dataclass, field

import dramatiq

from nurture.config import Settings
from workers import broker, context


@dataclass
class RuntimeHandle:
    worker: dramatiq.Worker | None = None
    stopped: bool = field(default=False)

    def stop(self) -> None:
        if self.worker is not None and not self.stopped:
            self.worker.stop()
        self.stopped = True


def start_for_web(settings: Settings) -> RuntimeHandle:
    """Install the broker; with no Redis configured, run worker threads in this process."""
    context.configure(settings)
    installed = broker.install(broker.build_broker(settings))
    if not settings.embedded_broker:
        return RuntimeHandle()
    worker = dramatiq.Worker(installed, worker_threads=settings.embedded_worker_threads)
    worker.start()
    return RuntimeHandle(worker)
