"""What each kind of library item is made of: its table, its fields and what must be unique."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from campaigns.content.fields import FieldReader
from nurture.models import Article, CaseStudy, Service, Webinar

M = TypeVar("M", Service, CaseStudy, Webinar, Article)


@dataclass(frozen=True, slots=True)
class Kind(Generic[M]):
    """`name` is used in audit entries and error messages; `unique` lists the column
    groups no two items may share; `order` is how lists of this kind read best."""

    name: str
    model: type[M]
    read: Callable[[FieldReader], None]
    unique: tuple[tuple[str, ...], ...]
    order: tuple[Any, ...]  # columns or ordering expressions

    def clean(self, data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        reader = FieldReader(data, partial=partial)
        self.read(reader)
        return reader.finish()


def _service(r: FieldReader) -> None:
    r.slug("slug", max_length=80)
    r.text("name", max_length=200, required=True)
    r.text("description", max_length=4000)


def _case_study(r: FieldReader) -> None:
    r.text("title", max_length=200, required=True)
    r.tag("industry", required=True)
    r.integer("service_id", minimum=1)
    r.text("client_name", max_length=200)
    r.text("problem", max_length=4000, required=True)
    r.metrics("result_metrics")
    r.text("testimonial_quote", max_length=2000)
    r.text("testimonial_author", max_length=200)
    r.url("link")
    r.tags("topics")
    r.moment("published_at")


def _webinar(r: FieldReader) -> None:
    r.text("title", max_length=200, required=True)
    r.tag("topic", required=True)
    r.text("description", max_length=4000)
    r.tags("industries")
    r.moment("starts_at", required=True)
    r.integer("duration_minutes", minimum=5, default=60)
    r.url("join_url")
    r.integer("capacity", minimum=1)


def _article(r: FieldReader) -> None:
    r.slug("slug", max_length=120)
    r.text("title", max_length=200, required=True)
    r.tag("topic", required=True)
    r.text("summary", max_length=4000)
    r.url("url")
    r.moment("published_at")


SERVICES = Kind("service", Service, _service, (("slug",), ("name",)), (Service.name,))
CASE_STUDIES = Kind(
    "case study",
    CaseStudy,
    _case_study,
    (("title",),),
    (CaseStudy.published_at.desc(), CaseStudy.id.desc()),
)
WEBINARS = Kind(
    "webinar", Webinar, _webinar, (("title", "starts_at"),), (Webinar.starts_at, Webinar.id)
)
ARTICLES = Kind(
    "article",
    Article,
    _article,
    (("slug",),),
    (Article.published_at.desc(), Article.id.desc()),
)
