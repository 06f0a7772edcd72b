"""The demo fills the library once: services, stories across industries, webinars, articles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.content.selection import best_case_study, next_webinar
from nurture.demo import library_data as data
from nurture.demo.content import seed_demo_library
from nurture.demo.data import INDUSTRIES, SERVICES
from nurture.models import Article, CaseStudy, Service, Webinar, utcnow


def _count(db: Session, model: type[object]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_demo_library_is_seeded_once(db: Session) -> None:
    first = seed_demo_library(db)
    db.commit()
    second = seed_demo_library(db)
    db.commit()
    counts = [_count(db, m) for m in (Service, CaseStudy, Webinar, Article)]
    assert counts == [len(SERVICES), len(data.STORIES), len(data.WEBINARS), len(data.ARTICLES)]
    assert first == sum(counts)
    assert second == 0


def test_demo_stories_use_demo_industries_and_each_has_a_service_and_quote(db: Session) -> None:
    seed_demo_library(db)
    stories = list(db.scalars(select(CaseStudy)))
    assert {s.industry for s in stories} <= set(INDUSTRIES)
    assert len({s.industry for s in stories}) >= 10
    assert all(s.service_id and s.testimonial_quote and s.result_metrics for s in stories)


def test_demo_library_feeds_the_selection_helpers(db: Session) -> None:
    seed_demo_library(db)
    now = utcnow()
    upcoming = db.scalar(select(func.count()).where(Webinar.starts_at > now))
    assert upcoming == sum(1 for e in data.WEBINARS if e.days_from_now > 0) >= 6
    story = best_case_study(db, industry="legal", topics=["security"])
    assert story is not None
    assert (story.industry, story.title) == ("legal", "NIS2 readiness for a law firm")
    webinar = next_webinar(db, now=now, industry="legal", topics=["security"])
    assert webinar is not None
    assert webinar.title == "NIS2 in practice"
