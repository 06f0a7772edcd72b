"""Actors for qualification (issue 13): load ids, call the domain.

The per-event check runs inside `process_events` (workers.actors calls
`nurture.qualification.qualify.check_contacts` there); this module holds the periodic
sweep for leads that match the MQL rule without a new event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import dramatiq

from nurture.models import utcnow
from nurture.qualification.qualify import sweep
from workers import context

log = logging.getLogger(__name__)
# Matches workers.actors.EVENTS_PER_MESSAGE: one process_events transaction of sensible size.
EVENTS_PER_MESSAGE = 1000
# process_events lives in workers.actors, a floor above this one, so it is found by name.
PROCESS_EVENTS = "process_events"


# The tick runs every few seconds; a sweep over every contact is not needed that often.
SWEEP_EVERY_SECONDS = 300.0


class SweepGate:
    """At most one sweep sent per interval by this process (several processes each
    sending one is harmless: a lead already handed over is skipped)."""

    def __init__(self) -> None:
        self.last = float("-inf")
        self.lock = threading.Lock()

    def due(self, now: float, every: float) -> bool:
        with self.lock:
            if now - self.last < every:
                return False
            self.last = now
            return True


GATE = SweepGate()


def send_sweep_if_due(*, every: float = SWEEP_EVERY_SECONDS, now: float | None = None) -> bool:
    """Called by the tick: enqueue `qualification_sweep` when `every` seconds have passed
    since this process last did; True if it did."""
    if not GATE.due(time.monotonic() if now is None else now, every):
        return False
    qualification_sweep.send()
    return True


# Safe to retry: a lead handed over has a pending hand-off, which the next run skips.
@dramatiq.actor(queue_name="qualification", max_retries=3)
def qualification_sweep() -> None:
    """Qualify leads that match the MQL rule now (up to qualify.SWEEP_LIMIT a run)."""
    with context.session() as db:
        result = sweep(db, now=utcnow())
    _send_events(result.event_ids)


def _send_events(event_ids: Sequence[int]) -> None:
    # Sent after the commit above. With the broker down the events stay unprocessed and
    # the tick's lost-event recovery sends them; a retry of the sweep would not (it finds
    # the leads handed over already).
    if not event_ids:
        return
    try:
        process = dramatiq.get_broker().get_actor(PROCESS_EVENTS)
        for start in range(0, len(event_ids), EVENTS_PER_MESSAGE):
            process.send(list(event_ids[start : start + EVENTS_PER_MESSAGE]))
    except Exception:
        log.exception("could not enqueue %d qualification events; the tick will", len(event_ids))
