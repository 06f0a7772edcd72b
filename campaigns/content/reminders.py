"""Webinar reminders: sent by the periodic tick at fixed offsets before the start.

Offsets are `reminder_hours.REMINDER_HOURS` (24 hours and 1 hour before). A
registration remembers the smallest offset dealt with (`reminded_hours`); each
reminder's e-mail key is `webinar.reminder:<registration>:<hours>h`, so a tick that
runs twice, or dies between sending and noting it, sends nothing twice. A tick that
runs late sends only the latest due reminder, and none once the webinar started.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from campaigns.content.registrations import REMINDER_STARTER, join_url, starter_template_id
from campaigns.content.reminder_hours import REMINDER_HOURS, handled_offset
from campaigns.content.webinar_context import starts_in, webinar_view
from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_to_contact
from nurture.contacts.zones import zone
from nurture.models import Attendance, Contact, Webinar, WebinarRegistration
from templates.requirements import register_sender

BATCH = 500
register_sender("webinar.reminder", "the webinar reminders", {"webinar"})


def send_due_reminders(
    session: Session,
    *,
    now: datetime,
    transport: Transport,
    config: MailConfig,
    hours: Sequence[int] = REMINDER_HOURS,
    limit: int = BATCH,
) -> int:
    """Send every reminder that is due at `now` (at most `limit`); answers how many
    registrations were dealt with. Commits after each one."""
    if not hours:
        return 0
    webinars = list(
        session.scalars(
            select(Webinar)
            .where(Webinar.starts_at > now, Webinar.starts_at <= now + timedelta(hours=max(hours)))
            .order_by(Webinar.starts_at)
        )
    )
    done = 0
    for webinar in webinars:
        due = handled_offset(webinar.starts_at, now, hours)
        if due is None:  # pragma: no cover - the query keeps only webinars within reach
            continue
        rows = session.execute(
            select(WebinarRegistration.id, Contact)
            .join(Contact, Contact.id == WebinarRegistration.contact_id)
            .where(
                WebinarRegistration.webinar_id == webinar.id,
                WebinarRegistration.attendance == Attendance.REGISTERED.value,
                or_(
                    WebinarRegistration.reminded_hours.is_(None),
                    WebinarRegistration.reminded_hours > due,
                ),
            )
            .order_by(WebinarRegistration.id)
            .limit(limit - done)
        ).all()
        for registration_id, contact in rows:
            if contact.email is not None and contact.erased_at is None:
                _send(session, registration_id, webinar, contact, due, transport, config)
            _note(session, registration_id, due)
            done += 1
        if done >= limit:
            break
    return done


def _send(
    session: Session,
    registration_id: int,
    webinar: Webinar,
    contact: Contact,
    hours: int,
    transport: Transport,
    config: MailConfig,
) -> None:
    view = webinar_view(webinar, tz=zone(contact.time_zone), locale=contact.locale)
    view["time_local"] = view["start_time_local"]
    view["starts_in"] = starts_in(hours, locale=contact.locale)
    view["join_url"] = join_url(webinar, contact, config)
    send_to_contact(
        session,
        starter_template_id(session, REMINDER_STARTER),
        contact.id,
        idempotency_key=f"webinar.reminder:{registration_id}:{hours}h",
        transport=transport,
        config=config,
        extra={"webinar": view},
    )


def _note(session: Session, registration_id: int, hours: int) -> None:
    session.execute(
        update(WebinarRegistration)
        .where(
            WebinarRegistration.id == registration_id,
            or_(
                WebinarRegistration.reminded_hours.is_(None),
                WebinarRegistration.reminded_hours > hours,
            ),
        )
        .values(reminded_hours=hours)
    )
    session.commit()
