"""Rate limits counted in-process first, for an endpoint that must answer without I/O.

`LocalCounts.hit(limit, key)` decides from the deployment's shared count of the key as
last read, plus this process's hits not yet added to it: no round trip, no thread. A
background thread adds those hits to the shared counters (`nurture.ratelimit`: Redis,
or the database) every `interval` seconds, one call per key however many hits it
took, and reads the total back. So every hit is still counted where all processes
see it; within one process the limit is exact, and across processes it holds up to
what the others took in the last interval (100 ms by default). If the counters cannot
be reached, the hits stay queued and the limit is kept by this process's own count.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from nurture.ratelimit import Decision, Limit, Limiter

log = logging.getLogger(__name__)
Slot = tuple[Limit, str, int]  # the limit, the key, the start of its window


class LocalCounts:
    """In-process counts of rate-limited hits, added to the shared counters in the background."""

    def __init__(self, limiter: Limiter, *, interval: float = 0.1) -> None:
        self._limiter = limiter
        self._interval = interval
        self._lock = threading.Lock()
        self._unsent: dict[Slot, int] = {}
        self._sending: dict[Slot, int] = {}
        # The shared total of each slot as last read (it includes what was sent).
        self._shared: dict[Slot, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hit(self, limit: Limit, key: str) -> Decision:
        """Count one attempt and say whether it is within the limit; never blocks on I/O."""
        now = time.time()
        start = int(now // limit.window_seconds) * limit.window_seconds
        slot = (limit, key, start)
        with self._lock:
            unsent = self._unsent.get(slot, 0) + 1
            self._unsent[slot] = unsent
            hits = self._shared.get(slot, 0) + self._sending.get(slot, 0) + unsent
        if hits <= limit.hits:
            return Decision(True, hits, 0)
        left = max(1, math.ceil(start + limit.window_seconds - now))
        return Decision(False, hits, left)

    def start(self) -> LocalCounts:
        self._thread = threading.Thread(target=self._run, name="local-limits", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Add what is still unsent (one last try)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.sync()

    def sync(self) -> bool:
        """Add the unsent hits to the shared counters now; False if some could not be."""
        with self._lock:
            batch, self._unsent = self._unsent, {}
            self._sending = dict(batch)
        done = True
        for slot, count in batch.items():
            limit, key, window_start = slot
            try:
                total = self._limiter.add(limit, key, count, window_start)
            except Exception:
                # The counters are away: the rest waits for the next round.
                log.exception("could not add rate-limit hits; will retry")
                done = False
                break
            with self._lock:
                self._shared[slot] = total
                del self._sending[slot]
        now = time.time()
        with self._lock:
            for slot, count in self._sending.items():
                self._unsent[slot] = self._unsent.get(slot, 0) + count
            self._sending = {}
            self._shared = {
                s: n for s, n in self._shared.items() if s[2] + s[0].window_seconds > now
            }
        return done

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sync()
            except Exception:
                log.exception("adding rate-limit hits failed")
