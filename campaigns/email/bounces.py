"""Acting on relay notices: permanent bounces and complaints suppress the address.

The web layer verifies a webhook (`campaigns.delivery.sns` / `sendgrid`) and hands
the notices here. A notice finds its message by our id (X-Nurture-Message header,
SendGrid custom argument) or by Message-ID; a notice we cannot map still
suppresses the address when it is a hard bounce or complaint, since the relay
speaks for the address, not for our bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.notices import Notice, NoticeKind
from nurture.contacts import suppress
from nurture.contacts.addresses import normalise_email
from nurture.events import EventInput, ingest
from nurture.models import Contact, EmailMessage, MessageStatus, SuppressionReason, utcnow

_EVENT = {
    NoticeKind.HARD_BOUNCE: "email.bounced",
    NoticeKind.SOFT_BOUNCE: "email.soft_bounced",
    NoticeKind.COMPLAINT: "email.complained",
    NoticeKind.DELIVERED: "email.delivered",
}


@dataclass(frozen=True, slots=True)
class NoticeResult:
    notice: Notice
    message_id: int | None
    suppressed: bool


def apply_notices(session: Session, notices: Sequence[Notice]) -> list[NoticeResult]:
    """Apply relay notices; idempotent (a redelivered webhook changes nothing twice).
    The caller commits."""
    results: list[NoticeResult] = []
    for notice in notices:
        try:
            address = normalise_email(notice.email)
        except ValueError:
            continue
        message = _find(session, notice, address)
        suppressed = False
        if notice.kind is NoticeKind.HARD_BOUNCE:
            suppressed = suppress(
                session,
                address,
                reason=SuppressionReason.HARD_BOUNCE,
                detail=f"{notice.provider}: {notice.detail}"[:500],
            )
            if message is not None and message.status in (
                MessageStatus.SENT.value,
                MessageStatus.DEFERRED.value,
                MessageStatus.SENDING.value,
            ):
                message.status = MessageStatus.BOUNCED.value
                message.last_error = f"{notice.provider}: {notice.detail}"[:1000]
                message.pending_raw = None
        elif notice.kind is NoticeKind.COMPLAINT:
            suppressed = suppress(
                session,
                address,
                reason=SuppressionReason.COMPLAINT,
                detail=f"{notice.provider}: {notice.detail}"[:500],
            )
        _record(session, notice, message, address)
        results.append(NoticeResult(notice, message.id if message else None, suppressed))
    session.flush()
    return results


def _find(session: Session, notice: Notice, address: str) -> EmailMessage | None:
    message = None
    if notice.message_id is not None:
        message = session.get(EmailMessage, notice.message_id)
    if message is None and notice.message_id_header:
        message = session.scalar(
            select(EmailMessage).where(
                EmailMessage.message_id_header == notice.message_id_header.strip()
            )
        )
    # The id came from the relay's copy of our headers; trust it only for that address.
    if message is not None and (message.to_email or "").lower() != address:
        return None
    return message


def _record(session: Session, notice: Notice, message: EmailMessage | None, address: str) -> None:
    kind = _EVENT.get(notice.kind)
    if kind is None:
        return
    contact_id = message.contact_id if message is not None and message.kind != "test" else None
    if contact_id is None:
        contact_id = session.scalar(
            select(Contact.id).where(Contact.email == address, Contact.erased_at.is_(None))
        )
    if contact_id is None:
        return
    props: dict[str, object] = {"provider": notice.provider, "detail": notice.detail}
    if message is not None:
        props["message_id"] = message.id
    key = f"{kind}:{notice.provider}:{notice.provider_id}:{address}" if notice.provider_id else None
    ingest(
        session,
        [(0, EventInput(kind, utcnow(), props, key[:200] if key else None, contact_id=contact_id))],
        source=notice.provider,
    )
