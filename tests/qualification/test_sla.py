"""The SLA clock counts working hours only, in the rep's zone, across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from nurture.errors import InvalidInput
from nurture.qualification.sla import due_at

BERLIN = "Europe/Berlin"


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


def test_hours_within_one_working_day() -> None:
    start = berlin(2026, 12, 1, 10, 0)  # a Tuesday
    assert due_at(start, 4, zone=BERLIN, work_start="09:00", work_end="17:00") == berlin(
        2026, 12, 1, 14, 0
    )


def test_hours_left_at_closing_carry_to_the_next_morning() -> None:
    start = berlin(2026, 12, 1, 15, 0)
    assert due_at(start, 8, zone=BERLIN, work_start="09:00", work_end="17:00") == berlin(
        2026, 12, 2, 15, 0
    )


def test_a_friday_evening_lead_counts_from_monday_morning() -> None:
    start = berlin(2026, 12, 4, 20, 30)  # Friday night
    assert due_at(start, 2, zone=BERLIN, work_start="09:00", work_end="17:00") == berlin(
        2026, 12, 7, 11, 0
    )


def test_the_answer_is_aware_utc() -> None:
    result = due_at(
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC), 1, zone="UTC", work_start="09:00", work_end="17:00"
    )
    assert result == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_the_same_local_hours_across_the_spring_change() -> None:
    # Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026: Friday 16:00 local
    # plus 3 working hours is Monday 11:00 local, which is 09:00 UTC, not 10:00.
    start = berlin(2026, 3, 27, 16, 0)
    due = due_at(start, 3, zone=BERLIN, work_start="09:00", work_end="17:00")
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_a_night_shift_window_spanning_the_autumn_change_counts_real_hours() -> None:
    # 00:00 to 04:00 on Sunday 25 October 2026 in Berlin lasts five real hours (02:00 to 03:00
    # happens twice), so five hours fit in it.
    start = berlin(2026, 10, 25, 0, 0)
    due = due_at(start, 5, zone=BERLIN, work_start="00:00", work_end="04:00", work_days=[6])
    assert due == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)


def test_the_rep_zone_decides_the_working_day() -> None:
    start = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in New York, 15:00 in Berlin
    new_york = due_at(start, 4, zone="America/New_York", work_start="09:00", work_end="17:00")
    in_berlin = due_at(start, 4, zone=BERLIN, work_start="09:00", work_end="17:00")
    assert new_york == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    assert in_berlin == berlin(2026, 12, 2, 11, 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"zone": "Mars/Olympus"}, "time_zone"),
        ({"work_start": "9am"}, "work_start"),
        ({"work_start": "17:00", "work_end": "09:00"}, "work_end"),
        ({"work_days": []}, "work_days"),
        ({"work_days": [7]}, "work_days"),
        ({"hours": 0}, "sla_hours"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "zone": BERLIN,
        "work_start": "09:00",
        "work_end": "17:00",
        "hours": 4,
    }
    arguments.update(kwargs)
    hours = arguments.pop("hours")
    with pytest.raises(InvalidInput) as refused:
        due_at(datetime(2026, 12, 1, tzinfo=UTC), hours, **arguments)  # type: ignore[arg-type]
    assert refused.value.problems[0].field == field
