"""How the library pages show each kind: its columns, its form fields, and the
conversion between stored values and the text an HTML form holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaigns.content.kinds import ARTICLES, CASE_STUDIES, SERVICES, WEBINARS, Kind
from nurture.web.ui import formatting


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    # text, textarea, url, number, datetime (UTC, datetime-local input), select (services)
    input: str = "text"
    required: bool = False
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    cell: Callable[[Any], str]


@dataclass(frozen=True, slots=True)
class Page:
    key: str  # the URL segment and the content tab
    title: str  # plural, for the list
    singular: str
    kind: Kind[Any]
    fields: tuple[Field, ...]
    columns: tuple[Column, ...]
    blurb: str


def _metrics(value: list[dict[str, str]]) -> str:
    return "; ".join(f"{m['label']}: {m['value']}" for m in value)


def _seats(webinar: Any) -> str:
    if webinar.capacity is None:
        return f"{webinar.seats_taken} / unlimited"
    return f"{webinar.seats_taken} / {webinar.capacity}"


PAGES: dict[str, Page] = {
    p.key: p
    for p in (
        Page(
            "services",
            "Services",
            "service",
            SERVICES,
            (
                Field("name", "Name", required=True),
                Field("slug", "Slug", required=True, hint="Lower-case words joined by hyphens."),
                Field("description", "Description", "textarea"),
            ),
            (Column("Slug", lambda s: s.slug),),
            "What the firm sells; case studies are filed under a service.",
        ),
        Page(
            "case-studies",
            "Case studies",
            "case study",
            CASE_STUDIES,
            (
                Field("title", "Title", required=True),
                Field("industry", "Industry", required=True, hint="For example legal, retail."),
                Field("service_id", "Service", "select"),
                Field("client_name", "Client"),
                Field("problem", "Problem", "textarea", required=True),
                Field("result_metrics", "Results", "textarea", hint="One per line: label: value"),
                Field("testimonial_quote", "Testimonial quote", "textarea"),
                Field("testimonial_author", "Quote by"),
                Field("link", "Link", "url"),
                Field("topics", "Topics", hint="Separated by commas."),
                Field("published_at", "Published (UTC)", "datetime"),
            ),
            (
                Column("Industry", lambda c: formatting.humanise(c.industry)),
                Column("Service", lambda c: c.service.name if c.service else "—"),
                Column("Results", lambda c: _metrics(c.result_metrics) or "—"),
                Column("Published", lambda c: formatting.day(c.published_at)),
            ),
            "Client stories by industry and service; sequences send the best unseen fit.",
        ),
        Page(
            "webinars",
            "Webinars",
            "webinar",
            WEBINARS,
            (
                Field("title", "Title", required=True),
                Field("topic", "Topic", required=True),
                Field("starts_at", "Starts (UTC)", "datetime", required=True),
                Field("duration_minutes", "Duration (minutes)", "number"),
                Field("capacity", "Capacity", "number", hint="Empty: unlimited."),
                Field("industries", "Industries", hint="Separated by commas; empty: everyone."),
                Field("join_url", "Join link", "url"),
                Field("description", "Description", "textarea"),
            ),
            (
                Column("Starts", lambda w: formatting.stamp(w.starts_at)),
                Column("Topic", lambda w: formatting.humanise(w.topic)),
                Column("Industries", lambda w: ", ".join(w.industries) or "All"),
                Column("Seats", _seats),
            ),
            "Events to invite leads to; invitations pick the next one with free seats.",
        ),
        Page(
            "articles",
            "Articles",
            "article",
            ARTICLES,
            (
                Field("title", "Title", required=True),
                Field("slug", "Slug", required=True, hint="Lower-case words joined by hyphens."),
                Field("topic", "Topic", required=True),
                Field("url", "Link", "url"),
                Field("summary", "Summary", "textarea"),
                Field("published_at", "Published (UTC)", "datetime"),
            ),
            (
                Column("Topic", lambda a: formatting.humanise(a.topic)),
                Column("Published", lambda a: formatting.day(a.published_at)),
            ),
            "Educational pieces that nurture e-mails point to.",
        ),
    )
}


def form_values(page: Page, item: Any | None) -> dict[str, str]:
    """The stored item as form text (empty strings for a new one)."""
    if item is None:
        return {f.name: "" for f in page.fields}
    return {f.name: _as_text(getattr(item, f.name)) for f in page.fields}


def posted(page: Page, data: Mapping[str, str]) -> dict[str, str]:
    """Only this kind's fields from a posted form (the CSRF token and buttons dropped)."""
    return {f.name: data.get(f.name, "") for f in page.fields}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join(f"{m['label']}: {m['value']}" for m in value)
        return ", ".join(str(v) for v in value)
    return str(value)
