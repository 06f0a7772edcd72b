"""The global frequency cap: at most N marketing e-mails per contact per rolling window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import EmailMessage, MessageStatus, TemplateKind

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

    limit: int = 3
    window: timedelta = timedelta(days=7)


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
    times = sorted(
        session.scalars(
            select(EmailMessage.created_at).where(
                EmailMessage.contact_id == contact_id,
                EmailMessage.kind == TemplateKind.MARKETING.value,
                EmailMessage.status.in_(_COUNTED),
                EmailMessage.created_at > now - cap.window,
                EmailMessage.idempotency_key != ignore_key,
            )
        ),
        reverse=True,
    )
    if len(times) < cap.limit:
        return None
    # The newest `limit` messages fill the window; the oldest of them must drop out.
    return times[cap.limit - 1] + cap.window + timedelta(seconds=1)
