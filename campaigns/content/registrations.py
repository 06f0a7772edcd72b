"""Registering a contact for a webinar: a seat, a row, an event and a confirmation with .ics.

Registering is idempotent: the (webinar, contact) pair is unique, the seat is taken
in the same transaction as the row is inserted (so a lost race gives it back), the
`webinar.registered` event and the confirmation e-mail carry keys derived from the
pair. Registering twice leaves one row, one seat, one event and one e-mail.

The confirmation and the reminders use the starter templates `webinar_confirmation`
and `webinar_reminder` (see templates/library): the marketer edits them like any
other template; they are loaded from the starter library the first time they are
needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.content.reminder_hours import REMINDER_HOURS, handled_offset
from campaigns.content.seats import take_seat
from campaigns.content.webinar_context import webinar_view
from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_to_contact
from campaigns.email.store import VariantInput, create_template
from nurture.contacts import get_contact
from nurture.contacts.zones import zone
from nurture.errors import Conflict, NotFound
from nurture.events import EventInput, ingest
from nurture.models import Contact, EmailMessage, EmailTemplate, Webinar, WebinarRegistration
from templates import ics
from templates.library import starter_template
from templates.message import Attachment
from templates.requirements import register_sender
from templates.tokens import TokenSigner
from templates.webinar_links import registration_url

CONFIRMATION_STARTER = "webinar_confirmation"
REMINDER_STARTER = "webinar_reminder"
register_sender("webinar.confirmation", "the webinar registration confirmation", {"webinar"})


class WebinarFull(Conflict):
    """Every seat is taken."""


class RegistrationClosed(Conflict):
    """The webinar is over: there is nothing left to register for."""


@dataclass(frozen=True, slots=True)
class Registration:
    """The registration (new or found) and how its confirmation e-mail ended."""

    id: int
    webinar_id: int
    contact_id: int
    created: bool
    confirmation_status: str | None
    # The `webinar.registered` event stored by this call, for the event workers.
    event_ids: tuple[int, ...] = ()


def find(session: Session, webinar_id: int, contact_id: int) -> WebinarRegistration | None:
    return session.scalar(
        select(WebinarRegistration).where(
            WebinarRegistration.webinar_id == webinar_id,
            WebinarRegistration.contact_id == contact_id,
        )
    )


def register(
    session: Session,
    *,
    webinar_id: int,
    contact_id: int,
    now: datetime,
    transport: Transport,
    config: MailConfig,
) -> Registration:
    """Register the contact (once) and send the confirmation (once). Commits.

    NotFound for an unknown webinar or contact, WebinarFull when no seat is left,
    RegistrationClosed when the webinar has ended. A contact already registered gets
    their registration back, and a confirmation that did not go out yet is sent.
    """
    webinar = session.get(Webinar, webinar_id)
    if webinar is None:
        raise NotFound("webinar", webinar_id)
    contact = get_contact(session, contact_id)
    row = find(session, webinar_id, contact_id)
    event_ids: tuple[int, ...] = ()
    if row is None:
        row, event_ids = _insert(session, webinar, contact, now)
    status = send_confirmation(
        session, row, webinar=webinar, contact=contact, transport=transport, config=config
    )
    return Registration(row.id, webinar_id, contact_id, bool(event_ids), status, event_ids)


def send_confirmation(
    session: Session,
    row: WebinarRegistration,
    *,
    webinar: Webinar,
    contact: Contact,
    transport: Transport,
    config: MailConfig,
) -> str | None:
    """The confirmation with the .ics attached, keyed by the registration; None when the
    contact has no address. Answers the message's status."""
    if contact.email is None:
        return None
    extra = {"webinar": confirmation_view(webinar, contact, config)}
    invitation = calendar_invite(webinar, contact, config)
    message = send_to_contact(
        session,
        starter_template_id(session, CONFIRMATION_STARTER),
        contact.id,
        idempotency_key=f"webinar.confirmation:{row.id}",
        transport=transport,
        config=config,
        extra=extra,
        attachments=[Attachment("invite.ics", ics.content_type(invitation), invitation)],
    )
    return message.status


def confirmation_view(webinar: Webinar, contact: Contact, config: MailConfig) -> dict[str, object]:
    """The `webinar` a confirmation sees: time and place, join link, calendar links."""
    view = webinar_view(webinar, tz=zone(contact.time_zone), locale=contact.locale)
    join = join_url(webinar, contact, config)
    duration = timedelta(minutes=webinar.duration_minutes)
    details = webinar.description or webinar.title
    page = registration_url(config.base_url, config.signer, contact.id, webinar.id)
    view["join_url"] = join
    view["calendar"] = {
        "google_url": ics.google_calendar_url(
            title=webinar.title,
            start=webinar.starts_at,
            duration=duration,
            details=details,
            location=join,
        ),
        "outlook_url": ics.outlook_calendar_url(
            title=webinar.title,
            start=webinar.starts_at,
            duration=duration,
            details=details,
            location=join,
        ),
        "ics_url": f"{page}/invite.ics",
    }
    return view


def join_url(webinar: Webinar, contact: Contact, config: MailConfig) -> str:
    """Where the contact joins: the webinar's link, or their registration page until one is set."""
    return webinar.join_url or registration_url(
        config.base_url, config.signer, contact.id, webinar.id
    )


