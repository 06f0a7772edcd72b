"""Messages by where they ended (failed, bounced, waiting to retry...), with why: the
Outbox's status filter and the home page's failure count read them here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import CapturedEmail, EmailMessage, EmailTemplate, MessageStatus

STATUSES = tuple(status.value for status in MessageStatus)
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One message as a list shows it: who, what, where it is and why it stopped."""

    id: int
    status: str
    to_email: str | None
    subject: str | None
    reason: str | None
    created_at: datetime
    template_id: int | None
    template_name: str | None
    contact_id: int | None
    captured_id: int | None  # its copy in the capture mailbox, when it reached it


def status_counts(session: Session) -> dict[str, int]:
    """Messages per status, every status present (zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, number in session.execute(
        select(EmailMessage.status, func.count()).group_by(EmailMessage.status)
    ):
        counts[str(status)] = int(number)
    return counts


def count_with_status(session: Session, status: str) -> int:
    query = select(func.count()).select_from(EmailMessage).where(EmailMessage.status == status)
    return int(session.scalar(query) or 0)


def _rows_query() -> Select[Any]:
    # The first captured copy of each message; a message reaches the mailbox once.
    captured = (
        select(func.min(CapturedEmail.id))
        .where(CapturedEmail.message_id == EmailMessage.id)
        .scalar_subquery()
    )
    return select(
        EmailMessage.id,
        EmailMessage.status,
        EmailMessage.to_email,
        EmailMessage.subject,
        EmailMessage.last_error,
        EmailMessage.created_at,
        EmailMessage.template_id,
        EmailTemplate.name,
        EmailMessage.contact_id,
        captured,
    ).join(EmailTemplate, EmailTemplate.id == EmailMessage.template_id, isouter=True)


def messages_with_status(
    session: Session, status: str, *, before_id: int | None = None, limit: int = 50
) -> list[MessageRow]:
    """Messages in `status`, newest first, `limit` at a time (before `before_id`)."""
    if status not in STATUSES:
        raise InvalidInput.single("status", f"must be one of {', '.join(STATUSES)}")
    query = _rows_query().where(EmailMessage.status == status)
    if before_id is not None:
        query = query.where(EmailMessage.id < before_id)
    query = query.order_by(EmailMessage.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    return [MessageRow(*row) for row in session.execute(query)]


def message_row(session: Session, message_id: int) -> MessageRow | None:
    row = session.execute(_rows_query().where(EmailMessage.id == message_id)).one_or_none()
    return None if row is None else MessageRow(*row)
