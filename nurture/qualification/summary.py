"""The hand-off summary: what a rep needs to call the lead today, frozen as JSON.

Built when the lead qualifies, before the move to MQL takes them out of sequences, so
the rep sees the sequences and steps the lead was in. Two slots wait for parts built
elsewhere: `score_explanation` (the rules and events behind the score, from
nurture.scoring) and `predicted_probability` (once contacts carry one); both are
null until then, and readers must treat null as "not known".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nurture.models import Company, Contact, Enrolment, Event, Sequence

SUMMARY_VERSION = 1
RECENT_EVENTS = 10
MAX_CONTENT = 20
MAX_SEQUENCES = 10
MAX_NPS = 5
NPS_EVENT = "nps.answered"
# Event properties a rep can read at a glance; the rest stay on the contact page.
SHOWN_PROPERTIES = ("title", "path", "url", "campaign", "subject", "webinar", "form", "score")
# What counts as content read: pages and clicked links under these paths, by kind.
CONTENT_PATHS = {
    "case_study": ("/case-studies/", "/case-study/", "/case_studies/"),
    "article": ("/articles/", "/article/", "/blog/", "/insights/", "/guides/"),
}
CONTENT_EVENTS = ("page.visited", "email.clicked")
WEBINAR_EVENT = "webinar.attended"


def build(session: Session, contact_id: int, *, now: datetime) -> dict[str, Any]:
    """The summary of `contact_id` as of `now` (JSON-ready)."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return {"version": SUMMARY_VERSION, "contact": {"id": contact_id}}
    return {
        "version": SUMMARY_VERSION,
        "built_at": now.isoformat(),
        "contact": {
            "id": contact.id,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "title": contact.title,
            "phone": contact.phone,
            "time_zone": contact.time_zone,
            "lifecycle_stage": contact.lifecycle_stage,
        },
        "score": contact.score,
        "fit_grade": contact.fit_grade,
        # Filled by nurture.scoring's explanation when it is wired in; null: not known.
        "score_explanation": None,
        # contacts.predicted_probability once the predictive model writes it.
        "predicted_probability": _predicted(contact),
        "company": _company(session, contact.company_id),
        "recent_activity": _recent(session, contact_id),
        "content_consumed": _content(session, contact_id),
        "sequences": _sequences(session, contact_id),
        "nps": _nps(session, contact_id),
    }


def _predicted(contact: Contact) -> float | None:
    # The column arrives with the predictive score; until then there is nothing to read.
    value = getattr(contact, "predicted_probability", None)
    return None if value is None else float(value)


def _company(session: Session, company_id: int | None) -> dict[str, Any] | None:
    company = None if company_id is None else session.get(Company, company_id)
    if company is None:
        return None
    return {
        "id": company.id,
        "name": company.name,
        "domain": company.domain,
        "industry": company.industry,
        "size_band": company.size_band,
        "country": company.country,
    }


def _event(event: Event) -> dict[str, Any]:
    shown = {k: event.properties[k] for k in SHOWN_PROPERTIES if k in (event.properties or {})}
    return {"type": event.type, "occurred_at": event.occurred_at.isoformat(), "properties": shown}


def _recent(session: Session, contact_id: int) -> list[dict[str, Any]]:
    events = session.scalars(
        select(Event)
        .where(Event.contact_id == contact_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(RECENT_EVENTS)
    )
    return [_event(e) for e in events]


def _content(session: Session, contact_id: int) -> list[dict[str, Any]]:
    """Case studies and articles read (pages visited, links clicked) and webinars attended,
    newest first, each piece once."""
    candidates = session.scalars(
        select(Event)
        .where(
            Event.contact_id == contact_id,
            or_(Event.type.in_(CONTENT_EVENTS), Event.type == WEBINAR_EVENT),
        )
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(500)
    )
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for event in candidates:
        properties = event.properties or {}
        if event.type == WEBINAR_EVENT:
            kind = "webinar"
            key = str(properties.get("webinar") or properties.get("title") or "")
        else:
            key = str(properties.get("path") or properties.get("url") or "")
            kind = next(
                (k for k, marks in CONTENT_PATHS.items() if any(m in key for m in marks)), ""
            )
        if not kind or not key or (kind, key) in seen:
            continue
        seen.add((kind, key))
        found.append(
            {
                "kind": kind,
                "title": properties.get("title"),
                "ref": key,
                "occurred_at": event.occurred_at.isoformat(),
            }
        )
        if len(found) == MAX_CONTENT:
            break
    return found


def _sequences(session: Session, contact_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            Sequence.id, Sequence.name, Enrolment.state, Enrolment.step_key, Enrolment.enrolled_at
        )
        .join(Enrolment, Enrolment.sequence_id == Sequence.id)
        .where(Enrolment.contact_id == contact_id)
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
        .limit(MAX_SEQUENCES)
    )
    return [
        {
            "sequence_id": sid,
            "name": name,
            "state": state,
            "step": step,
            "enrolled_at": enrolled.isoformat(),
        }
        for sid, name, state, step, enrolled in rows
    ]


def _nps(session: Session, contact_id: int) -> list[dict[str, Any]]:
    events = session.scalars(
        select(Event)
        .where(Event.contact_id == contact_id, Event.type == NPS_EVENT)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(MAX_NPS)
    )
    return [
        {
            "score": (e.properties or {}).get("score"),
            "comment": (e.properties or {}).get("comment"),
            "occurred_at": e.occurred_at.isoformat(),
        }
        for e in events
    ]
