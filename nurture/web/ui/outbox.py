"""The Outbox: what the capture mailbox kept (the embedded default when no SMTP relay is
configured), so a newcomer sees exactly what went out: headers, text and HTML."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage

from litestar import get
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import select

from campaigns.email.messages import count_captured, get_captured, list_captured
from nurture.models import EmailMessage
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import EVERYONE, page

PAGE = 50


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
def outbox(db: Db, principal: Me, before: FromQuery[int | None] = None) -> Template:
    captured = list_captured(db, before_id=before, limit=PAGE)
    ids = [c.message_id for c in captured if c.message_id is not None]
    rows = db.execute(select(EmailMessage.id, EmailMessage.status).where(EmailMessage.id.in_(ids)))
    statuses = {message_id: status for message_id, status in rows}
    return page(
        "outbox/list.html",
        principal,
        "content",
        captured=captured,
        statuses=statuses,
        total=count_captured(db),
        next_before=captured[-1].id if len(captured) == PAGE else None,
        paged=before is not None,
    )


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


handlers = [outbox, outbox_message]
