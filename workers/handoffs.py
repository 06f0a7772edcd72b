"""Hand-off actors: e-mail the rep of a new hand-off, and the SLA sweep (which also
escalates overdue sequence tasks that asked for it, such as a detractor's call).

`notify_after_commit` is how qualification (in `process_events`) and the inbox's
reassign get the rep told within a second: the ids ride on the session and are
enqueued only once it commits, like `workers.actors.hand_over`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

import dramatiq
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.sequences import task_escalation
from nurture.models import utcnow
from nurture.qualification import escalation, notify
from workers import context

log = logging.getLogger(__name__)
# A hand-off still not notified this long after it was made lost its message.
NOTIFY_LOST_AFTER = timedelta(minutes=1)
# Escalation alerts of this recent past are re-sent by key (a no-op unless lost).
ALERT_LOOKBACK = timedelta(hours=1)


# Retrying is safe: each e-mail's idempotency key makes a second run send nothing.
@dramatiq.actor(queue_name="email", max_retries=5)
def notify_handoffs(handoff_ids: list[int]) -> None:
    """E-mail the owners of these hand-offs (those not notified yet)."""
    settings = context.settings()
    with context.session() as db:
        notify.notify_handoffs(
            db,
            handoff_ids,
            now=utcnow(),
            transport=transport_for(settings),
            config=context.mail_config(),
        )


@dramatiq.actor(queue_name="ticks", max_retries=0)
def escalation_sweep() -> None:
    """Escalate overdue hand-offs and tasks and alert their team leads; re-send lost
    notices."""
    settings = context.settings()
    transport = transport_for(settings)
    now = utcnow()
    with context.session() as db:
        done = escalation.escalate(db, now=now)
    _process_events(done.event_ids)
    with context.session() as db:
        alert = sorted(
            set(done.handoff_ids) | set(notify.recently_escalated(db, since=now - ALERT_LOOKBACK))
        )
        notify.notify_escalations(db, alert, transport=transport, config=context.mail_config())
    with context.session() as db:
        lost = notify.unnotified(db, older_than=now - NOTIFY_LOST_AFTER)
        notify.notify_handoffs(db, lost, now=now, transport=transport, config=context.mail_config())
    with context.session() as db:
        task_escalation.escalate_overdue(
            db, now=now, transport=transport, config=context.mail_config()
        )


def _process_events(event_ids: list[int]) -> None:
    """Enqueue committed events for `process_events` (as `workers.actors.send_events`
    does). Found by name: workers.actors sits a floor above and imports this module."""
    if not event_ids:
        return
    try:
        dramatiq.get_broker().get_actor("process_events").send(event_ids)
    except Exception:
        # Stored all the same: the tick's lost-event sweep sends them a little later.
        log.exception("could not enqueue %d hand-off events; the tick will", len(event_ids))


def notify_after_commit(session: Session, handoff_ids: Iterable[int]) -> None:
    """Have `notify_handoffs` e-mail these hand-offs' owners once `session` commits
    (never before: the worker must find the rows; not at all on a rollback)."""
    _keep_handoffs(session, handoff_ids)


def _send_notices(handoff_ids: list[int]) -> None:
    try:
        notify_handoffs.send(sorted(set(handoff_ids)))
    except Exception:
        # The hand-offs are stored; the sweep's safety net e-mails them a minute on.
        log.exception("could not enqueue the notice of %d hand-offs", len(handoff_ids))


_keep_handoffs = context.after_commit("handoffs_to_notify", _send_notices)
