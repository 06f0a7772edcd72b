"""What every mail transport takes and answers, whatever carries the bytes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Outcome(enum.StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # 4xx, or no connection: try again later
    PERMANENT = "permanent"  # 5xx: the address does not take mail


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message as SMTP sees it; `raw` is the complete message with CRLF line ends."""

    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    # Our EmailMessage id, when there is one (the capture mailbox links to it).
    message_id: int | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a send went: the SMTP reply code when there was one, and its text."""

    outcome: Outcome
    code: int | None = None
    detail: str = ""

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


class Transport(Protocol):
    """Sends envelopes. `send` is safe to call from several threads at once and never
    raises for delivery problems: they come back as a Delivery."""

    def send(self, envelope: Envelope) -> Delivery: ...

    def close(self) -> None: ...


def classify(code: int, detail: str) -> Delivery:
    """A Delivery for an SMTP reply code: 2xx sent, 4xx temporary, anything else permanent."""
    if 200 <= code < 300:
        return Delivery(Outcome.SENT, code, detail)
    if 400 <= code < 500:
        return Delivery(Outcome.TEMPORARY, code, detail)
    return Delivery(Outcome.PERMANENT, code, detail)
