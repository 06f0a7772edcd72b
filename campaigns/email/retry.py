"""Driving messages that did not finish: deferred retries, interrupted and stranded sends.

The scheduler tick (or an actor) calls these:

- `retry_due` resends deferred messages whose `next_attempt_at` has come, with the
  very bytes built the first time (kept in `pending_raw`);
- `recover_interrupted` fails messages stuck in `sending`: the process died during
  the transport, and sending again could deliver twice;
- `resume_queued` finishes messages recorded `queued` whose sender died before
  claiming them: nothing went out, so they are sent now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.delivery.transport import Delivery, Envelope, Outcome, Transport
from campaigns.email import records
from campaigns.email.mailconfig import MailConfig
from nurture.events import EventInput, ingest
from nurture.models import EmailMessage, MessageStatus, utcnow


def retry_due(
    session: Session,
    *,
    transport: Transport,
    now: datetime | None = None,
    limit: int = 200,
) -> list[int]:
    """Resend deferred messages that are due; answers the ids tried. Commits."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(EmailMessage.id)
            .where(
                EmailMessage.status == MessageStatus.DEFERRED.value,
                EmailMessage.next_attempt_at <= now,
            )
            .order_by(EmailMessage.next_attempt_at)
            .limit(limit)
        )
    )
    tried: list[int] = []
    for message_id in due:
        # Claimed one by one, each by an UPDATE naming the old status: two tickers
        # running at once never both resend a message.
        row = session.execute(
            update(EmailMessage)
            .where(
                EmailMessage.id == message_id,
                EmailMessage.status == MessageStatus.DEFERRED.value,
            )
            .values(
                status=MessageStatus.SENDING.value,
                claimed_at=utcnow(),
                attempts=EmailMessage.attempts + 1,
            )
            .returning(
                EmailMessage.id,
                EmailMessage.idempotency_key,
                EmailMessage.contact_id,
                EmailMessage.to_email,
                EmailMessage.attempts,
                EmailMessage.pending_raw,
                EmailMessage.from_email,
                EmailMessage.subject,
                EmailMessage.kind,
                EmailMessage.template_id,
                EmailMessage.topic,
            )
        ).first()
        session.commit()
        if row is None:
            continue
        mid, key, contact_id, to_email, attempts, raw, sender, subject, kind, tid, topic = row
        claimed = records.Claimed(
            mid, key, None if kind == "test" else contact_id, to_email or "", attempts
        )
        props: dict[str, Any] = {"template_id": tid, "retry": True}
        if topic:
            props["topic"] = topic
        if raw is None or not to_email:
            done = records.Finished(
                claimed,
                Delivery(Outcome.TEMPORARY),
                error="nothing kept to resend (address erased?)",
            )
        else:
            delivery = transport.send(
                Envelope(sender or "", (to_email,), raw, message_id=mid, subject=subject)
            )
            done = records.Finished(claimed, delivery, raw=raw)
        records.finish(session, [done], props)
        session.commit()
        tried.append(mid)
    return tried


def recover_interrupted(
    session: Session, *, older_than: timedelta = timedelta(minutes=15), now: datetime | None = None
) -> list[int]:
    """Fail messages left `sending` longer than `older_than` (their sender died mid-send).

    They are not resent: the relay may have accepted them, and a duplicate is worse
    than a gap that an operator can see. Answers the ids; the caller commits.
    """
    cutoff = (now or utcnow()) - older_than
    rows = session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.status == MessageStatus.SENDING.value,
            EmailMessage.claimed_at < cutoff,
        )
        .values(
            status=MessageStatus.FAILED.value,
            last_error="interrupted while sending; not resent, so it cannot arrive twice",
            pending_raw=None,
        )
        .returning(EmailMessage.id, EmailMessage.contact_id, EmailMessage.kind)
    ).all()
    when = utcnow()
    items = [
        (
            i,
            EventInput(
                type="email.failed",
                occurred_at=when,
                properties={"message_id": mid, "error": "interrupted while sending"},
                idempotency_key=f"email.failed:{mid}",
                contact_id=contact_id,
            ),
        )
        for i, (mid, contact_id, kind) in enumerate(rows)
        if contact_id is not None and kind != "test"
    ]
    if items:
        ingest(session, items, source="email")
    return [mid for mid, _, _ in rows]


def resume_queued(
    session: Session,
    *,
    transport: Transport,
    config: MailConfig,
    older_than: timedelta = timedelta(minutes=5),
    limit: int = 200,
    now: datetime | None = None,
) -> list[int]:
    """Send marketing messages recorded `queued` longer than `older_than` ago and never
    claimed (the sender died between recording and claiming). Commits; answers ids."""
    from campaigns.email.pipeline import send_to_contact  # the pipeline imports records too

    cutoff = (now or utcnow()) - older_than
    stranded = session.execute(
        select(
            EmailMessage.id,
            EmailMessage.idempotency_key,
            EmailMessage.template_id,
            EmailMessage.contact_id,
            EmailMessage.extra,
        )
        .where(
            EmailMessage.status == MessageStatus.QUEUED.value,
            EmailMessage.created_at < cutoff,
            EmailMessage.kind == "marketing",
        )
        .order_by(EmailMessage.id)
        .limit(limit)
    ).all()
    resumed: list[int] = []
    for mid, key, template_id, contact_id, extra in stranded:
        if template_id is None or contact_id is None:
            continue
        extra_values: Mapping[str, Any] = extra or {}
        send_to_contact(
            session,
            template_id,
            contact_id,
            idempotency_key=key,
            transport=transport,
            config=config,
            extra=extra_values,
        )
        resumed.append(mid)
    return resumed
