"""Actors: load ids, call a domain function. No logic lives here."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from nurture import events
from workers import context
from workers.imports import run_import


@dramatiq.actor(queue_name="events", max_retries=20)
def process_events(event_ids: list[int]) -> None:
    """Run everything that reacts to newly ingested events (later: scoring, segments, sequences)."""
    with context.session() as db:
        events.mark_processed(db, event_ids)


# Events older than this and still unprocessed lost their queue message.
LOST_AFTER = timedelta(minutes=2)
# At most this many ids are re-sent per tick: when workers run more than
# LOST_AFTER behind, each tick adds one bounded batch of (harmless) duplicate
# ids rather than re-sending the whole backlog.
RECOVER_PER_TICK = 500


@dramatiq.actor(queue_name="ticks", max_retries=0)
def tick() -> None:
    """Periodic housekeeping: re-enqueue events whose queue message was lost."""
    with context.session() as db:
        lost = events.unprocessed_event_ids(db, older_than=LOST_AFTER, limit=RECOVER_PER_TICK)
    if lost:
        process_events.send(lost)


ALL: list[dramatiq.Actor] = [process_events, tick, run_import]  # type: ignore[type-arg]
