"""Demo content beyond people and events: the starter e-mail library and a few segments.

Kept apart from nurture/demo.py (people, companies, events) because it builds on
campaigns/ and segments/, the floors above the core that demo.py's data needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import ARTICLES, CASE_STUDIES, SERVICES, WEBINARS
from campaigns.email.seed import seed_starter_library
from nurture.demo import library_data as data
from nurture.demo.data import SERVICES as DEMO_SERVICES
from nurture.models import Article, CaseStudy, Segment, Service, Webinar, utcnow
from segments import membership, store

# Segments a consultancy's marketer would build first; refreshed once so they have members.
SEGMENTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "Law firms in DACH, engaged",
        "Legal companies in Germany, Austria or Switzerland that clicked in the last 60 days",
        {
            "all": [
                {"field": "company.industry", "op": "equals", "value": "legal"},
                {"field": "company.country", "op": "in", "value": ["DE", "AT", "CH"]},
                {"event": "email.clicked", "op": "at_least", "times": 1, "within_last_days": 60},
                {"field": "lifecycle_stage", "op": "not_equals", "value": "customer"},
            ]
        },
    ),
    (
        "Webinar no-shows",
        "Registered for a webinar in the last 90 days and never attended one",
        {
            "all": [
                {
                    "event": "webinar.registered",
                    "op": "at_least",
                    "times": 1,
                    "within_last_days": 90,
                },
                {"event": "webinar.attended", "op": "never"},
            ]
        },
    ),
    (
        "Promoters",
        "Clients whose latest NPS answer was 9 or 10",
        {"all": [{"field": "nps_category", "op": "equals", "value": "promoter"}]},
    ),
)


def seed_demo_content(session: Session) -> tuple[int, int]:
    """Load what is missing; returns (templates added, segments added). Commits."""
    templates = len(seed_starter_library(session, actor="cli"))
    session.commit()
    seed_demo_library(session)
    session.commit()
    have = set(session.scalars(select(Segment.name)))
    added = 0
    for name, description, rule in SEGMENTS:
        if name in have:
            continue
        segment = store.create_segment(
            session, name=name, description=description, rule={"version": 1, "rule": rule}
        )
        session.commit()
        membership.refresh_segment(session, segment.id)
        session.commit()
        added += 1
    return templates, added


def seed_demo_library(session: Session) -> int:
    """Add the demo services, case studies, webinars and articles that are missing
    (matched by slug, or by title where there is none); returns how many were added.

    Webinar dates are relative to now, so a fresh demo always has upcoming events.
    Flushes; the caller commits.
    """
    now = utcnow()
    return (
        _seed_services(session)
        + _seed_case_studies(session, now)
        + _seed_webinars(session, now)
        + _seed_articles(session, now)
    )


def _seed_services(session: Session) -> int:
    have = set(session.scalars(select(Service.slug)))
    missing = [s for s in DEMO_SERVICES if s.slug not in have]
    for service in missing:
        fields: dict[str, Any] = {
            "slug": service.slug,
            "name": service.name,
            "description": data.SERVICE_DESCRIPTIONS.get(service.slug),
        }
        library.create(session, SERVICES, actor="cli", data=fields)
    return len(missing)


def _seed_case_studies(session: Session, now: datetime) -> int:
    service_ids: dict[str, int] = {
        slug: id_ for slug, id_ in session.execute(select(Service.slug, Service.id))
    }
    have = set(session.scalars(select(CaseStudy.title)))
    missing = [s for s in data.STORIES if s.title not in have]
    for story in missing:
        fields: dict[str, Any] = {
            "title": story.title,
            "industry": story.industry,
            "service_id": service_ids.get(story.service),
            "client_name": story.client,
            "problem": story.problem,
            "result_metrics": [{"label": label, "value": value} for label, value in story.metrics],
            "testimonial_quote": story.quote,
            "testimonial_author": story.author,
            "link": data.case_study_link(story),
            "topics": list(story.topics),
            "published_at": now - timedelta(days=30 * story.months_ago),
        }
        library.create(session, CASE_STUDIES, actor="cli", data=fields)
    return len(missing)


def _seed_webinars(session: Session, now: datetime) -> int:
    have = set(session.scalars(select(Webinar.title)))
    missing = [e for e in data.WEBINARS if e.title not in have]
    for event in missing:
        day = now + timedelta(days=event.days_from_now)
        fields: dict[str, Any] = {
            "title": event.title,
            "topic": event.topic,
            "industries": list(event.industries),
            "starts_at": day.replace(hour=15, minute=0, second=0, microsecond=0),
            "duration_minutes": event.duration_minutes,
            "capacity": event.capacity,
            "join_url": "https://example.com/webinars/join",
            "description": event.description,
        }
        library.create(session, WEBINARS, actor="cli", data=fields)
    return len(missing)


def _seed_articles(session: Session, now: datetime) -> int:
    have = set(session.scalars(select(Article.slug)))
    missing = [p for p in data.ARTICLES if p.slug not in have]
    for piece in missing:
        fields: dict[str, Any] = {
            "slug": piece.slug,
            "title": piece.title,
            "topic": piece.topic,
            "summary": piece.summary,
            "url": data.article_url(piece),
            "published_at": now - timedelta(days=30 * piece.months_ago),
        }
        library.create(session, ARTICLES, actor="cli", data=fields)
    return len(missing)
