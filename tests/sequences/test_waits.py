"""Waits and send windows in the contact's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from campaigns.sequences import waits
from campaigns.sequences.definition import Window
from nurture.contacts.zones import zone

# Thursday 26 November 2026, 12:00 UTC.
THURSDAY_NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected_utc"),
    [
        ("Europe/Berlin", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),  # UTC+1 in winter
        ("America/New_York", datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),  # UTC-5
        ("Asia/Tokyo", datetime(2026, 12, 1, 1, 0, tzinfo=UTC)),  # UTC+9
        (None, datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),  # no zone: UTC
        ("Not/AZone", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),  # unknown: UTC
    ],
)
def test_until_tuesday_ten_is_ten_on_the_contacts_clock(
    name: str | None, expected_utc: datetime
) -> None:
    tz = zone(name)
    assert waits.next_weekday_time(THURSDAY_NOON, "tuesday", "10:00", tz) == expected_utc


def test_until_a_weekday_later_the_same_day_waits_hours_not_a_week() -> None:
    tuesday_morning = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    found = waits.next_weekday_time(tuesday_morning, "tuesday", "10:00", zone("UTC"))
    assert found == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_until_a_weekday_across_a_daylight_saving_change() -> None:
    # Berlin moves to summer time on Sunday 29 March 2026; Tuesday 31 March is UTC+2.
    friday = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    found = waits.next_weekday_time(friday, "tuesday", "10:00", zone("Europe/Berlin"))
    assert found == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)


QUIET = Window(time(20, 0), time(8, 0))
OFFICE = Window(time(9, 0), time(17, 0), frozenset(range(5)))


@pytest.mark.parametrize(
    ("name", "now", "expected"),
    [
        # 23:00 in Berlin is quiet; the next allowed moment is 08:00 Berlin = 07:00 UTC.
        (
            "Europe/Berlin",
            datetime(2026, 11, 26, 22, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
        ),
        # 22:00 UTC is 17:00 in New York: allowed, it goes now.
        (
            "America/New_York",
            datetime(2026, 11, 26, 22, 0, tzinfo=UTC),
            datetime(2026, 11, 26, 22, 0, tzinfo=UTC),
        ),
        # 12:00 UTC is 21:00 in Tokyo: quiet until 08:00 Tokyo = 23:00 UTC.
        (
            "Asia/Tokyo",
            datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
            datetime(2026, 11, 26, 23, 0, tzinfo=UTC),
        ),
    ],
)
def test_quiet_hours_hold_mail_until_morning_in_each_zone(
    name: str, now: datetime, expected: datetime
) -> None:
    assert waits.next_allowed(now, zone(name), window=None, quiet=QUIET) == expected


def test_send_window_skips_the_weekend() -> None:
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    found = waits.next_allowed(friday_evening, zone("UTC"), window=OFFICE, quiet=QUIET)
    assert found == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 09:00


def test_inside_the_window_mail_goes_at_once() -> None:
    thursday = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    assert waits.next_allowed(thursday, zone("UTC"), window=OFFICE, quiet=QUIET) == thursday
