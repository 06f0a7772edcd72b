"""The read side of messages: one message with its events, the capture mailbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.errors import NotFound
from nurture.models import CapturedEmail, EmailMessage, Event


@dataclass(frozen=True, slots=True)
class MessageView:
    message: EmailMessage
    events: list[Event]


def get_message(session: Session, message_id: int) -> EmailMessage:
    """The message; NotFound if there is none."""
    message = session.get(EmailMessage, message_id)
    if message is None:
        raise NotFound("message", message_id)
    return message


def message_with_events(session: Session, message_id: int) -> MessageView:
    """A message and the `email.*` events that name it, oldest first."""
    message = get_message(session, message_id)
    events: list[Event] = []
    if message.contact_id is not None:
        candidates = session.scalars(
            select(Event)
            .where(Event.contact_id == message.contact_id, Event.type.like("email.%"))
            .order_by(Event.occurred_at, Event.id)
        )
        # Filtered here: JSON property access differs between SQLite and PostgreSQL,
        # and one contact has few e-mail events.
        events = [e for e in candidates if e.properties.get("message_id") == message_id]
    return MessageView(message, events)


def link_target(session: Session, message_id: int, link_index: int) -> str | None:
    """Where tracked link number `link_index` of a message leads, or None (unknown)."""
    links = session.scalar(select(EmailMessage.links).where(EmailMessage.id == message_id))
    if not links or not 0 <= link_index < len(links):
        return None
    target: str = links[link_index]
    return target


def list_captured(
    session: Session, *, before_id: int | None = None, limit: int = 50
) -> list[CapturedEmail]:
    """Captured messages newest first (the Outbox page), `limit` at a time."""
    stmt = select(CapturedEmail).order_by(CapturedEmail.id.desc()).limit(max(1, min(limit, 200)))
    if before_id is not None:
        stmt = stmt.where(CapturedEmail.id < before_id)
    return list(session.scalars(stmt))


def get_captured(session: Session, captured_id: int) -> CapturedEmail:
    captured = session.get(CapturedEmail, captured_id)
    if captured is None:
        raise NotFound("captured message", captured_id)
    return captured


def count_captured(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CapturedEmail)) or 0
