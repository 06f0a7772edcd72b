"""A fixed instant (a webinar's start) written in a reader's own time zone and language.

A card stores the instant once, in UTC; each recipient reads it in their zone, so one
e-mail says 16:00 to a reader in Berlin and 18:00 to a reader in Moscow. Pure: the
sandbox's `local_time` filter and tests call it with a zone name and a locale.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from nurture.contacts.zones import zone

PARTS = ("datetime", "date", "time", "zone")

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ru": ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"),
}
MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    # Genitive, as a Russian date needs ("10 декабря 2026").
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
}


def parse_instant(value: object) -> datetime:
    """`value` (an aware or naive datetime, or an ISO 8601 string) as an aware UTC instant.

    A naive value is taken as UTC, which is how the library stores times."""
    if value == "":
        raise ValueError("local_time: no date and time is given (is a webinar picked?)")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date and time") from None
    if not isinstance(value, datetime):
        raise ValueError(f"cannot show {type(value).__name__} as a date and time")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_words(
    value: object, *, part: str = "datetime", locale: str = "en", time_zone: str | None = None
) -> str:
    """The instant as the reader reads it: `part` is "date" ("Thursday, 10 December 2026"),
    "time" ("16:00"), "zone" ("Europe/Berlin, CET") or "datetime" (all three).

    `time_zone` is an IANA name; missing or unknown means UTC, and the zone is always
    named in "datetime" so a reader whose zone we do not know can still convert.
    Languages other than Russian are written in English."""
    if part not in PARTS:
        raise ValueError(f"local_time shows one of {', '.join(PARTS)}, not {part!r}")
    tz = zone(time_zone)
    moment = parse_instant(value).astimezone(tz)
    lang = "ru" if locale.lower().startswith("ru") else "en"
    if part == "date":
        return _date(moment, lang)
    if part == "time":
        return f"{moment:%H:%M}"
    if part == "zone":
        return zone_words(tz, moment)
    return f"{_date(moment, lang)}, {moment:%H:%M} ({zone_words(tz, moment)})"


def zone_words(tz: tzinfo, moment: datetime) -> str:
    """ "Europe/Berlin, CET"; the name alone when the abbreviation adds nothing ("UTC",
    or Moscow's "+03")."""
    key = getattr(tz, "key", None) or "UTC"
    abbreviation = moment.tzname() or ""
    if abbreviation in ("", key) or abbreviation[:1] in "+-":
        return key
    return f"{key}, {abbreviation}"


def _date(moment: datetime, lang: str) -> str:
    weekday = _WEEKDAYS[lang][moment.weekday()]
    return f"{weekday}, {moment.day} {MONTHS[lang][moment.month - 1]} {moment.year}"
