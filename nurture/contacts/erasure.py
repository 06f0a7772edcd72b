"""GDPR erasure and the suppression list."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from nurture import audit
from nurture.contacts.addresses import email_hash, normalise_email
from nurture.contacts.input import TEXT_FIELDS
from nurture.contacts.store import get_contact
from nurture.models import (
    AuditEntry,
    Event,
    NpsSurvey,
    SegmentMember,
    Suppression,
    SuppressionReason,
    Testimonial,
    TestimonialStatus,
    utcnow,
)


def erase_contact(session: Session, contact_id: int, *, actor: str) -> None:
    """GDPR erasure: empty every personal field, strip event properties, suppress the address.

    The row and its events' types and times stay, so aggregate reports still
    add up; nothing left can identify the person. The address survives only
    as a hash on the suppression list, so they are never mailed again.
    """
    contact = get_contact(session, contact_id)
    if contact.email:
        suppress(
            session, contact.email, reason=SuppressionReason.ERASED, detail="erased on request"
        )
    for name in ("email", *TEXT_FIELDS, "time_zone", "locale", "owner_id"):
        setattr(contact, name, None)
    contact.attributes = {}
    contact.erased_at = utcnow()
    session.execute(update(Event).where(Event.contact_id == contact_id).values(properties={}))
    # Their quotes are their words: withdrawn, with the signature and consent record gone,
    # so no library, case study or e-mail shows them again.
    session.execute(
        update(Testimonial)
        .where(Testimonial.contact_id == contact_id)
        .values(
            status=TestimonialStatus.WITHDRAWN.value,
            quote="",
            display_name=None,
            consent={},
            withdrawn_at=contact.erased_at,
            withdrawn_by="erasure",
        )
    )
    # What they wrote in their surveys may name people or projects; the scores stay, so
    # NPS figures still add up.
    session.execute(
        update(NpsSurvey)
        .where(NpsSurvey.contact_id == contact_id)
        .values(follow_up=None, comment=None)
    )
    # An erased person is in no segment (and so in no list a sequence could mail).
    session.execute(delete(SegmentMember).where(SegmentMember.contact_id == contact_id))
    # Audit entries may quote the person's data in their changes; keep the fact, drop the data.
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.entity_type == "contact", AuditEntry.entity_id == str(contact_id))
        .values(changes={})
    )
    audit.record(
        session, actor=actor, action="contact.erased", entity_type="contact", entity_id=contact_id
    )


def suppress(
    session: Session, email: str, *, reason: SuppressionReason, detail: str | None = None
) -> bool:
    """Put an address on the suppression list; False when it was already there."""
    digest = email_hash(normalise_email(email))
    if session.scalar(select(Suppression.id).where(Suppression.email_hash == digest)) is not None:
        return False
    session.add(Suppression(email_hash=digest, reason=reason.value, detail=detail))
    session.flush()
    return True


def is_suppressed(session: Session, email: str) -> bool:
    digest = email_hash(normalise_email(email))
    return (
        session.scalar(select(Suppression.id).where(Suppression.email_hash == digest)) is not None
    )
