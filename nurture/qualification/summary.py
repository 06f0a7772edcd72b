"""The hand-off summary: what a rep needs to call the lead today, frozen as JSON.

Built when the lead qualifies, before the move to MQL takes them out of sequences, so
the rep sees the sequences and steps the lead was in. Two slots wait for parts built
elsewhere and are read here: `score_explanation` (the rules behind the score and the
fit rules behind the grade, from nurture.scoring.explain) and `predicted_probability`
(from the published predictive model); readers treat null as "not known".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from nurture.models import Company, Contact, Enrolment, Event, NpsSurvey, Project, Sequence
from nurture.scoring.explain import explain

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
    return build_many(session, [contact_id], now=now)[contact_id]


def build_many(
    session: Session, contact_ids: Iterable[int], *, now: datetime
) -> dict[int, dict[str, Any]]:
    """Contact id -> summary, for a batch in a handful of queries (not a few per contact)."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Contact, Company)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Contact.id.in_(ids))
    ).all()
    recent = _per_contact(session, _latest(ids, None, RECENT_EVENTS))
    content = _per_contact(session, _latest(ids, (*CONTENT_EVENTS, WEBINAR_EVENT), 500))
    # A changed answer is a second event of the same survey: fetch enough to keep
    # MAX_NPS surveys once each survey's older answers are dropped.
    nps = _per_contact(session, _latest(ids, (NPS_EVENT,), MAX_NPS * 4))
    surveys = _surveys(session, [e for events in nps.values() for e in events])
    sequences = _sequences(session, ids)
    summaries = {cid: {"version": SUMMARY_VERSION, "contact": {"id": cid}} for cid in ids}
    for contact, company in rows:
        summaries[contact.id] = {
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
            "score_explanation": _explained(session, contact.id, now),
            # contacts.predicted_probability once the predictive model writes it.
            "predicted_probability": _predicted(contact),
            "company": _company(company),
            "recent_activity": [_event(e) for e in recent.get(contact.id, [])],
            "content_consumed": _content(content.get(contact.id, [])),
            "sequences": sequences.get(contact.id, []),
            "nps": _answers(nps.get(contact.id, []), surveys),
        }
    return summaries


def _explained(session: Session, contact_id: int, now: datetime) -> dict[str, Any]:
    """Why the lead has its score and grade, as lines a rep reads (largest share first).

    One explanation per lead handed over: a sweep hands over a bounded batch, never
    every contact."""
    why = explain(session, contact_id, now=now)
    rules = [
        f"{share.name}: {share.contribution:+.1f} now"
        f" ({share.awards} award{'s' if share.awards != 1 else ''}, {share.points:+g} points)"
        for share in why.by_rule
    ]
    fit = [f"{match.name}: {match.points:+d}" for match in why.fit_matches]
    return {"score": why.score, "total": round(why.total, 2), "rules": rules, "fit": fit}


def _predicted(contact: Contact) -> float | None:
    # The column arrives with the predictive score; until then there is nothing to read.
    value = getattr(contact, "predicted_probability", None)
    return None if value is None else float(value)


def _company(company: Company | None) -> dict[str, Any] | None:
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


def _latest(ids: list[int], types: tuple[str, ...] | None, per_contact: int) -> Select[Any]:
    """The newest `per_contact` events (of `types`, or any) of each contact: one ranked
    pass over their events rather than a query per contact."""
    conditions: list[ColumnElement[bool]] = [Event.contact_id.in_(ids)]
    if types is not None:
        conditions.append(Event.type.in_(types))
    ranked = (
        select(
            Event.id,
            func.row_number()
            .over(
                partition_by=Event.contact_id,
                order_by=(Event.occurred_at.desc(), Event.id.desc()),
            )
            .label("n"),
        )
        .where(*conditions)
        .subquery()
    )
    return (
        select(Event)
        .join(ranked, ranked.c.id == Event.id)
        .where(ranked.c.n <= per_contact)
        .order_by(Event.contact_id, Event.occurred_at.desc(), Event.id.desc())
    )


