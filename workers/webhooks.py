"""Webhook actors: send one delivery by id, and the tick that finds due retries.

Deliveries queued in a transaction (by `process_events`, a replay) are sent only
after that transaction commits (`send_after_commit`), on their own `webhooks`
queue: a slow or dead endpoint never holds up event processing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime

import dramatiq
import httpx
from sqlalchemy.orm import Session

from nurture.models import utcnow
from nurture.webhooks import delivery
from workers import broker, context

log = logging.getLogger(__name__)
# The tick sends no more while this many deliveries wait in the queue untaken.
MAX_QUEUED = 500
# A delivery that finds every sending slot of its process taken comes back this much later.
BUSY_DELAY_MS = 2000
_lazy_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None
_client: httpx.Client | None = None


# Retrying is safe: the claim lets one attempt through, a second run finds nothing due.
# Worker threads are shared with event processing: the low priority (a higher number)
# lets waiting `process_events` messages go first, and `_sending_slots` keeps half the
# threads free of sends, so endpoints that hang cannot take every thread.
@dramatiq.actor(queue_name="webhooks", max_retries=3, priority=100)
def deliver_webhook(delivery_id: int) -> None:
    """Make the due attempt of one delivery, or come back shortly when the process is busy
    sending others."""
    slots = _sending_slots()
    if not slots.acquire(blocking=False):
        deliver_webhook.send_with_options(args=(delivery_id,), delay=BUSY_DELAY_MS)
        return
    try:
        deliver_one(delivery_id)
    finally:
        slots.release()


def _shared_client() -> httpx.Client:
    """One client per process, so sends to the same endpoint reuse their connections."""
    global _client
    with _lazy_lock:
        if _client is None:
            _client = delivery.new_client()
        return _client


def _sending_slots() -> threading.BoundedSemaphore:
    """Half the worker threads (at least one) may send webhooks at once in this process."""
    global _slots
    with _lazy_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(
                max(1, context.settings().embedded_worker_threads // 2)
            )
        return _slots


def deliver_one(
    delivery_id: int, *, now: datetime | None = None, client: httpx.Client | None = None
) -> str | None:
    """Claim, send and record one attempt, each step in its own transaction; answers the
    delivery's new state, or None when the attempt was not ours to make."""
    now = now or utcnow()
    with context.session() as db:
        claimed = delivery.claim(db, delivery_id, now=now)
    if claimed is None:
        return None
    outcome = delivery.send(claimed, now=now, client=client or _shared_client())
    with context.session() as db:
        return delivery.record(db, claimed, outcome, now=now)


@dramatiq.actor(queue_name="ticks", max_retries=0)
def webhook_tick() -> None:
    """Send the deliveries whose retry is due (and any whose message was lost)."""
    send_due()


def send_due(*, now: datetime | None = None) -> list[int]:
    """Enqueue the due deliveries; answers their ids."""
    if _queued() >= MAX_QUEUED:
        return []
    with context.session() as db:
        due = delivery.due_ids(db, now=now or utcnow(), limit=MAX_QUEUED)
    send_deliveries(due)
    return due


def send_after_commit(session: Session, delivery_ids: Iterable[int]) -> None:
    """Have `deliver_webhook` run for these deliveries once `session` commits."""
    _keep_deliveries(session, delivery_ids)


def send_deliveries(delivery_ids: Sequence[int]) -> None:
    """Enqueue now; a broker outage is logged, not raised (the tick sends them later)."""
    try:
        for delivery_id in delivery_ids:
            deliver_webhook.send(delivery_id)
    except Exception:
        log.exception("could not enqueue %d webhook deliveries; the tick will", len(delivery_ids))


_keep_deliveries = context.after_commit("webhook_deliveries_to_send", send_deliveries)


def _queued() -> int:
    try:
        depth = broker.queue_depths(broker.current()).get("webhooks")
    except RuntimeError:
        return 0
    return depth.ready if depth is not None else 0
