"""E-mail actors: send one message by id and key, and the delivery housekeeping tick."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq

from campaigns.delivery.factory import transport_for
from campaigns.email import retry
from campaigns.email.pipeline import send_to_contact
from workers import context


# Retrying the actor is safe: the idempotency key makes a second run a no-op once sent.
@dramatiq.actor(queue_name="email", max_retries=5)
def send_email(
    template_id: int, contact_id: int, idempotency_key: str, extra: dict[str, Any] | None = None
) -> None:
    """Send a template to one contact through the pipeline (suppression, tracking and all)."""
    settings = context.settings()
    with context.session() as db:
        send_to_contact(
            db,
            template_id,
            contact_id,
            idempotency_key=idempotency_key,
            transport=transport_for(settings),
            config=context.mail_config(),
            extra=extra,
        )


@dramatiq.actor(queue_name="ticks", max_retries=0)
def email_tick() -> None:
    """Put back interrupted sends, resend due deferred messages, finish queued ones."""
    settings = context.settings()
    transport = transport_for(settings)
    with context.session() as db:
        retry.recover_interrupted(db, lease=timedelta(seconds=settings.send_lease_seconds))
    with context.session() as db:
        retry.retry_due(db, transport=transport)
    with context.session() as db:
        retry.resume_queued(db, transport=transport, config=context.mail_config())