def calendar_invite(webinar: Webinar, contact: Contact, config: MailConfig) -> bytes:
    """The .ics for this contact; the same UID every time, so calendars update one entry."""
    domain = config.message_id_domain or config.sender.email.rpartition("@")[2] or "localhost"
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    return ics.webinar_invite(
        uid=f"webinar-{webinar.id}-contact-{contact.id}@{domain}",
        title=webinar.title,
        description=webinar.description or "",
        start=webinar.starts_at,
        duration=timedelta(minutes=webinar.duration_minutes),
        join_url=join_url(webinar, contact, config),
        organizer=ics.Organizer(config.sender.email, config.sender.name or ""),
        attendee_email=contact.email or "",
        attendee_name=name,
    )


def contact_for_token(session: Session, signer: TokenSigner, token: str) -> tuple[Contact, Webinar]:
    """The live contact and the webinar a registration link names (TokenError, NotFound)."""
    ref = signer.verify_webinar(token)
    webinar = session.get(Webinar, ref.webinar_id)
    if webinar is None:
        raise NotFound("webinar", ref.webinar_id)
    return get_contact(session, ref.contact_id), webinar


def starter_template_id(session: Session, starter: str) -> int:
    """The id of the template made from this starter, loading it the first time."""
    found = session.scalar(select(EmailTemplate.id).where(EmailTemplate.starter_name == starter))
    if found is not None:
        return found
    template = starter_template(starter)
    english = template.variants["en"]
    taken = session.scalar(select(EmailTemplate.id).where(EmailTemplate.name == english.title))
    try:
        with session.begin_nested():
            made = create_template(
                session,
                name=english.title if taken is None else f"{english.title} (starter)",
                description=english.description,
                kind=template.kind,
                topic=template.topic,
                starter_name=template.name,
                actor="system",
                variants={
                    locale: VariantInput(v.subject, v.body, v.preheader)
                    for locale, v in template.variants.items()
                },
                sample_context={
                    locale: v.sample_context() for locale, v in template.variants.items()
                },
            )
        session.commit()
        return made.id
    except (IntegrityError, Conflict):
        # Another process loaded it at the same moment (the savepoint undid our try).
        made_id = session.scalar(
            select(EmailTemplate.id).where(EmailTemplate.starter_name == starter)
        )
        if made_id is None:
            raise
        return made_id


def _insert(
    session: Session, webinar: Webinar, contact: Contact, now: datetime
) -> tuple[WebinarRegistration, tuple[int, ...]]:
    if webinar.starts_at + timedelta(minutes=webinar.duration_minutes) <= now:
        raise RegistrationClosed("this webinar is over")
    if not take_seat(session, webinar.id):
        session.rollback()
        raise WebinarFull("this webinar is full")
    row = WebinarRegistration(
        webinar_id=webinar.id,
        contact_id=contact.id,
        registered_at=now,
        # Reminders whose moment passed before registering are not sent late.
        reminded_hours=handled_offset(webinar.starts_at, now, REMINDER_HOURS),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Registered by a concurrent request: the rollback gives our seat back.
        session.rollback()
        found = find(session, webinar.id, contact.id)
        if found is None:
            raise RuntimeError(
                "the registration that conflicted with ours is gone after the rollback"
            ) from None
        return found, ()
    event = EventInput(
        "webinar.registered",
        now,
        {"webinar_id": webinar.id, "registration_id": row.id, "topic": webinar.topic},
        f"webinar.registered:{webinar.id}:{contact.id}",
        contact_id=contact.id,
    )
    stored = ingest(session, [(0, event)], source="webinars").stored_event_ids
    session.commit()
    return row, tuple(stored)


def confirmation_message(session: Session, registration_id: int) -> EmailMessage | None:
    return session.scalar(
        select(EmailMessage).where(
            EmailMessage.idempotency_key == f"webinar.confirmation:{registration_id}"
        )
    )


@dataclass(frozen=True, slots=True)
class Page:
    """What the public registration page shows the contact a link names."""

    webinar: dict[str, object]
    first_name: str | None
    registered: bool
    full: bool
    over: bool


def registration_page(session: Session, *, signer: TokenSigner, token: str, now: datetime) -> Page:
    """The page for a registration link (TokenError for a bad link, NotFound when the
    contact or webinar is gone); reads only."""
    contact, webinar = contact_for_token(session, signer, token)
    registered = find(session, webinar.id, contact.id) is not None
    return Page(
        webinar=webinar_view(webinar, tz=zone(contact.time_zone), locale=contact.locale),
        first_name=contact.first_name,
        registered=registered,
        full=webinar.capacity is not None and webinar.seats_taken >= webinar.capacity,
        over=webinar.starts_at + timedelta(minutes=webinar.duration_minutes) <= now,
    )


def register_by_token(
    session: Session,
    *,
    token: str,
    now: datetime,
    transport: Transport,
    config: MailConfig,
) -> Registration:
    """`register` for the contact and webinar a registration link names."""
    contact, webinar = contact_for_token(session, config.signer, token)
    return register(
        session,
        webinar_id=webinar.id,
        contact_id=contact.id,
        now=now,
        transport=transport,
        config=config,
    )


def invite_by_token(session: Session, *, token: str, config: MailConfig) -> bytes:
    """The .ics of the webinar a registration link names, for its contact."""
    contact, webinar = contact_for_token(session, config.signer, token)
    return calendar_invite(webinar, contact, config)
