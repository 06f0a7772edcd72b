"""Actors: load ids, call a domain function. No logic lives here."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from campaigns.sequences.enrol import enrol_from_events
from campaigns.sequences.wakeups import wake_event_waits
from nurture import events
from nurture.models import utcnow
from segments import membership
from workers import context
from workers.email import email_tick, send_email
from workers.imports import run_import
from workers.sequences import (
    enqueue_due_steps,
    run_enrolment_step,
    run_enrolment_steps,
    sequence_tick,
)
from workers.webinars import webinar_tick


@dramatiq.actor(queue_name="events", max_retries=20)
def process_events(event_ids: list[int]) -> None:
    """Run everything that reacts to newly ingested events: segment membership and
    sequence triggers (later: scoring), in the transaction that marks them processed.

    One transaction, so a lost or failed message leaves the events unprocessed and
    the tick sends them again; nothing is half done. Segment enter/exit events this
    emits are processed in turn (they may trigger sequences); the incremental check
    ignores segment.* events, so that second round changes no membership.
    """
    with context.session() as db:
        marked = events.mark_processed(db, event_ids)
        changes = membership.check_after_events(db, marked)
        enrol_from_events(db, marked, now=utcnow())
        wake_event_waits(db, marked, now=utcnow())
    _send_in_batches([i for change in changes for i in change.event_ids])


# Dynamic segments are fully refreshed this often (relative dates move with time;
# contact edits that are not events are caught here too).
SEGMENT_REFRESH_EVERY = timedelta(minutes=10)
SEGMENT_REFRESH_TIME_LIMIT_MS = 60 * 60 * 1000


@dramatiq.actor(queue_name="segments", max_retries=3, time_limit=SEGMENT_REFRESH_TIME_LIMIT_MS)
def refresh_segments(segment_ids: list[int]) -> None:
    """Fully refresh these segments in the given (dependency) order, one transaction each."""
    for segment_id in segment_ids:
        with context.session() as db:
            change = membership.refresh_segment(db, segment_id)
        _send_in_batches(change.event_ids)


def _send_in_batches(event_ids: list[int], size: int = 1000) -> None:
    for start in range(0, len(event_ids), size):
        process_events.send(event_ids[start : start + size])


# Events older than this and still unprocessed lost their queue message.
LOST_AFTER = timedelta(minutes=2)
# At most this many ids are re-sent per tick: when workers run more than
# LOST_AFTER behind, each tick adds one bounded batch of (harmless) duplicate
# ids rather than re-sending the whole backlog.
RECOVER_PER_TICK = 500


@dramatiq.actor(queue_name="ticks", max_retries=0)
def tick() -> None:
    """Periodic housekeeping: re-enqueue events whose queue message was lost, send
    the dynamic segments that are due for a full refresh, and the e-mail retries."""
    with context.session() as db:
        lost = events.unprocessed_event_ids(db, older_than=LOST_AFTER, limit=RECOVER_PER_TICK)
    if lost:
        process_events.send(lost)
    with context.session() as db:
        due = membership.claim_due_segments(db, now=utcnow(), every=SEGMENT_REFRESH_EVERY)
    if due:
        refresh_segments.send(due)
    # Deferred (4xx) messages, interrupted sends and stranded queued messages.
    email_tick.send()
    # Webinar reminders that are due.
    webinar_tick.send()
    # Due sequence steps: claimed here, one message per batch on the sequences queue.
    enqueue_due_steps()


ALL: list[dramatiq.Actor] = [  # type: ignore[type-arg]
    process_events,
    tick,
    run_import,
    refresh_segments,
    send_email,
    email_tick,
    run_enrolment_step,
    run_enrolment_steps,
    sequence_tick,
    webinar_tick,
]
