"""When webinar reminders are due: a fixed set of offsets before the start."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

# Hours before the start at which registered contacts get a reminder.
REMINDER_HOURS: tuple[int, ...] = (24, 1)


def handled_offset(starts_at: datetime, now: datetime, hours: Sequence[int]) -> int | None:
    """The smallest offset whose moment (`starts_at` minus that many hours) has come by
    `now`, or None when none has: the reminder that is due, or the last one passed."""
    passed = [h for h in hours if starts_at - timedelta(hours=h) <= now]
    return min(passed) if passed else None
