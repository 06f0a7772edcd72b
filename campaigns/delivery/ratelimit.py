"""Per-domain token buckets: at most `rate` messages a second to each recipient domain."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class DomainRateLimiter:
    """Thread-safe. `rate` <= 0 disables limiting; `burst` is how many may go at once."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = rate
        self._burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # domain -> (tokens, time of last refill)
        self._buckets: dict[str, tuple[float, float]] = {}

    def reserve(self, domain: str) -> float:
        """Take a token for `domain`; answers how many seconds to wait before using it."""
        if self._rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(domain, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            tokens -= 1.0
            self._buckets[domain] = (tokens, now)
            if len(self._buckets) > 100_000:
                self._forget_full(now)
        # A negative balance is a queue: this caller waits its turn.
        return 0.0 if tokens >= 0 else -tokens / self._rate

    def acquire(self, domain: str) -> None:
        """Block until a message to `domain` may go."""
        wait = self.reserve(domain)
        if wait > 0:
            self._sleep(wait)

    def _forget_full(self, now: float) -> None:
        # Buckets that refilled completely carry no state worth keeping.
        full = [
            d
            for d, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self._rate >= self._burst
        ]
        for domain in full:
            del self._buckets[domain]
