"""`local_time`: one fixed instant, written in the reader's zone and language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from templates.instants import local_words
from templates.sandbox import environment

INSTANT = "2026-03-29T00:30:00+00:00"  # the night Europe moves its clocks forward


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Berlin", "Sunday, 29 March 2026, 01:30 (Europe/Berlin, CET)"),
        ("Europe/London", "Sunday, 29 March 2026, 00:30 (Europe/London, GMT)"),
        ("America/Los_Angeles", "Saturday, 28 March 2026, 17:30 (America/Los_Angeles, PDT)"),
        ("Asia/Kolkata", "Sunday, 29 March 2026, 06:00 (Asia/Kolkata, IST)"),
        (None, "Sunday, 29 March 2026, 00:30 (UTC)"),
        ("Mars/Olympus", "Sunday, 29 March 2026, 00:30 (UTC)"),
    ],
)
def test_the_instant_is_written_in_the_readers_zone(zone: str | None, expected: str) -> None:
    assert local_words(INSTANT, time_zone=zone) == expected


def test_a_zone_without_a_letter_abbreviation_is_named_alone() -> None:
    assert local_words(INSTANT, part="zone", time_zone="America/Sao_Paulo") == "America/Sao_Paulo"


def test_russian_dates_use_the_genitive_month_and_a_lowercase_weekday() -> None:
    assert local_words(INSTANT, part="date", locale="ru", time_zone="Europe/Moscow") == (
        "воскресенье, 29 марта 2026"
    )
    assert local_words(INSTANT, part="date", locale="ru-RU", time_zone="Europe/Moscow") == (
        "воскресенье, 29 марта 2026"
    )


def test_a_naive_instant_is_utc_and_any_other_language_is_english() -> None:
    naive = datetime(2026, 3, 29, 0, 30)  # noqa: DTZ001  (the library stores naive UTC)

    assert local_words(naive, part="time", time_zone="Europe/Berlin") == "01:30"
    assert local_words(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), part="date", locale="de") == (
        "Sunday, 29 March 2026"
    )


@pytest.mark.parametrize(
    ("value", "part", "message"),
    [
        ("", "date", "no date and time is given"),
        ("next Tuesday", "date", "is not an ISO date and time"),
        (INSTANT, "weekday", "not 'weekday'"),
    ],
)
def test_what_cannot_be_shown_is_refused_with_a_reason(value: str, part: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        local_words(value, part=part)


def test_the_filter_reads_the_zone_from_the_contact_being_rendered() -> None:
    template = environment(html=True).from_string(
        "{{ '" + INSTANT + "' | local_time('time') }} {{ '" + INSTANT + "' | local_time }}"
    )

    berlin = template.render(contact={"time_zone": "Europe/Berlin"})
    nobody = template.render()

    assert berlin == "01:30 Sunday, 29 March 2026, 01:30 (Europe/Berlin, CET)"
    assert nobody == "00:30 Sunday, 29 March 2026, 00:30 (UTC)"