def _per_contact(session: Session, stmt: Select[Any]) -> dict[int, list[Event]]:
    found: dict[int, list[Event]] = {}
    for event in session.scalars(stmt):
        found.setdefault(event.contact_id, []).append(event)
    return found


def _event(event: Event) -> dict[str, Any]:
    shown = {k: event.properties[k] for k in SHOWN_PROPERTIES if k in (event.properties or {})}
    return {"type": event.type, "occurred_at": event.occurred_at.isoformat(), "properties": shown}


def _content(events: list[Event]) -> list[dict[str, Any]]:
    """Case studies and articles read (pages visited, links clicked) and webinars attended,
    newest first, each piece once."""
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for event in events:
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


def _sequences(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    ranked = (
        select(
            Enrolment.id,
            func.row_number()
            .over(
                partition_by=Enrolment.contact_id,
                order_by=(Enrolment.enrolled_at.desc(), Enrolment.id.desc()),
            )
            .label("n"),
        )
        .where(Enrolment.contact_id.in_(ids))
        .subquery()
    )
    rows = session.execute(
        select(
            Enrolment.contact_id,
            Sequence.id,
            Sequence.name,
            Enrolment.state,
            Enrolment.step_key,
            Enrolment.enrolled_at,
        )
        .join(ranked, ranked.c.id == Enrolment.id)
        .join(Sequence, Sequence.id == Enrolment.sequence_id)
        .where(ranked.c.n <= MAX_SEQUENCES)
        .order_by(Enrolment.contact_id, Enrolment.enrolled_at.desc(), Enrolment.id.desc())
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for cid, sid, name, state, step, enrolled in rows:
        found.setdefault(cid, []).append(
            {
                "sequence_id": sid,
                "name": name,
                "state": state,
                "step": step,
                "enrolled_at": enrolled.isoformat(),
            }
        )
    return found


def _surveys(session: Session, events: list[Event]) -> dict[int, tuple[NpsSurvey, str | None]]:
    """Survey id -> (survey, project name) for the surveys the answers name: what the
    client wrote lives on the survey, not in the `nps.answered` event."""
    ids = {
        sid
        for sid in ((e.properties or {}).get("survey_id") for e in events)
        if isinstance(sid, int) and not isinstance(sid, bool)
    }
    if not ids:
        return {}
    rows = session.execute(
        select(NpsSurvey, Project.name)
        .outerjoin(Project, Project.id == NpsSurvey.project_id)
        .where(NpsSurvey.id.in_(ids))
    )
    return {survey.id: (survey, name) for survey, name in rows}


def _answers(
    events: list[Event], surveys: dict[int, tuple[NpsSurvey, str | None]]
) -> list[dict[str, Any]]:
    """The newest answer of each survey, newest first (events come newest first)."""
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    for event in events:
        properties = event.properties or {}
        raw_id = properties.get("survey_id")
        # Events from before surveys existed (or pushed by hand) may name none.
        survey_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        if survey_id is not None:
            if survey_id in seen:
                continue
            seen.add(survey_id)
        survey, project = surveys.get(survey_id, (None, None)) if survey_id else (None, None)
        follow_up = survey.follow_up if survey is not None else None
        comment = (survey.comment if survey is not None else None) or properties.get("comment")
        found.append(
            {
                "survey_id": survey_id,
                "score": properties.get("score"),
                "category": properties.get("category"),
                "service": properties.get("service"),
                "project_id": properties.get("project_id"),
                "project": project,
                # The inbox shows `comment`: the client's comment, else their follow-up.
                "comment": comment or follow_up,
                "follow_up": follow_up,
                "occurred_at": event.occurred_at.isoformat(),
            }
        )
        if len(found) == MAX_NPS:
            break
    return found
