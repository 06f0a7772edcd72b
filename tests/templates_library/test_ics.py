"""Webinar invitations parse back, with icalendar, to exactly the event we meant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component

from nurture.errors import InvalidInput
from templates.ics import (
    Organizer,
    content_type,
    google_calendar_url,
    outlook_calendar_url,
    webinar_cancel,
    webinar_invite,
)

BERLIN_START = datetime(2025, 6, 12, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))
HOUR = timedelta(hours=1)
NOW = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)
ORGANIZER = Organizer("events@brightline.example", "Brightline Events")


def _invite(**changes: object) -> bytes:
    arguments: dict[str, object] = {
        "uid": "webinar-42-contact-7@nurture",
        "title": "Scoping a data platform; «без крюка», part 1",
        "description": "What we will cover.\nBring questions.",
        "start": BERLIN_START,
        "duration": HOUR,
        "join_url": "https://meet.brightline.example/j/8421?pwd=x",
        "organizer": ORGANIZER,
        "attendee_email": "emma@example.com",
        "attendee_name": "Emma Lawson",
        "now": NOW,
    }
    arguments.update(changes)
    return webinar_invite(**arguments)  # type: ignore[arg-type]


def _event(ics: bytes) -> tuple[Calendar, Component]:
    calendar = Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_invite_parses_back_with_utc_times_and_every_field() -> None:
    calendar, event = _event(_invite())
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == "webinar-42-contact-7@nurture"
    assert event.decoded("DTSTART") == datetime(2025, 6, 12, 15, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2025, 6, 12, 16, 0, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("SEQUENCE") == 0
    assert str(event["SUMMARY"]) == "Scoping a data platform; «без крюка», part 1"
    assert str(event["URL"]) == "https://meet.brightline.example/j/8421?pwd=x"
    assert str(event["LOCATION"]) == "https://meet.brightline.example/j/8421?pwd=x"
    assert str(event["DESCRIPTION"]).startswith("What we will cover.\nBring questions.")
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:events@brightline.example"
    assert event["ORGANIZER"].params["CN"] == "Brightline Events"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:emma@example.com"
    assert attendee.params["CN"] == "Emma Lawson"
    assert attendee.params["RSVP"] == "FALSE"


def test_times_are_written_in_utc_so_no_time_zone_block_is_needed() -> None:
    ics = _invite()
    assert b"DTSTART:20250612T150000Z\r\n" in ics
    assert b"DTEND:20250612T160000Z\r\n" in ics
    assert b"VTIMEZONE" not in ics


def test_invite_carries_a_display_alarm_before_the_start() -> None:
    _, event = _event(_invite(reminder=timedelta(minutes=30)))
    alarms = event.walk("VALARM")
    assert len(alarms) == 1
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0].decoded("TRIGGER") == timedelta(minutes=-30)


def test_every_line_ends_with_crlf_and_is_folded_to_75_octets() -> None:
    ics = _invite(description="x" * 400)
    assert ics.endswith(b"\r\n")
    lines = ics.split(b"\r\n")[:-1]
    assert all(b"\n" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)


def test_publish_invite_names_no_attendee() -> None:
    calendar, event = _event(_invite(method="PUBLISH"))
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "ATTENDEE" not in event
    assert content_type(_invite(method="PUBLISH")).endswith("method=PUBLISH")


def test_an_update_keeps_the_uid_and_raises_the_sequence() -> None:
    _, first = _event(_invite())
    _, update = _event(_invite(sequence=1, start=BERLIN_START + HOUR))
    assert first["UID"] == update["UID"]
    assert update.decoded("SEQUENCE") == 1
    assert update.decoded("DTSTART") == datetime(2025, 6, 12, 16, 0, tzinfo=UTC)


def test_cancellation_removes_the_same_event() -> None:
    ics = webinar_cancel(
        "webinar-42-contact-7@nurture",
        "Scoping a data platform",
        BERLIN_START,
        HOUR,
        "events@brightline.example",
        "emma@example.com",
        "Emma Lawson",
        sequence=2,
        now=NOW,
    )
    calendar, event = _event(ics)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "webinar-42-contact-7@nurture"
    assert event.decoded("SEQUENCE") == 2
    assert str(event["ATTENDEE"]) == "mailto:emma@example.com"
    assert not event.walk("VALARM")
    assert content_type(ics) == 'text/calendar; charset="utf-8"; method=CANCEL'


def test_cancellation_must_come_after_an_invitation() -> None:
    with pytest.raises(InvalidInput) as caught:
        webinar_cancel(
            "u@nurture", "t", BERLIN_START, HOUR, ORGANIZER, "e@example.com", "", sequence=0
        )
    assert [p.field for p in caught.value.problems] == ["sequence"]


def test_request_invite_is_attached_with_its_method() -> None:
    assert content_type(_invite()) == 'text/calendar; charset="utf-8"; method=REQUEST'


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start": datetime(2025, 6, 12, 17, 0)}, "start"),  # noqa: DTZ001 - naive on purpose
        ({"duration": timedelta(0)}, "duration"),
        ({"join_url": "javascript:alert(1)"}, "join_url"),
        ({"attendee_email": "not an address"}, "attendee_email"),
        ({"organizer": "nobody"}, "organizer"),
        ({"uid": "  "}, "uid"),
        ({"method": "CANCEL"}, "method"),
        ({"sequence": -1}, "sequence"),
    ],
)
def test_bad_input_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _invite(**changes)
    assert [p.field for p in caught.value.problems] == [field]


def test_add_to_calendar_links_carry_the_utc_times() -> None:
    details = {
        "title": "Scoping a data platform",
        "start": BERLIN_START,
        "duration": HOUR,
        "details": "Join: https://meet.brightline.example/j/8421",
        "location": "https://meet.brightline.example/j/8421",
    }
    google = parse_qs(urlsplit(google_calendar_url(**details)).query)  # type: ignore[arg-type]
    assert google["dates"] == ["20250612T150000Z/20250612T160000Z"]
    assert google["text"] == ["Scoping a data platform"]
    outlook = parse_qs(urlsplit(outlook_calendar_url(**details)).query)  # type: ignore[arg-type]
    assert outlook["startdt"] == ["2025-06-12T15:00:00Z"]
    assert outlook["enddt"] == ["2025-06-12T16:00:00Z"]
    assert outlook["subject"] == ["Scoping a data platform"]
    naive = datetime(2025, 6, 12, 17)  # noqa: DTZ001 - refused on purpose
    with pytest.raises(InvalidInput):
        google_calendar_url(**{**details, "start": naive})  # type: ignore[arg-type]
