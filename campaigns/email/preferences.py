"""Topic preferences and unsubscribing, for the public page behind a signed token.

The web layer verifies nothing itself: it passes the token from the URL and
the application secret, and these functions check it (TokenError, a DomainError,
means 4xx) and act. "Unsubscribe from all" puts the address on the suppression
list (reason `unsubscribed`), which every marketing send checks; a topic opt-out
only skips mail of that topic. Everything here is idempotent: a second one-click
POST changes nothing and still answers success.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from campaigns.email.topics import TOPIC_SLUGS, TOPICS
from nurture.contacts import get_contact, is_suppressed, suppress
from nurture.contacts.addresses import email_hash, normalise_email
from nurture.errors import InvalidInput, NotFound
from nurture.events import EventInput, ingest
from nurture.models import Contact, Suppression, SuppressionReason, TopicOptOut, utcnow
from templates.render import signer_for
from templates.tokens import UnsubscribeRef


@dataclass(frozen=True, slots=True)
class TopicChoice:
    slug: str
    label: str
    subscribed: bool


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the public page shows: the address masked, each topic, and whether the
    address is unsubscribed from everything."""

    contact_id: int
    message_id: int | None
    email_masked: str
    locale: str
    topics: list[TopicChoice]
    unsubscribed_all: bool


def verify_token(token: str, *, secret: str) -> UnsubscribeRef:
    """The contact (and message) a token names; TokenError when it is not ours."""
    return signer_for(secret).verify_unsubscribe(token)


def preferences(session: Session, token: str, *, secret: str) -> Preferences:
    """The preferences of the contact the token names. TokenError, or NotFound when the
    contact is gone (erased) or the token is a test send's (it names no contact)."""
    ref = verify_token(token, secret=secret)
    contact = _contact(session, ref)
    if contact.email is None:
        raise RuntimeError("contact.email is None, but a contact with a token has an address")
    opted_out = topic_opt_outs(session, contact.id)
    locale = (contact.locale or "en")[:2]
    return Preferences(
        contact_id=contact.id,
        message_id=ref.message_id,
        email_masked=mask_email(contact.email),
        locale=locale,
        topics=[TopicChoice(t.slug, t.label(locale), t.slug not in opted_out) for t in TOPICS],
        unsubscribed_all=_unsubscribed(session, contact.email),
    )


def update_topics(
    session: Session, token: str, *, subscribed: Iterable[str], secret: str
) -> Preferences:
    """Keep the topics in `subscribed`, opt out of the others; the caller commits.
    InvalidInput names an unknown topic."""
    ref = verify_token(token, secret=secret)
    contact = _contact(session, ref)
    wanted = set(subscribed)
    unknown = sorted(wanted - TOPIC_SLUGS)
    if unknown:
        raise InvalidInput.single("topics", f"unknown topic {unknown[0]!r}")
    before = topic_opt_outs(session, contact.id)
    after = TOPIC_SLUGS - wanted
    for slug in sorted(after - before):
        session.add(TopicOptOut(contact_id=contact.id, topic=slug))
    if before - after:
        session.execute(
            delete(TopicOptOut).where(
                TopicOptOut.contact_id == contact.id, TopicOptOut.topic.in_(before - after)
            )
        )
    if after != before:
        _event(
            session,
            contact.id,
            "email.preferences_changed",
            {"opted_out": sorted(after), "message_id": ref.message_id},
            key=None,
        )
    session.flush()
    return preferences(session, token, secret=secret)


def unsubscribe_all(session: Session, token: str, *, secret: str, source: str = "page") -> bool:
    """Suppress the contact's address as unsubscribed; True when this call did it, False
    when it already was (idempotent: RFC 8058 one-click POSTs may repeat). Commits nothing."""
    ref = verify_token(token, secret=secret)
    contact = _contact(session, ref)
    if contact.email is None:
        raise RuntimeError("contact.email is None, but a contact with a token has an address")
    if is_suppressed(session, contact.email):
        return False
    suppress(
        session,
        contact.email,
        reason=SuppressionReason.UNSUBSCRIBED,
        detail=f"{source}, message {ref.message_id}" if ref.message_id else source,
    )
    _event(
        session,
        contact.id,
        "email.unsubscribed",
        {"message_id": ref.message_id, "source": source},
        key=f"email.unsubscribed:{contact.id}:{ref.message_id or 0}",
    )
    return True


def resubscribe(session: Session, token: str, *, secret: str) -> bool:
    """Undo "unsubscribe from all" from the same page; True when something changed.

    Only an `unsubscribed` suppression is lifted: bounces and complaints stay."""
    ref = verify_token(token, secret=secret)
    contact = _contact(session, ref)
    if contact.email is None:
        raise RuntimeError("contact.email is None, but a contact with a token has an address")
    digest = email_hash(normalise_email(contact.email))
    removed = session.execute(
        delete(Suppression).where(
            Suppression.email_hash == digest,
            Suppression.reason == SuppressionReason.UNSUBSCRIBED.value,
        )
    )
    changed = bool(getattr(removed, "rowcount", 0))
    if changed:
        _event(session, contact.id, "email.resubscribed", {"message_id": ref.message_id}, None)
    return changed


def topic_opt_outs(session: Session, contact_id: int) -> set[str]:
    """The topics a contact opted out of."""
    return set(
        session.scalars(select(TopicOptOut.topic).where(TopicOptOut.contact_id == contact_id))
    )


def mask_email(email: str) -> str:
    """`a***@example.com`: enough for the person to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _contact(session: Session, ref: UnsubscribeRef) -> Contact:
    contact = get_contact(session, ref.contact_id) if ref.contact_id else None
    if contact is None or contact.email is None:
        raise NotFound("contact", ref.contact_id)
    return contact


def _unsubscribed(session: Session, email: str) -> bool:
    digest = email_hash(normalise_email(email))
    return (
        session.scalar(select(Suppression.id).where(Suppression.email_hash == digest)) is not None
    )


def _event(
    session: Session, contact_id: int, kind: str, props: dict[str, object], key: str | None
) -> None:
    ingest(
        session,
        [(0, EventInput(kind, utcnow(), dict(props), key, contact_id=contact_id))],
        source="unsubscribe",
    )
