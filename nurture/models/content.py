"""The content library that sequences draw on: services, case studies, webinars, articles.

List-valued columns (topics, industries, result metrics) are JSON: the library is
small (hundreds of rows), so selection ranks a filtered set in Python rather than
indexing inside JSON documents, which SQLite and PostgreSQL do differently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.models.base import Base, BigId, JsonDoc, utcnow


class Service(Base):
    """Something the firm sells; case studies are filed under one."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseStudy(Base):
    """A client story: the problem, the measured result and the client's own words.

    `result_metrics` is a list of `{"label": ..., "value": ...}`; `topics` are the
    interest tags a contact's clicks are matched against.
    """

    __tablename__ = "case_studies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    industry: Mapped[str] = mapped_column(String(80), index=True)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), index=True
    )
    client_name: Mapped[str | None] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(String(4000))
    result_metrics: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    testimonial_quote: Mapped[str | None] = mapped_column(String(2000))
    testimonial_author: Mapped[str | None] = mapped_column(String(200))
    # A quote from the testimonials library shown instead of the two fields above while
    # it stays approved; withdrawing its consent takes it off every case study at once.
    testimonial_id: Mapped[int | None] = mapped_column(
        ForeignKey("testimonials.id", ondelete="SET NULL")
    )
    link: Mapped[str | None] = mapped_column(String(500))
    topics: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    service: Mapped[Service | None] = relationship(lazy="joined")


class Webinar(Base):
    """An event people register for. `industries` empty means it suits every industry;
    `capacity` None means unlimited; `seats_taken` is kept by whoever registers people."""

    __tablename__ = "webinars"
    __table_args__ = (UniqueConstraint("title", "starts_at", name="uq_webinars_title_starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(4000))
    industries: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    join_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column()
    seats_taken: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Article(Base):
    """An educational piece (guide, methodology note) that an e-mail can point to."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str | None] = mapped_column(String(4000))
    url: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
