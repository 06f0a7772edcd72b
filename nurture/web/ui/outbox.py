"""The Outbox: what the capture mailbox kept (the embedded default when no SMTP relay is
configured), so a newcomer sees exactly what went out: headers, text and HTML; and, by
status, every message that failed, bounced or waits for a retry, with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage

from litestar import get
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import select

from campaigns.email.by_status import message_row, messages_with_status, status_counts
from campaigns.email.messages import count_captured, get_captured, list_captured
from nurture.errors import NotFound
from nurture.models import EmailMessage, MessageStatus
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import EVERYONE, page

PAGE = 50
# The filter's statuses in the order a marketer looks for trouble, with their words.
STATUS_WORDS = {
    MessageStatus.FAILED.value: "Failed",
    MessageStatus.BOUNCED.value: "Bounced",
    MessageStatus.DEFERRED.value: "Waiting to retry",
    MessageStatus.SUPPRESSED.value: "Not sent (suppressed)",
    MessageStatus.QUEUED.value: "Queued",
    MessageStatus.SENDING.value: "Sending",
    MessageStatus.SENT.value: "Sent",
}


@dataclass(frozen=True, slots=True)
class Parsed:
    headers: list[tuple[str, str]]
    html: str | None
    text: str | None


def parse(raw: bytes) -> Parsed:
    """Headers (decoded) and the HTML and text parts of a stored message."""
    mail = message_from_bytes(raw, policy=policy.default)
    if not isinstance(mail, MimeMessage):  # policy.default always builds one
        raise TypeError(f"expected an EmailMessage, got {type(mail).__name__}")
    html_part = mail.get_body(("html",))
    text_part = mail.get_body(("plain",))
    return Parsed(
        headers=[(name, str(value)) for name, value in mail.items()],
        html=html_part.get_content() if isinstance(html_part, MimeMessage) else None,
        text=text_part.get_content() if isinstance(text_part, MimeMessage) else None,
    )


@get("/outbox", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def outbox(
    db: Db,
    principal: Me,
    before: FromQuery[int | None] = None,
    status: FromQuery[str | None] = None,
) -> Template:
    """The captured mailbox by default; with a known `status`, every message in it."""
    counts = status_counts(db)
    if status is not None and status in STATUS_WORDS:
        rows = messages_with_status(db, status, before_id=before, limit=PAGE)
        return page(
            "outbox/by_status.html",
            principal,
            "content",
            rows=rows,
            next_before=rows[-1].id if len(rows) == PAGE else None,
            paged=before is not None,
            counts=counts,
            words=STATUS_WORDS,
            status=status,
        )
    captured = list_captured(db, before_id=before, limit=PAGE)
    ids = [c.message_id for c in captured if c.message_id is not None]
    found = db.execute(select(EmailMessage.id, EmailMessage.status).where(EmailMessage.id.in_(ids)))
    statuses = {message_id: message_status for message_id, message_status in found}
    return page(
        "outbox/list.html",
        principal,
        "content",
        captured=captured,
        statuses=statuses,
        total=count_captured(db),
        next_before=captured[-1].id if len(captured) == PAGE else None,
        paged=before is not None,
        counts=counts,
        words=STATUS_WORDS,
        status=None,
    )


@get("/outbox/messages/{message_id:int}", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def outbox_sent_message(db: Db, principal: Me, message_id: FromPath[int]) -> Template:
    """One message whatever became of it: status, reason, template and contact, and its
    captured copy when the mailbox kept one."""
    row = message_row(db, message_id)
    if row is None:
        raise NotFound("message", message_id)
    return page("outbox/sent_message.html", principal, "content", row=row, words=STATUS_WORDS)


@get("/outbox/{captured_id:int}", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def outbox_message(db: Db, principal: Me, captured_id: FromPath[int]) -> Template:
    captured = get_captured(db, captured_id)
    message = db.get(EmailMessage, captured.message_id) if captured.message_id else None
    return page(
        "outbox/message.html",
        principal,
        "content",
        captured=captured,
        message=message,
        mail=parse(captured.raw),
    )


handlers = [outbox, outbox_sent_message, outbox_message]
