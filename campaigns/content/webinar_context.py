"""Library items as the plain data templates see (`case_study`, `webinar`), and the
signed links a webinar e-mail carries.

Values are JSON-friendly strings, numbers and lists only: the pipeline stores a
message's extra context with it, and a stranded message is rendered again from it.
Dates and times are written in the contact's own time zone and language.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from nurture.models import CaseStudy, Testimonial, TestimonialStatus, Webinar
from templates.sandbox import format_date

# The case study starter shows three result figures; fewer would leave a hole the
# strict renderer refuses, so the list is padded with empty figures.
SHOWN_METRICS = 3
_DAYS_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


def case_study_view(story: CaseStudy) -> dict[str, Any]:
    """The `case_study` a template sees: title, client, industry, problem, metrics,
    result (the first figure as one line), quote, quote_author, url (alias link), topics.

    A case study naming a library testimonial shows that quote and its signature while
    the testimonial stays approved; hidden or withdrawn, the case study's own quote is
    shown (none, when it has none), so a withdrawal reaches every e-mail built after it.
    """
    quote, author = library_quote(story)
    metrics = [{"label": m["label"], "value": m["value"]} for m in story.result_metrics or []]
    first = metrics[0] if metrics else None
    padded = metrics + [{"label": "", "value": ""}] * max(0, SHOWN_METRICS - len(metrics))
    link = story.link or ""
    return {
        "id": story.id,
        "title": story.title,
        "client": story.client_name or "",
        "industry": story.industry,
        "service": story.service.name if story.service is not None else "",
        "problem": story.problem,
        "approach": "",
        "metrics": padded,
        "result": f"{first['value']} {first['label']}" if first else "",
        "quote": quote,
        "quote_author": author,
        "quote_role": "",
        "url": link,
        "link": link,
        "topics": list(story.topics or []),
    }


def library_quote(story: CaseStudy) -> tuple[str, str]:
    """(quote, author) a case study shows: its approved library testimonial's, else its own."""
    session = object_session(story)
    if story.testimonial_id is not None and session is not None:
        row = session.execute(
            select(Testimonial.quote, Testimonial.display_name).where(
                Testimonial.id == story.testimonial_id,
                Testimonial.status == TestimonialStatus.APPROVED.value,
            )
        ).first()
        if row is not None and row.quote:
            return row.quote, row.display_name or ""
    return story.testimonial_quote or "", story.testimonial_author or ""


def webinar_view(webinar: Webinar, *, tz: tzinfo, locale: str | None) -> dict[str, Any]:
    """The `webinar` a template sees, with its date and time in `tz` for `locale`."""
    start = webinar.starts_at.astimezone(tz)
    end = (webinar.starts_at + timedelta(minutes=webinar.duration_minutes)).astimezone(tz)
    russian = (locale or "").lower().startswith("ru")
    return {
        "id": webinar.id,
        "title": webinar.title,
        "topic": webinar.topic,
        "summary": webinar.description or "",
        "starts_at": webinar.starts_at.isoformat(),
        "date_local": _date(start, russian=russian),
        "time_local": f"{start:%H:%M}\u2013{end:%H:%M}",
        "start_time_local": f"{start:%H:%M}",
        "time_zone": _zone_name(tz, start),
        "duration": (
            f"{webinar.duration_minutes} минут"
            if russian
            else f"{webinar.duration_minutes} minutes"
        ),
        "speakers": [],
        "agenda": [],
    }


def starts_in(hours: int, *, locale: str | None) -> str:
    """'in 24 hours', 'in 1 hour' (or Russian) for a reminder `hours` before the start."""
    if (locale or "").lower().startswith("ru"):
        return "через час" if hours == 1 else f"через {hours} ч"
    return "in 1 hour" if hours == 1 else f"in {hours} hours"


def _date(moment: datetime, *, russian: bool) -> str:
    if russian:
        return f"{_DAYS_RU[moment.weekday()]}, {format_date(moment, '%-d %B %Y', locale='ru')}"
    return f"{moment:%A}, {moment.day} {moment:%B %Y}"


def _zone_name(tz: tzinfo, moment: datetime) -> str:
    key = getattr(tz, "key", None) or "UTC"
    abbreviation = moment.tzname() or ""
    return key if abbreviation in ("", key) else f"{key}, {abbreviation}"
