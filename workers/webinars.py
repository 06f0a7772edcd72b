"""Webinar actors: the reminder tick."""

from __future__ import annotations

import dramatiq

from campaigns.content.reminders import send_due_reminders
from campaigns.delivery.factory import transport_for
from nurture.models import utcnow
from workers import context


@dramatiq.actor(queue_name="ticks", max_retries=0)
def webinar_tick() -> None:
    """Send the webinar reminders that are due (each keyed, so a second tick sends none)."""
    settings = context.settings()
    with context.session() as db:
        send_due_reminders(
            db,
            now=utcnow(),
            transport=transport_for(settings),
            config=context.mail_config(),
        )
