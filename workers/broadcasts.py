"""Broadcast actors: the tick starts, decides and claims; one message sends one batch."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from campaigns.broadcasts.sending import (
    BATCH,
    Claim,
    advance,
    claim,
    due_to_start,
    live_broadcasts,
    release,
    send_claimed,
    start,
)
from campaigns.broadcasts.winner import decide, due_to_decide
from campaigns.delivery.factory import transport_for
from campaigns.sequences.caps import FrequencyCap
from nurture.models import utcnow
from workers import broker, context

# Batches claimed per tick at most; what is left waits for the next tick.
MAX_BATCHES_PER_TICK = 20
# Claim nothing while the queue holds this many batches: a claim waiting in the queue
# longer than its lease would be claimed (and its batch run) twice.
MAX_QUEUED_BATCHES = 8


# Safe to retry: a batch run again finds its messages by key and sends nothing twice.
@dramatiq.actor(queue_name="broadcasts", max_retries=10)
def send_broadcast_batch(broadcast_id: int, token: str) -> None:
    """Send the recipients of one broadcast claimed with `token`."""
    settings = context.settings()
    transport = transport_for(settings)
    with context.session() as db:
        send_claimed(
            db,
            broadcast_id,
            token,
            now=utcnow(),
            transport=transport,
            config=context.mail_config(),
            cap=FrequencyCap.from_settings(settings),
        )
    with context.session() as db:
        advance(db, broadcast_id, now=utcnow())


def enqueue_due_broadcasts() -> int:
    """Start the broadcasts whose time has come, decide finished test phases, and claim
    due recipients batch by batch, one message (ids only) per batch. Called from the
    scheduler tick; answers how many recipients were enqueued."""
    with context.session() as db:
        starting = due_to_start(db, now=utcnow())
    for broadcast_id in starting:
        with context.session() as db:
            start(db, broadcast_id, now=utcnow())
    with context.session() as db:
        deciding = due_to_decide(db, now=utcnow())
    for broadcast_id in deciding:
        with context.session() as db:
            decide(db, broadcast_id, now=utcnow())
    with context.session() as db:
        live = live_broadcasts(db)
    total = 0
    batches = 0
    for broadcast_id in live:
        with context.session() as db:
            advance(db, broadcast_id, now=utcnow())
        while batches < MAX_BATCHES_PER_TICK and _queued_batches() < MAX_QUEUED_BATCHES:
            with context.session() as db:
                claimed = claim(db, broadcast_id, now=utcnow(), limit=BATCH, lease=_lease())
            if claimed is None:
                break
            _send_or_release(claimed)
            total += claimed.size
            batches += 1
            if claimed.size < BATCH:
                break
    return total


def _lease() -> timedelta:
    """As long as a sequence step's claim: a batch whose message died with its worker
    is claimed again after it."""
    return timedelta(seconds=context.settings().step_lease_seconds)


def _queued_batches() -> int:
    depth = broker.queue_depths(broker.current()).get("broadcasts")
    return depth.ready if depth is not None else 0


def _send_or_release(claimed: Claim) -> None:
    try:
        send_broadcast_batch.send(claimed.broadcast_id, claimed.token)
    except Exception:
        with context.session() as db:
            release(db, claimed)
        raise


@dramatiq.actor(queue_name="ticks", max_retries=0)
def broadcast_tick() -> None:
    """Enqueue due broadcast batches now (the periodic tick does the same)."""
    enqueue_due_broadcasts()
