"""Small presentation helpers the templates call: relative times, numbers, labels."""

from __future__ import annotations

from datetime import datetime

from nurture.models import utcnow

_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (7 * 86400, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """'3 hours ago', 'in 2 days', 'just now'; an empty string for None."""
    if when is None:
        return ""
    seconds = int(((now or utcnow()) - when).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            amount = seconds // size
            text = f"{amount} {unit}{'' if amount == 1 else 's'}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"  # unreachable: the last unit is one minute


def stamp(when: datetime | None) -> str:
    """An absolute UTC time for tooltips and tables: '2026-03-04 14:05 UTC'."""
    return "" if when is None else when.strftime("%Y-%m-%d %H:%M UTC")


def day(when: datetime | None) -> str:
    return "" if when is None else when.strftime("%d %b %Y")


def number(value: int) -> str:
    """Thousands separated by a thin space, readable in any locale."""
    return f"{value:,}".replace(",", "\u202f")


# Words that read wrong when only their first letter is capitalised.
_ACRONYMS = {"it": "IT", "hr": "HR", "ai": "AI", "url": "URL", "nps": "NPS", "saas": "SaaS"}


def humanise(value: str | None) -> str:
    """'former_customer' -> 'Former customer'; 'it services' -> 'IT services'."""
    if not value:
        return ""
    words = value.replace("_", " ").replace(".", " ").split()
    words = [_ACRONYMS.get(word.lower(), word) for word in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def stage_label(value: str | None) -> str:
    if value in ("mql", "sql"):
        return value.upper()
    return humanise(value)
