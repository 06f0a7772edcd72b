"""A message that went wrong, stored as the pipeline leaves it, for the pages that show it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from nurture.models import EmailMessage, MessageStatus

RENDER_ERROR = "body, line 39: 'project' is undefined"


def failed_message(
    db: Session,
    *,
    contact_id: int | None,
    template_id: int | None,
    key: str = "failed-1",
    status: str = MessageStatus.FAILED.value,
    reason: str = RENDER_ERROR,
) -> EmailMessage:
    message = EmailMessage(
        idempotency_key=key,
        status=status,
        kind="marketing",
        template_id=template_id,
        contact_id=contact_id,
        to_email="ada@firm.example",
        subject=None,
        attempts=1,
        last_error=reason,
    )
    db.add(message)
    db.flush()
    return message
