"""Selection: the best-fitting unseen case study and the next webinar with a free seat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import CASE_STUDIES, SERVICES, WEBINARS
from campaigns.content.seats import give_back_seat, take_seat
from campaigns.content.selection import best_case_study, next_webinar
from nurture.errors import InvalidInput
from nurture.models import CaseStudy, Webinar

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _story(db: Session, title: str, **fields: Any) -> CaseStudy:
    data = {"title": title, "industry": "retail", "problem": "p", **fields}
    return library.create(db, CASE_STUDIES, actor="t", data=data)


def _webinar(db: Session, title: str, days: float, **fields: Any) -> Webinar:
    data = {"title": title, "topic": "ai", "starts_at": NOW + timedelta(days=days), **fields}
    return library.create(db, WEBINARS, actor="t", data=data)


def test_industry_outranks_service_which_outranks_topics_then_recency(db: Session) -> None:
    erp = library.create(db, SERVICES, actor="t", data={"slug": "erp", "name": "ERP"})
    _story(db, "retail, newest", published_at=NOW)
    month_ago = NOW - timedelta(days=30)
    topical = _story(
        db, "legal by topic", industry="legal", topics=["audit", "gdpr"], published_at=month_ago
    )
    by_service = _story(
        db, "legal by service", industry="legal", service_id=erp.id, published_at=month_ago
    )
    newer = _story(db, "legal newest", industry="legal", published_at=NOW)
    _story(db, "legal older", industry="legal", published_at=NOW - timedelta(days=90))

    def pick(**kw: Any) -> CaseStudy | None:
        return best_case_study(db, industry="Legal", **kw)

    assert pick(service_slugs=["erp"], topics=["gdpr"]) == by_service
    assert pick(topics=["GDPR", "audit"]) == topical
    assert pick() == newer
    last = pick(exclude_ids=[newer.id, topical.id, by_service.id])
    assert last is not None
    assert last.title == "legal older"


def test_another_industry_is_offered_when_the_own_is_used_up(db: Session) -> None:
    own = _story(db, "legal", industry="legal")
    other = _story(db, "retail")
    assert best_case_study(db, industry="legal", exclude_ids=[own.id]) == other
    assert best_case_study(db, industry="legal", exclude_ids=[own.id, other.id]) is None


def test_next_webinar_skips_past_and_full_events(db: Session) -> None:
    _webinar(db, "past", -1)
    full = _webinar(db, "full", 1, capacity=10)
    full.seats_taken = 10
    open_one = _webinar(db, "open", 3, capacity=10)
    _webinar(db, "later", 5)
    assert next_webinar(db, now=NOW) == open_one


def test_next_webinar_respects_industries_and_prefers_the_topic(db: Session) -> None:
    _webinar(db, "for banks", 1, industries=["fintech"])
    general = _webinar(db, "general", 2)
    legal_gdpr = _webinar(db, "gdpr for lawyers", 4, topic="gdpr", industries=["legal"])
    assert next_webinar(db, now=NOW, industry="legal") == general
    assert next_webinar(db, now=NOW, industry="legal", topics=["GDPR"]) == legal_gdpr
    assert next_webinar(db, now=NOW, industry="retail", topics=["gdpr"]) == general
    assert next_webinar(db, now=NOW + timedelta(days=10)) is None


def test_seats_run_out_and_come_back(db: Session) -> None:
    webinar = _webinar(db, "small room", 2, capacity=2)
    assert [take_seat(db, webinar.id) for _ in range(3)] == [True, True, False]
    assert next_webinar(db, now=NOW) is None
    give_back_seat(db, webinar.id)
    assert webinar.seats_taken == 1
    assert next_webinar(db, now=NOW) == webinar


def test_capacity_cannot_drop_below_the_seats_taken(db: Session) -> None:
    webinar = _webinar(db, "room", 2, capacity=5)
    take_seat(db, webinar.id)
    take_seat(db, webinar.id)
    with pytest.raises(InvalidInput, match="2 seats are already taken"):
        library.update(db, WEBINARS, webinar.id, actor="t", data={"capacity": 1})
    library.update(db, WEBINARS, webinar.id, actor="t", data={"capacity": 2})
    assert webinar.capacity == 2
