"""Time arithmetic in the contact's time zone: durations, "until Tuesday 10:00", send windows.

All inputs and outputs are aware UTC datetimes; local clock times are resolved
with zoneinfo, so daylight-saving changes land on the right UTC instant. A
missing or unknown zone falls back to UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from campaigns.sequences.definition import WEEKDAYS, Window

# A window and quiet hours together always open within a week plus a day.
_SEARCH_DAYS = 9
# Where a working-day count starts for a task made at a weekend (local time).
WORKDAY_START = time(9, 0)
_SATURDAY = 5


def duration(spec: Mapping[str, int]) -> timedelta:
    return timedelta(
        days=spec.get("days", 0), hours=spec.get("hours", 0), minutes=spec.get("minutes", 0)
    )


def next_weekday_time(now: datetime, weekday: str, clock: str, tz: tzinfo) -> datetime:
    """The first moment at or after `now` that is `weekday` at `clock` local time."""
    target_day = WEEKDAYS.index(weekday)
    hour, minute = (int(part) for part in clock.split(":"))
    local_today = now.astimezone(tz).date()
    for offset in range(8):
        day = local_today + timedelta(days=offset)
        if day.weekday() != target_day:
            continue
        candidate = _at(day, time(hour, minute), tz)
        if candidate >= now:
            return candidate
    raise AssertionError("a weekday recurs within eight days")  # pragma: no cover


def add_working_days(now: datetime, days: int, tz: tzinfo) -> datetime:
    """`days` working days (Monday to Friday) after `now`, at the same local clock time.

    Made on Friday 15:00, one working day is Monday 15:00. Made at a weekend, the
    count starts on Monday at WORKDAY_START: one working day after Saturday is
    Tuesday 09:00, so a weekend task never falls due before anyone worked a day on it.
    """
    local = now.astimezone(tz)
    day = local.date()
    clock = local.time().replace(tzinfo=None, fold=0)
    if day.weekday() >= _SATURDAY:
        day += timedelta(days=7 - day.weekday())
        clock = WORKDAY_START
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= _SATURDAY:
            day += timedelta(days=1)
    return _at(day, clock, tz)


def next_allowed(
    now: datetime, tz: tzinfo, *, window: Window | None, quiet: Window | None
) -> datetime:
    """`now` when e-mail may go out now, else the next moment it may.

    Allowed means inside the send window (days and hours) and outside quiet
    hours (which may run past midnight, like 20:00-08:00). An allowed stretch
    can only begin at a window start or a quiet-hours end, so those are the
    candidates checked.
    """
    if _allowed(now, tz, window, quiet):
        return now
    local_today = now.astimezone(tz).date()
    candidates: list[datetime] = []
    for offset in range(_SEARCH_DAYS):
        day = local_today + timedelta(days=offset)
        for clock in (window.start if window else None, quiet.end if quiet else None):
            if clock is None:
                continue
            at = _at(day, clock, tz)
            if at > now and _allowed(at, tz, window, quiet):
                candidates.append(at)
    if not candidates:
        # Quiet hours cover the whole window: look again in a day rather than never.
        return now + timedelta(days=1)
    return min(candidates)


def _allowed(moment: datetime, tz: tzinfo, window: Window | None, quiet: Window | None) -> bool:
    local = moment.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if window is not None and (
        local.weekday() not in window.days or not window.start <= clock < window.end
    ):
        return False
    if quiet is not None:
        if quiet.start < quiet.end:
            inside = quiet.start <= clock < quiet.end
        else:
            inside = clock >= quiet.start or clock < quiet.end
        if inside:
            return False
    return True


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    """The UTC instant of a local date and clock time (a time skipped by DST moves forward)."""
    local = datetime.combine(day, clock, tzinfo=tz)
    # Round trip through UTC: a non-existent local time comes back normalised.
    return local.astimezone(UTC)
