"""Inbound replies: match a reply to the message it answers and record it.

A reply is matched (1) by a reply address `reply+<token>@<reply domain>` among its
recipients (the SMTP envelope, To, Cc, Delivered-To, X-Original-To), else (2) by
In-Reply-To / References naming a Message-ID we sent. A reply from a person records
one `email.replied` event and exits every live enrolment of the contact with reason
`replied`, not only the one of the sequence that sent the answered message: once
a lead writes back, a person owns the conversation, and an e-mail from any other
sequence would talk past what they wrote. An automatic answer (out of office,
RFC 3834 Auto-Submitted, Precedence: bulk, a delivery report) records
`email.auto_replied` and stops nothing.

Stopping the sequences is the sequence engine's job
(`campaigns.sequences.replies.record_reply` records through here, then exits): the
e-mail floor sits below the sequences and never reaches up into them.

Idempotent: the event key comes from the inbound Message-ID (or, without one, a
hash of the bytes), so the same reply delivered twice (say, by SMTP and by the
webhook) is recorded and acted on once. Nothing here raises on bad mail; every
input gets an answer. The caller commits.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.reply_address import message_of_address
from nurture.errors import InvalidInput
from nurture.events import EventInput, Outcome, ingest
from nurture.models import Contact, EmailMessage

REPLIED = "email.replied"
AUTO_REPLIED = "email.auto_replied"
SOURCE = "inbound"
SUBJECT_SNIPPET = 200
_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
_REPLY_ADDRESS = re.compile(r"reply\+[a-z2-7]{24,80}@[a-z0-9.-]+", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_SEQUENCE_KEY = re.compile(r"^seq:(\d+):")
# Subject openings of out-of-office and vacation answers in the languages we meet most.
_AUTO_SUBJECTS = (
    "auto:",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "out of office",
    "out of the office",
    "abwesenheitsnotiz",
    "abwesend",
    "automatische antwort",
    "réponse automatique",
    "absence du bureau",
    "respuesta automática",
    "risposta automatica",
    "automatisch antwoord",
    "afwezig",
)


class ReplyOutcome(enum.StrEnum):
    MATCHED = "matched"  # a person's reply: event recorded (the sequences then stop)
    AUTO_REPLY = "auto_reply"  # an automatic answer: recorded, nothing stopped
    DUPLICATE = "duplicate"  # this reply was recorded before: nothing changed
    UNMATCHED = "unmatched"  # not an answer to a message of ours: nothing changed


@dataclass(frozen=True, slots=True)
class ReplyResult:
    """What became of one inbound message. `detail` says why when nothing was recorded."""

    outcome: ReplyOutcome
    message_id: int | None = None
    contact_id: int | None = None
    event_id: int | None = None
    stopped_enrolments: int = 0
    detail: str = ""


def record_reply(
    session: Session,
    raw: bytes,
    *,
    now: datetime,
    secret: str,
    reply_domain: str | None = None,
    envelope_recipients: Sequence[str] = (),
    envelope_sender: str | None = None,
) -> ReplyResult:
    """Match the RFC 822 message `raw` to the message it answers and act on it.

    `secret` checks reply-address tokens (only those at `reply_domain`, when given);
    the SMTP receiver passes the envelope too. Never raises for bad mail: unknown or
    unreadable messages answer UNMATCHED and change nothing. The caller commits.
    """
    mime = _parse(raw)
    if mime is None:
        return ReplyResult(ReplyOutcome.UNMATCHED, detail="not a readable e-mail message")
    message, matched_by = _find_message(
        session, mime, secret, reply_domain, [*envelope_recipients, *_recipients(mime)]
    )
    if message is None:
        return ReplyResult(
            ReplyOutcome.UNMATCHED,
            detail="no reply address or Message-ID of ours among its headers",
        )
    contact_id = message.contact_id if message.kind != "test" else None
    if contact_id is None or not _live_contact(session, contact_id):
        return ReplyResult(
            ReplyOutcome.UNMATCHED,
            message_id=message.id,
            detail="the message answered has no contact (a test or internal send, or erased)",
        )
    automatic = automatic_reason(mime, envelope_sender)
    kind = REPLIED if automatic is None else AUTO_REPLIED
    properties = _properties(mime, message, matched_by, automatic)
    event = EventInput(kind, now, properties, _event_key(kind, mime, raw), contact_id=contact_id)
    stored = ingest(session, [(0, event)], source=SOURCE).items[0]
    if stored.status is not Outcome.STORED:
        return ReplyResult(
            ReplyOutcome.DUPLICATE, message.id, contact_id, detail="this reply was recorded before"
        )
    if automatic is not None:
        return ReplyResult(
            ReplyOutcome.AUTO_REPLY, message.id, contact_id, stored.event_id, detail=automatic
        )
    return ReplyResult(ReplyOutcome.MATCHED, message.id, contact_id, stored.event_id)


def check_message(raw: bytes, field: str) -> None:
    """Raise InvalidInput naming `field` unless `raw` reads as an e-mail (it has a From)."""
    if not raw.strip():
        raise InvalidInput.single(field, "is empty; send the reply as an RFC 822 message")
    mime = _parse(raw)
    if mime is None or not _header(mime, "from"):
        raise InvalidInput.single(
            field, "is not an RFC 822 e-mail message (no From header before the first blank line)"
        )


def automatic_reason(mime: MimeMessage, envelope_sender: str | None = None) -> str | None:
    """Why this message was written by a machine (RFC 3834 and common practice), or None."""
    auto_submitted = _header(mime, "auto-submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted[:40]}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if _header(mime, name):
            return f"{name} header"
    precedence = _header(mime, "precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if envelope_sender == "" or _header(mime, "return-path").replace(" ", "") == "<>":
        return "null sender (a delivery report or automatic answer)"
    if "report-type=delivery-status" in _header(mime, "content-type").lower().replace(" ", ""):
        return "delivery-status report"
    subject = _header(mime, "subject").lower().lstrip()
    if subject.startswith(_AUTO_SUBJECTS):
        return "out-of-office subject"
    return None


def _find_message(
    session: Session,
    mime: MimeMessage,
    secret: str,
    reply_domain: str | None,
    recipients: Iterable[str],
) -> tuple[EmailMessage | None, str]:
    for text in recipients:
        for address in _REPLY_ADDRESS.findall(text):
            message_id = message_of_address(secret, address, reply_domain)
            if message_id is not None:
                found = session.get(EmailMessage, message_id)
                if found is not None:
                    return found, "reply_address"
    for name in ("in-reply-to", "references"):
        ids = _MESSAGE_ID.findall(_header(mime, name))
        if not ids:
            continue
        rows = {
            m.message_id_header: m
            for m in session.scalars(
                select(EmailMessage).where(EmailMessage.message_id_header.in_(ids))
            )
        }
        # References lists the thread oldest first: the last one of ours is the answered one.
        for candidate in reversed(ids):
            if candidate in rows:
                return rows[candidate], name
    return None, ""


def _recipients(mime: MimeMessage) -> list[str]:
    return [value for name in _RECIPIENT_HEADERS for value in _headers(mime, name)]


def _live_contact(session: Session, contact_id: int) -> bool:
    row = session.execute(select(Contact.erased_at).where(Contact.id == contact_id)).first()
    return row is not None and row.erased_at is None


def _properties(
    mime: MimeMessage, message: EmailMessage, matched_by: str, automatic: str | None
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "message_id": message.id,
        "subject": " ".join(_header(mime, "subject").split())[:SUBJECT_SNIPPET],
        "matched_by": matched_by,
    }
    inbound_id = _MESSAGE_ID.search(_header(mime, "message-id"))
    if inbound_id is not None:
        properties["inbound_message_id"] = inbound_id.group(0)
    sequence_step = _SEQUENCE_KEY.match(message.idempotency_key)
    if sequence_step is not None:
        properties["enrolment_id"] = int(sequence_step.group(1))
    if automatic is not None:
        properties["automatic"] = automatic
    return properties


def _event_key(kind: str, mime: MimeMessage, raw: bytes) -> str:
    # Relays add their own Received headers, so the bytes of one reply differ per
    # delivery path; its Message-ID does not.
    inbound_id = _MESSAGE_ID.search(_header(mime, "message-id"))
    basis = inbound_id.group(0).encode() if inbound_id is not None else raw
    return f"{kind}:{hashlib.sha256(basis).hexdigest()[:48]}"


def _parse(raw: bytes) -> MimeMessage | None:
    # Headers only: matching never needs the body, and a large attachment costs nothing.
    try:
        mime = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    except Exception:  # noqa: BLE001 - the lenient parser's rare internal errors mean unreadable
        return None
    return mime if isinstance(mime, MimeMessage) else None


def _header(mime: MimeMessage, name: str) -> str:
    values = _headers(mime, name)
    return values[0] if values else ""


def _headers(mime: MimeMessage, name: str) -> list[str]:
    try:
        return [str(value) for value in mime.get_all(name, [])]
    except Exception:  # noqa: BLE001 - a malformed header value must not sink the whole message
        return []
