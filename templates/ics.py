"""Calendar invitations for webinars: the .ics attached to a registration confirmation.

Times are always written in UTC, so no VTIMEZONE block is needed and every calendar
shows the webinar in its owner's own zone. A changed or cancelled webinar keeps its UID and
raises SEQUENCE, which is how calendar apps know to update the entry instead of adding one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode, urlsplit

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from nurture.errors import InvalidInput, Problem

PRODID = "-//Nurture//Webinar invitations//EN"
Method = Literal["REQUEST", "PUBLISH"]
_METHODS = ("REQUEST", "PUBLISH")


@dataclass(frozen=True, slots=True)
class Organizer:
    """Who sends the invitation; replies from calendar apps go to `email`."""

    email: str
    name: str = ""


def webinar_invite(
    uid: str,
    title: str,
    description: str,
    start: datetime,
    duration: timedelta,
    join_url: str,
    organizer: Organizer | str,
    attendee_email: str,
    attendee_name: str,
    method: Method = "REQUEST",
    *,
    sequence: int = 0,
    reminder: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT for the webinar, as CRLF-terminated UTF-8 bytes.

    `start` must carry a time zone. REQUEST addresses the attendee (already registered, so
    no RSVP is asked); PUBLISH omits the attendee, as RFC 5546 requires. The event has the
    join link as URL and LOCATION and a display alarm `reminder` before the start. Send an
    update with the same `uid` and a higher `sequence`. Raises InvalidInput naming the field.
    """
    problems = _check_common(uid, start, duration, organizer, attendee_email, sequence)
    if urlsplit(join_url).scheme not in ("http", "https"):
        problems.append(Problem("join_url", "must be an http or https URL"))
    if method not in _METHODS:
        problems.append(Problem("method", f"must be one of {', '.join(_METHODS)}"))
    if reminder < timedelta(0):
        problems.append(Problem("reminder", "must not be negative"))
    if problems:
        raise InvalidInput(problems)

    event = _event(uid, title, start, duration, organizer, sequence, now)
    event.add("status", "CONFIRMED")
    event.add("description", f"{description}\n\n{join_url}" if description else join_url)
    event.add("location", join_url)
    event.add("url", join_url)
    if method == "REQUEST":
        event.add("attendee", _attendee(attendee_email, attendee_name, partstat="ACCEPTED"))

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    alarm.add("trigger", -reminder)
    event.add_component(alarm)
    return _calendar(method, event)


def webinar_cancel(
    uid: str,
    title: str,
    start: datetime,
    duration: timedelta,
    organizer: Organizer | str,
    attendee_email: str,
    attendee_name: str,
    *,
    sequence: int,
    now: datetime | None = None,
) -> bytes:
    """A METHOD:CANCEL calendar that removes the invitation `uid` from the attendee's
    calendar. `sequence` must be higher than the one last sent for this `uid`."""
    problems = _check_common(uid, start, duration, organizer, attendee_email, sequence)
    if sequence < 1:
        problems.append(
            Problem("sequence", "a cancellation must follow an invitation: use 1 or more")
        )
    if problems:
        raise InvalidInput(problems)
    event = _event(uid, title, start, duration, organizer, sequence, now)
    event.add("status", "CANCELLED")
    event.add("attendee", _attendee(attendee_email, attendee_name, partstat="NEEDS-ACTION"))
    return _calendar("CANCEL", event)


def content_type(ics: bytes) -> str:
    """The MIME type to attach `ics` with; mail clients read `method` to offer the
    invitation (or its cancellation) inline."""
    for line in ics.split(b"\r\n"):
        if line.startswith(b"METHOD:"):
            return f'text/calendar; charset="utf-8"; method={line[7:].decode("ascii")}'
    return 'text/calendar; charset="utf-8"'


def google_calendar_url(
    *, title: str, start: datetime, duration: timedelta, details: str, location: str
) -> str:
    """An 'Add to Google Calendar' link for the event (times in UTC)."""
    _require_aware(start)
    stamp = "%Y%m%dT%H%M%SZ"
    dates = f"{_utc(start).strftime(stamp)}/{_utc(start + duration).strftime(stamp)}"
    query = {"action": "TEMPLATE", "text": title, "dates": dates, "details": details}
    query["location"] = location
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_calendar_url(
    *, title: str, start: datetime, duration: timedelta, details: str, location: str
) -> str:
    """An 'Add to Outlook.com' link for the event (times in UTC)."""
    _require_aware(start)
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": _utc(start).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": _utc(start + duration).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": details,
        "location": location,
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)


def _check_common(
    uid: str,
    start: datetime,
    duration: timedelta,
    organizer: Organizer | str,
    attendee_email: str,
    sequence: int,
) -> list[Problem]:
    problems = []
    if not uid.strip():
        problems.append(Problem("uid", "must not be empty"))
    if start.tzinfo is None or start.utcoffset() is None:
        problems.append(Problem("start", "must carry a time zone"))
    if duration <= timedelta(0):
        problems.append(Problem("duration", "must be positive"))
    if "@" not in _organizer(organizer).email:
        problems.append(Problem("organizer", "must be an e-mail address"))
    if "@" not in attendee_email:
        problems.append(Problem("attendee_email", "must be an e-mail address"))
    if sequence < 0:
        problems.append(Problem("sequence", "must not be negative"))
    return problems


def _event(
    uid: str,
    title: str,
    start: datetime,
    duration: timedelta,
    organizer: Organizer | str,
    sequence: int,
    now: datetime | None,
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(now or datetime.now(UTC)).replace(microsecond=0))
    event.add("dtstart", _utc(start).replace(microsecond=0))
    event.add("dtend", _utc(start + duration).replace(microsecond=0))
    event.add("sequence", sequence)
    event.add("summary", title)
    who = _organizer(organizer)
    address = vCalAddress(f"mailto:{who.email}")
    if who.name:
        address.params["cn"] = vText(who.name)
    event.add("organizer", address)
    return event


def _attendee(email: str, name: str, *, partstat: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["cn"] = vText(name)
    address.params["role"] = vText("REQ-PARTICIPANT")
    address.params["partstat"] = vText(partstat)
    address.params["rsvp"] = vText("FALSE")
    return address


def _calendar(method: str, event: Event) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics


def _require_aware(start: datetime) -> None:
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidInput.single("start", "must carry a time zone")


def _organizer(organizer: Organizer | str) -> Organizer:
    return Organizer(email=organizer) if isinstance(organizer, str) else organizer


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
