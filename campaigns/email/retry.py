"""Driving messages that did not finish: deferred retries, interrupted and stranded sends.

The scheduler tick (or an actor) calls these:

- `retry_due` resends deferred messages whose `next_attempt_at` has come, with the
  very bytes built the first time (kept in `pending_raw`);
- `recover_interrupted` puts back messages stuck in `sending` past their lease (the
  process died during the transport) to be sent again with the same Message-ID;
- `resume_queued` finishes messages recorded `queued` whose sender died before
  claiming them (nothing went out), and those `recover_interrupted` put back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from campaigns.delivery.transport import Delivery, Envelope, Outcome, Transport
from campaigns.email import records
from campaigns.email.mailconfig import MailConfig
from campaigns.email.overrides import Overrides
from nurture.errors import InvalidInput, NotFound
from nurture.events import EventInput, ingest
from nurture.models import EmailMessage, MessageStatus, TemplateKind, utcnow


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


# How long a claim may go without a result before the send counts as interrupted.
# Well above the SMTP timeouts (30 s per command by default): a slow but living
# sender finishes first, so it is not sent twice. NURTURE_SEND_LEASE_SECONDS sets it.
SEND_LEASE = timedelta(minutes=5)
_INTERRUPTED = "interrupted while sending; sent again with the same Message-ID"


def recover_interrupted(
    session: Session, *, lease: timedelta = SEND_LEASE, now: datetime | None = None
) -> list[int]:
    """Put back messages left `sending` longer than `lease` (their sender died mid-send)
    so that they are sent again, at least once, with the same Message-ID.

    Whether the relay took the first copy cannot be known; a second copy with the
    same Message-ID is one message to the receiver, a lost one is a gap. So:

    - a message that kept its built bytes (an interrupted retry) becomes `deferred`,
      due now: `retry_due` sends those very bytes;
    - a marketing message becomes `queued`, due now: `resume_queued` (or the caller
      re-running the send with its key) renders it again, and `outgoing.message_id_for`
      gives it the same Message-ID;
    - anything else (a test or internal message, whose context is not stored) and a
      message out of attempts is failed, with an `email.failed` event.

    Answers the ids put back or failed; the caller commits.
    """
    now = now or utcnow()
    stuck = (
        EmailMessage.status == MessageStatus.SENDING.value,
        EmailMessage.claimed_at < now - lease,
    )
    fresh = EmailMessage.attempts < records.MAX_ATTEMPTS
    # Each UPDATE names the old status: two tickers never both put a message back.
    again = [
        *session.scalars(
            update(EmailMessage)
            .where(*stuck, fresh, EmailMessage.pending_raw.is_not(None))
            .values(
                status=MessageStatus.DEFERRED.value,
                next_attempt_at=now,
                last_error=_INTERRUPTED,
                updated_at=now,
            )
            .returning(EmailMessage.id)
        ),
        *session.scalars(
            update(EmailMessage)
            .where(*stuck, fresh, EmailMessage.kind == TemplateKind.MARKETING.value)
            .values(
                status=MessageStatus.QUEUED.value,
                next_attempt_at=now,
                last_error=_INTERRUPTED,
                updated_at=now,
            )
            .returning(EmailMessage.id)
        ),
    ]
    rows = session.execute(
        update(EmailMessage)
        .where(*stuck)
        .values(
            status=MessageStatus.FAILED.value,
            last_error="interrupted while sending and cannot be built again",
            pending_raw=None,
            updated_at=now,
        )
        .returning(EmailMessage.id, EmailMessage.contact_id, EmailMessage.kind)
    ).all()
    _failed_events(
        session,
        [(mid, contact_id, kind) for mid, contact_id, kind in rows],
        "interrupted while sending",
    )
    return sorted([*again, *(mid for mid, _, _ in rows)])


def _failed_events(session: Session, rows: list[tuple[int, int | None, str]], error: str) -> None:
    when = utcnow()
    items = [
        (
            i,
            EventInput(
                type="email.failed",
                occurred_at=when,
                properties={"message_id": mid, "error": error[:500]},
                idempotency_key=f"email.failed:{mid}",
                contact_id=contact_id,
            ),
        )
        for i, (mid, contact_id, kind) in enumerate(rows)
        if contact_id is not None and kind != "test"
    ]
    if items:
        ingest(session, items, source="email")


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
    claimed (the sender died between recording and claiming), and those put back by
    `recover_interrupted` (due at `next_attempt_at`). Commits; answers ids.

    Each is built from what its row kept: its template version, its extra context and
    the overrides of the experiment variant it was sent as (`send_to_contact` reads
    them from the row, so a resumed message is the variant first chosen)."""
    from campaigns.email.pipeline import send_to_contact  # the pipeline imports records too

    now = now or utcnow()
    cutoff = now - older_than
    stranded = session.execute(
        select(
            EmailMessage.id,
            EmailMessage.idempotency_key,
            EmailMessage.template_id,
            EmailMessage.contact_id,
            EmailMessage.extra,
            EmailMessage.overrides,
        )
        .where(
            EmailMessage.status == MessageStatus.QUEUED.value,
            or_(EmailMessage.created_at < cutoff, EmailMessage.next_attempt_at <= now),
            EmailMessage.kind == TemplateKind.MARKETING.value,
        )
        .order_by(EmailMessage.id)
        .limit(limit)
    ).all()
    resumed: list[int] = []
    for mid, key, template_id, contact_id, extra, stored in stranded:
        if template_id is None or contact_id is None:
            continue
        extra_values: Mapping[str, Any] = extra or {}
        try:
            send_to_contact(
                session,
                template_id,
                contact_id,
                idempotency_key=key,
                transport=transport,
                config=config,
                extra=extra_values,
                overrides=Overrides.from_json(stored),
            )
        except (NotFound, InvalidInput) as exc:
            # The contact or template went away (erased?): nothing can be sent, and one
            # such message must not hold up the others.
            session.rollback()
            _give_up(session, mid, contact_id, str(exc))
        resumed.append(mid)
    return resumed


def _give_up(session: Session, message_id: int, contact_id: int, why: str) -> None:
    failed = session.scalars(
        update(EmailMessage)
        .where(EmailMessage.id == message_id, EmailMessage.status == MessageStatus.QUEUED.value)
        .values(status=MessageStatus.FAILED.value, last_error=why[:1000], updated_at=utcnow())
        .returning(EmailMessage.id)
    ).all()
    if failed:
        _failed_events(session, [(message_id, contact_id, TemplateKind.MARKETING.value)], why)
    session.commit()
