"""The capture mailbox: with no SMTP relay configured, messages are kept in the database."""

from __future__ import annotations

from campaigns.delivery.transport import Delivery, Envelope, Outcome
from nurture.db import session_scope
from nurture.models import CapturedEmail


class CaptureTransport:
    """A Transport that stores each envelope as a CapturedEmail row, in its own transaction
    (so what was "sent" stays visible even when the sender's transaction rolls back)."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url

    def send(self, envelope: Envelope) -> Delivery:
        with session_scope(self._url) as session:
            session.add(
                CapturedEmail(
                    message_id=envelope.message_id,
                    sender=envelope.sender,
                    recipients=", ".join(envelope.recipients)[:2000],
                    subject=(envelope.subject or "")[:1000] or None,
                    raw=envelope.raw,
                )
            )
        return Delivery(Outcome.SENT, 250, "captured")

    def close(self) -> None:
        return None
