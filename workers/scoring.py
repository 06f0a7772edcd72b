"""Scoring actors: the full rescore (daily decay, after rule edits). The incremental
path runs inside `process_events` (workers.actors)."""

from __future__ import annotations

import dramatiq

from nurture.models import utcnow
from nurture.scoring.engine import rescore_all, rescore_contacts
from nurture.scoring.schedule import claim_rescore, contacts_with_events_after, last_event_id
from workers import context

RESCORE_TIME_LIMIT_MS = 2 * 60 * 60 * 1000


@dramatiq.actor(queue_name="scoring", max_retries=3, time_limit=RESCORE_TIME_LIMIT_MS)
def rescore() -> None:
    """Recompute every contact's score (decayed to now) and grade in one statement, then
    the contacts whose events arrived while it ran."""
    with context.session() as db:
        now = utcnow()
        seen_up_to = last_event_id(db)
        rescore_all(db, now=now)
    with context.session() as db:
        late = contacts_with_events_after(db, seen_up_to)
        rescore_contacts(db, late, now=utcnow())


def enqueue_due_rescore() -> bool:
    """Send `rescore` when one is due and this ticker claimed it (the tick calls this)."""
    with context.session() as db:
        claimed = claim_rescore(db, now=utcnow())
    if claimed:
        rescore.send()
    return claimed
