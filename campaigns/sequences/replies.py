"""A person's reply ends their sequences: record it, then exit every live enrolment.

Every live enrolment of the contact exits with reason `replied`, not only the one of
the sequence that sent the answered message: once a lead writes back, a person owns
the conversation, and an e-mail from any other sequence would talk past what they
wrote. Automatic answers, duplicates and unmatched mail stop nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.email import replies
from campaigns.email.replies import ReplyOutcome, ReplyResult
from campaigns.sequences.control import exit_live_enrolments
from nurture.models import Enrolment

EXIT_REASON = "replied"


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
    """`campaigns.email.replies.record_reply`, then the contact's sequences stop on a match.

    Never raises for bad mail. The caller commits.
    """
    result = replies.record_reply(
        session,
        raw,
        now=now,
        secret=secret,
        reply_domain=reply_domain,
        envelope_recipients=envelope_recipients,
        envelope_sender=envelope_sender,
    )
    if result.outcome is not ReplyOutcome.MATCHED or result.contact_id is None:
        return result
    stopped = stop_sequences(session, result.contact_id, now=now)
    return dataclasses.replace(result, stopped_enrolments=stopped)


def stop_sequences(session: Session, contact_id: int, *, now: datetime) -> int:
    """Exit every live (active or paused) enrolment of the contact with reason `replied`."""
    return exit_live_enrolments(
        session, Enrolment.contact_id == contact_id, reason=EXIT_REASON, now=now
    )
