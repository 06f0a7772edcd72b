"""Actors: load ids, call a domain function. No logic lives here.

`hand_over` is the one way stored events reach `process_events`, from the API,
the pages, the command line and the actors themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

import dramatiq
from sqlalchemy.orm import Session

from campaigns.sequences.enrol import enrol_from_events
from campaigns.sequences.wakeups import wake_event_waits
from nurture import events
from nurture.models import utcnow
from nurture.qualification.qualify import check_contacts
from nurture.reviews import referrals
from nurture.scoring import engine as scoring
from nurture.scoring import predictive
from nurture.webhooks.queueing import queue_for_events
from segments import membership
from workers import context
from workers.broadcasts import broadcast_tick, enqueue_due_broadcasts, send_broadcast_batch
from workers.email import email_tick, send_email
from workers.experiments import enqueue_due_refresh, refresh_experiments
from workers.handoffs import escalation_sweep, notify_after_commit, notify_handoffs
from workers.imports import run_import
from workers.predictive import enqueue_weekly_refit, fit_predictive_model
from workers.qualification import qualification_sweep, send_sweep_if_due
from workers.reviews import thank_after_commit, thank_referrals
from workers.scoring import enqueue_due_rescore, rescore
from workers.sequences import (
    enqueue_due_steps,
    run_enrolment_step,
    run_enrolment_steps,
    sequence_tick,
)
from workers.webhooks import deliver_webhook, send_after_commit, webhook_tick
from workers.webinars import webinar_tick

log = logging.getLogger(__name__)
# Ids per `process_events` message: one transaction of reasonable size.
EVENTS_PER_MESSAGE = 1000


@dramatiq.actor(queue_name="events", max_retries=20)
def process_events(event_ids: list[int]) -> None:
    """Run everything that reacts to newly ingested events, in the transaction that
    marks them processed: segment membership, scores, qualification and the hand-off
    (whose rep is e-mailed after the commit), sequence triggers and waits, webhooks.

    One transaction, so a lost or failed message leaves the events unprocessed and
    the tick sends them again; nothing is half done. Events this writes (segment
    enter/exit, lifecycle.changed, lead.qualified) are processed in turn: they may
    trigger sequences and webhooks; the incremental segment check ignores segment.*
    events, and scoring finds the same score again, so that round settles.
    """
    with context.session() as db:
        now = utcnow()
        marked = events.mark_processed(db, event_ids)
        changes = membership.check_after_events(db, marked)
        touched = scoring.contacts_of(db, marked)
        rescored = scoring.rescore_contacts(db, touched, now=now)
        # Fresh probabilities before the MQL rule reads them.
        predictive.predict_contacts(db, sorted(touched), now=now)
        qualified = check_contacts(db, rescored, now=now)
        notify_after_commit(db, qualified.handoff_ids)
        enrol_from_events(db, marked, now=now)
        wake_event_waits(db, marked, now=now)
        thank_after_commit(db, referrals.advance(db, marked))
        hand_over(db, [*(i for change in changes for i in change.event_ids), *qualified.event_ids])
        send_after_commit(db, queue_for_events(db, marked))


def hand_over(session: Session, event_ids: Iterable[int]) -> None:
    """Have `process_events` run these stored events once `session` commits.

    Never before the commit (a worker must find the rows it is sent), and not at
    all when the session rolls back. Whoever stores events calls this and commits
    as usual; nobody enqueues event ids by hand.
    """
    _keep_events(session, event_ids)


def send_events(event_ids: Sequence[int]) -> None:
    """Enqueue committed events now, in messages of EVENTS_PER_MESSAGE ids.

    For writers without a Session (the click recorder); everyone else calls
    `hand_over`. A broker outage is logged, never raised: the events are stored,
    and the tick's lost-event sweep sends them again, so an outage delays
    processing but does not turn a stored batch into an error.
    """
    try:
        for start in range(0, len(event_ids), EVENTS_PER_MESSAGE):
            process_events.send(list(event_ids[start : start + EVENTS_PER_MESSAGE]))
    except Exception:
        log.exception("could not enqueue %d stored events; the tick will", len(event_ids))


_keep_events = context.after_commit("events_to_hand_over", send_events)


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
            hand_over(db, change.event_ids)


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
    send_events(lost)
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
    # Broadcasts: start the due ones, decide finished test phases, claim batches.
    enqueue_due_broadcasts()
    # Webhook retries that are due, on the webhooks queue.
    webhook_tick.send()
    # The daily decay, and the rescore after scoring rules changed.
    enqueue_due_rescore()
    # Leads that match the MQL rule without a new event (a rule edited, a date passing).
    send_sweep_if_due()
    # Overdue hand-offs and escalating tasks go to their team lead; lost hand-off e-mails.
    escalation_sweep.send()
    # The weekly refit of the predictive model.
    enqueue_weekly_refit()
    # Experiments whose metrics and results are due a refresh, on the experiments queue.
    enqueue_due_refresh()


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
    deliver_webhook,
    webhook_tick,
    rescore,
    qualification_sweep,
    notify_handoffs,
    escalation_sweep,
    fit_predictive_model,
    refresh_experiments,
    send_broadcast_batch,
    broadcast_tick,
    thank_referrals,
]
