"""The SLA clock: when a hand-off is due, counting only working hours in a time zone.

Working windows are built as local wall-clock times in the rep's zone and turned into
UTC instants before any arithmetic, so a day that gains or loses an hour to daylight
saving counts the hours that really pass, and the answer is always an aware UTC time.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.errors import InvalidInput

# Monday to Friday (0 = Monday, as `date.weekday()`).
DEFAULT_WORK_DAYS = (0, 1, 2, 3, 4)


def parse_clock(value: str, field: str) -> time:
    """'09:00' → time(9, 0); anything else is an InvalidInput naming `field`."""
    try:
        hours, minutes = value.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(value)
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidInput.single(field, "must be a time of day as HH:MM, e.g. 09:00") from None


def zone_named(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone called `name`; an unknown name is an InvalidInput naming `field`."""
    try:
        if not name or name != name.strip() or ".." in name or name.startswith("/"):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.single(
            field, f"{name!r} is not a known IANA time zone, e.g. Europe/Berlin"
        ) from None


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # A wall time that does not exist (skipped by a spring-forward) resolves with the
    # offset before the change, which lands just after the gap: the day still starts.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def due_at(
    start: datetime,
    hours: float,
    *,
    zone: str | ZoneInfo,
    work_start: str | time,
    work_end: str | time,
    work_days: Collection[int] = DEFAULT_WORK_DAYS,
) -> datetime:
    """The UTC instant `hours` working hours after `start`, with the working day
    `work_start`..`work_end` on `work_days` (0 = Monday) in `zone`.

    Time before the day starts, after it ends and on days off does not count; a start
    outside working hours begins counting at the next opening.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if hours <= 0:
        raise InvalidInput.single("sla_hours", "must be more than 0")
    tz = zone if isinstance(zone, ZoneInfo) else zone_named(zone)
    opens = parse_clock(work_start, "work_start") if isinstance(work_start, str) else work_start
    closes = parse_clock(work_end, "work_end") if isinstance(work_end, str) else work_end
    if opens >= closes:
        raise InvalidInput.single("work_end", "must be later than work_start")
    days = {int(d) for d in work_days}
    if not days or not days <= set(range(7)):
        raise InvalidInput.single("work_days", "must name at least one day, 0 (Monday) to 6")

    remaining = timedelta(hours=hours)
    cursor = start.astimezone(UTC)
    day = cursor.astimezone(tz).date()
    # Enough weeks to hold the hours (plus slack for daylight-saving days); the bound
    # only guards against a zone database that would make every window empty.
    day_hours = (datetime.combine(day, closes) - datetime.combine(day, opens)) / timedelta(hours=1)
    weeks = int(hours / (day_hours * len(days))) + 3
    for _ in range(7 * weeks):
        if day.weekday() in days:
            window_start, window_end = _at(day, opens, tz), _at(day, closes, tz)
            begin = max(cursor, window_start)
            if begin < window_end:
                available = window_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = window_end
        day += timedelta(days=1)
    raise InvalidInput.single("work_days", "leave no working time in this time zone")
