"""Choosing library content for one contact: the case study that fits them best and
the next webinar they could join. Sequence steps call these; they only read.

Both run one query that narrows the candidates in SQL (exclusions, upcoming and
with free seats) and rank the remainder in Python: topic and industry lists are
JSON, and a library holds hundreds of items, not millions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from nurture.models import CaseStudy, Service, Webinar

# How many upcoming webinars are considered at most; more than a library plans ahead.
WEBINAR_HORIZON = 200


def best_case_study(
    session: Session,
    *,
    industry: str | None,
    service_slugs: Collection[str] = (),
    topics: Collection[str] = (),
    exclude_ids: Collection[int] = (),
) -> CaseStudy | None:
    """The case study that fits best, never one in `exclude_ids` (those already sent).

    Ranked by, in this order: same industry as the contact; filed under one of
    `service_slugs`; how many of its topics are in `topics`; newest publication;
    highest id (so the choice is deterministic). None when every story is excluded.
    Matching ignores case.
    """
    wanted_industry = (industry or "").strip().lower()
    slugs = {s.strip().lower() for s in service_slugs}
    interests = {t.strip().lower() for t in topics}
    industry_match = case((CaseStudy.industry == wanted_industry, 1), else_=0)
    # An empty IN list is valid SQL in SQLAlchemy 2 (it renders as always false).
    service_match = case((Service.slug.in_(sorted(slugs)), 1), else_=0)
    query = select(CaseStudy, industry_match, service_match).outerjoin(
        Service, CaseStudy.service_id == Service.id
    )
    if exclude_ids:
        query = query.where(CaseStudy.id.not_in(sorted(exclude_ids)))
    best: tuple[tuple[int, int, int, datetime, int], CaseStudy] | None = None
    for story, by_industry, by_service in session.execute(query).unique():
        overlap = len(interests.intersection(story.topics or []))
        key = (int(by_industry), int(by_service), overlap, story.published_at, story.id)
        if best is None or key > best[0]:
            best = (key, story)
    return None if best is None else best[1]


def next_webinar(
    session: Session,
    *,
    now: datetime,
    industry: str | None = None,
    topics: Collection[str] = (),
    exclude_ids: Collection[int] = (),
) -> Webinar | None:
    """The next webinar starting after `now` with a free seat that suits `industry`.

    A webinar suits an industry when its `industries` list is empty (for everyone)
    or names it. If any such webinar's topic is in `topics`, the earliest of those
    wins; otherwise the earliest suitable one. Never one in `exclude_ids` (say, those
    the contact registered for already). None when nothing fits.
    """
    query = (
        select(Webinar)
        .where(
            Webinar.starts_at > now,
            or_(Webinar.capacity.is_(None), Webinar.seats_taken < Webinar.capacity),
        )
        .order_by(Webinar.starts_at, Webinar.id)
        .limit(WEBINAR_HORIZON)
    )
    if exclude_ids:
        query = query.where(Webinar.id.not_in(sorted(exclude_ids)))
    wanted = (industry or "").strip().lower()
    suitable = [w for w in session.scalars(query) if _suits(w.industries, wanted)]
    interests = {t.strip().lower() for t in topics}
    on_topic = [w for w in suitable if w.topic in interests]
    chosen = on_topic or suitable
    return chosen[0] if chosen else None


def _suits(industries: Iterable[str] | None, industry: str) -> bool:
    listed = list(industries or [])
    return not listed or industry in listed
