"""The global frequency cap: at most N marketing e-mails per contact per rolling window.

N comes from the NURTURE_FREQUENCY_CAP setting (workers build the cap with
`FrequencyCap.from_settings`); every sequence and broadcast counts towards it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import DEFAULT_FREQUENCY_CAP, Settings
from nurture.models import EmailMessage, MessageStatus, TemplateKind
from nurture.sqlsets import among

# Messages that went out or may still go out count; suppressed or failed ones do not.
_COUNTED = (
    MessageStatus.QUEUED.value,
    MessageStatus.SENDING.value,
    MessageStatus.SENT.value,
    MessageStatus.DEFERRED.value,
)


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """`limit` marketing e-mails per contact in any `window`; 0 turns the cap off."""

    limit: int = DEFAULT_FREQUENCY_CAP
    window: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Settings) -> FrequencyCap:
        return cls(limit=settings.frequency_cap)


def postpone_until(
    session: Session,
    contact_id: int,
    *,
    now: datetime,
    cap: FrequencyCap,
    ignore_key: str,
) -> datetime | None:
    """None when one more marketing e-mail fits under the cap now; otherwise the moment
    the oldest counted message leaves the rolling window and one more fits.

    `ignore_key` is the message about to be sent, so a retried step is not
    counted against itself. Counts every sequence and broadcast alike.
    """
    if cap.limit <= 0:
        return None
    times = counted_sends(session, {contact_id: ignore_key}, now=now, cap=cap).get(contact_id, [])
    if len(times) < cap.limit:
        return None
    # The newest `limit` messages fill the window; the oldest of them must drop out.
    return times[cap.limit - 1] + cap.window + timedelta(seconds=1)


def counted_sends(
    session: Session, ignore_keys: Mapping[int, str], *, now: datetime, cap: FrequencyCap
) -> dict[int, list[datetime]]:
    """Contact id -> when its messages that count against the cap were created, newest
    first, leaving out each contact's own message about to be sent (`ignore_keys`);
    set-based, for one contact or a batch of them."""
    sent: dict[int, list[datetime]] = {}
    for contact_id, key, created in session.execute(
        select(
            EmailMessage.contact_id, EmailMessage.idempotency_key, EmailMessage.created_at
        ).where(
            among(session, EmailMessage.contact_id, list(ignore_keys), integers=True),
            EmailMessage.kind == TemplateKind.MARKETING.value,
            EmailMessage.status.in_(_COUNTED),
            EmailMessage.created_at > now - cap.window,
        )
    ):
        if contact_id is not None and key != ignore_keys[contact_id]:
            sent.setdefault(contact_id, []).append(created)
    for times in sent.values():
        times.sort(reverse=True)
    return sent
