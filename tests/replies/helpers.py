"""Reply test builders: what a sequence sent, and replies to it as mail clients write them."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import CapturedEmail, EmailMessage, Event, utcnow

REPLY_DOMAIN = "replies.firm.example"


@dataclass(frozen=True)
class Sent:
    """The sequence's first e-mail as it left, and whom it concerns."""

    sequence_id: int
    contact_id: int
    enrolment_id: int
    message_id: int
    raw: bytes

    @property
    def mime(self) -> MimeMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, MimeMessage)
        return parsed

    @property
    def reply_to(self) -> str:
        return str(self.mime["Reply-To"].addresses[0].addr_spec)

    @property
    def message_id_header(self) -> str:
        return str(self.mime["Message-ID"])


def first_email_of(db: Session, sequence_id: int, contact_id: int, enrolment_id: int) -> Sent:
    message = db.scalars(
        select(EmailMessage).where(EmailMessage.contact_id == contact_id).order_by(EmailMessage.id)
    ).first()
    assert message is not None
    return Sent(sequence_id, contact_id, enrolment_id, message.id, captured_raw(db, message.id))


def captured_raw(db: Session, message_id: int) -> bytes:
    """The bytes of message `message_id` as the capture mailbox received them."""
    return db.scalars(select(CapturedEmail.raw).where(CapturedEmail.message_id == message_id)).one()


def reply(
    sent: Sent,
    *,
    to: str | None = None,
    threaded: bool = True,
    references: list[str] | None = None,
    subject: str | None = None,
    headers: dict[str, str] | None = None,
    body: str = "Thanks, this is useful. Could we talk on Thursday?",
) -> bytes:
    """A reply as a mail client writes it: to the Reply-To, quoting the Message-ID."""
    original = sent.mime
    message = MimeMessage()
    message["From"] = str(original["To"])
    message["To"] = to or str(original.get("Reply-To") or original["From"])
    message["Subject"] = subject or f"Re: {original['Subject']}"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="client.example.com")
    if threaded:
        message["In-Reply-To"] = sent.message_id_header
        message["References"] = sent.message_id_header
    if references is not None:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes(policy=policy.SMTP)


def events_of(db: Session, kind: str) -> list[Event]:
    return list(
        db.scalars(
            select(Event)
            .where(Event.type == kind)
            .order_by(Event.id)
            .execution_options(populate_existing=True)
        )
    )


def sent_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(CapturedEmail)) or 0)
