"""What the content library API answers and accepts. Litestar decodes bodies into the
`...In` structs (a change takes the same fields, every one optional: see
bodies.partial_of); campaigns.content then checks the values, naming each bad field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from nurture.models import Article, CaseStudy, Service, Webinar

Tags = Annotated[list[str], Meta(max_length=30)]


class Metric(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, Meta(examples=["Month-end close"])]
    value: Annotated[str, Meta(examples=["-40%"])]


class ServiceIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new service."""

    slug: Annotated[str, Meta(pattern="^[a-z0-9]+(-[a-z0-9]+)*$", examples=["data-platform"])]
    name: Annotated[str, Meta(max_length=200)]
    description: str | None = None


class CaseStudyIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new case study; `industry` and `topics` are stored lower-cased."""

    title: Annotated[str, Meta(max_length=200)]
    industry: Annotated[str, Meta(max_length=80, examples=["legal"])]
    problem: Annotated[str, Meta(max_length=4000)]
    service_id: int | None = None
    client_name: str | None = None
    result_metrics: Annotated[list[Metric], Meta(max_length=10)] = []
    testimonial_quote: str | None = None
    testimonial_author: str | None = None
    link: Annotated[str, Meta(examples=["https://example.com/stories/ledger"])] | None = None
    topics: Tags = []
    published_at: datetime | None = None


class WebinarIn(msgspec.Struct, forbid_unknown_fields=True):
    """`industries` empty: for everyone; `capacity` null: unlimited; a time without zone is UTC."""

    title: Annotated[str, Meta(max_length=200)]
    topic: Annotated[str, Meta(max_length=80, examples=["ai"])]
    starts_at: datetime
    description: str | None = None
    industries: Tags = []
    duration_minutes: Annotated[int, Meta(ge=5)] = 60
    join_url: str | None = None
    capacity: Annotated[int, Meta(ge=1)] | None = None


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new article."""

    slug: Annotated[str, Meta(pattern="^[a-z0-9]+(-[a-z0-9]+)*$")]
    title: Annotated[str, Meta(max_length=200)]
    topic: Annotated[str, Meta(max_length=80)]
    summary: str | None = None
    url: str | None = None
    published_at: datetime | None = None


class ServiceOut(msgspec.Struct):
    id: int
    slug: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class CaseStudyOut(msgspec.Struct):
    id: int
    title: str
    industry: str
    service_id: int | None
    service_slug: str | None
    client_name: str | None
    problem: str
    result_metrics: list[Metric]
    testimonial_quote: str | None
    testimonial_author: str | None
    link: str | None
    topics: list[str]
    published_at: datetime
    created_at: datetime
    updated_at: datetime


class WebinarOut(msgspec.Struct):
    id: int
    title: str
    topic: str
    description: str | None
    industries: list[str]
    starts_at: datetime
    duration_minutes: int
    join_url: str | None
    capacity: int | None
    seats_taken: int
    created_at: datetime
    updated_at: datetime


class ArticleOut(msgspec.Struct):
    id: int
    slug: str
    title: str
    topic: str
    summary: str | None
    url: str | None
    published_at: datetime
    created_at: datetime
    updated_at: datetime


class ServicePage(msgspec.Struct):
    """Items by id; pass `next_cursor` back as `cursor` for more (null: no more)."""

    items: list[ServiceOut]
    next_cursor: str | None


class CaseStudyPage(msgspec.Struct):
    """Items by id; pass `next_cursor` back as `cursor` for more (null: no more)."""

    items: list[CaseStudyOut]
    next_cursor: str | None


class WebinarPage(msgspec.Struct):
    """Items by id; pass `next_cursor` back as `cursor` for more (null: no more)."""

    items: list[WebinarOut]
    next_cursor: str | None


class ArticlePage(msgspec.Struct):
    """Items by id; pass `next_cursor` back as `cursor` for more (null: no more)."""

    items: list[ArticleOut]
    next_cursor: str | None


def service_out(s: Service) -> ServiceOut:
    return ServiceOut(s.id, s.slug, s.name, s.description, s.created_at, s.updated_at)


def case_study_out(c: CaseStudy) -> CaseStudyOut:
    return CaseStudyOut(
        id=c.id,
        title=c.title,
        industry=c.industry,
        service_id=c.service_id,
        service_slug=c.service.slug if c.service is not None else None,
        client_name=c.client_name,
        problem=c.problem,
        result_metrics=[Metric(m["label"], m["value"]) for m in c.result_metrics],
        testimonial_quote=c.testimonial_quote,
        testimonial_author=c.testimonial_author,
        link=c.link,
        topics=list(c.topics),
        published_at=c.published_at,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def webinar_out(w: Webinar) -> WebinarOut:
    return WebinarOut(
        id=w.id,
        title=w.title,
        topic=w.topic,
        description=w.description,
        industries=list(w.industries),
        starts_at=w.starts_at,
        duration_minutes=w.duration_minutes,
        join_url=w.join_url,
        capacity=w.capacity,
        seats_taken=w.seats_taken,
        created_at=w.created_at,
        updated_at=w.updated_at,
    )


def article_out(a: Article) -> ArticleOut:
    return ArticleOut(
        a.id, a.slug, a.title, a.topic, a.summary, a.url, a.published_at, a.created_at, a.updated_at
    )
