"""The content qualified leads read most before they qualified. One grouped statement.

The leads are the contacts that reached MQL (or a later stage) in the period. A
piece of content counts for a lead when, before that moment, the lead:

- clicked, as a person (not a machine-flagged click), a tracked link whose target is
  a case study's `link` or an article's `url` (`email.clicked`, property `url`);
- attended a webinar (`webinar.attended`, property `webinar_id`).

Being sent a case study or registering for a webinar is not reading it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from nurture.models import Article, CaseStudy, Event, Webinar
from nurture.reports.filters import ReportFilter
from nurture.reports.stages import FUNNEL, QUALIFIED, reached, within

CLICKED = "email.clicked"
ATTENDED = "webinar.attended"
TOP = 20


@dataclass(frozen=True, slots=True)
class ContentFigures:
    kind: str  # "case_study", "article" or "webinar"
    item_id: int
    title: str
    leads: int  # qualified leads that read it before qualifying
    reads: int  # their reads of it (clicks or attendances) before qualifying


@dataclass(frozen=True, slots=True)
class ContentReport:
    qualified: int  # qualified leads in the period
    items: tuple[ContentFigures, ...]  # most leads first, at most TOP

    def share(self, item: ContentFigures) -> float | None:
        """The share of the period's qualified leads that read `item`."""
        return item.leads / self.qualified if self.qualified else None


def content_read(session: Session, flt: ReportFilter, *, top: int = TOP) -> ContentReport:
    """The `top` pieces of content read by the most qualified leads before they qualified."""
    r = reached(flt)
    qualified_at = r.c[f"r{FUNNEL.index(QUALIFIED) + 1}"]
    leads = (
        select(r.c.contact_id, qualified_at.label("qualified_at"))
        .where(within(qualified_at, flt))
        .cte("leads")
    )
    qualified = int(session.scalar(select(func.count()).select_from(leads)) or 0)
    if not qualified:
        return ContentReport(0, ())

    def reads(
        kind: str,
        item_id: InstrumentedAttribute[int],
        title: InstrumentedAttribute[str],
        on: ColumnElement[bool],
        event_type: str,
    ) -> Select[str, int, str, int]:
        return (
            select(
                literal(kind).label("kind"),
                item_id.label("item_id"),
                title.label("title"),
                Event.contact_id.label("contact_id"),
            )
            .select_from(Event)
            .join(leads, leads.c.contact_id == Event.contact_id)
            .where(Event.type == event_type, Event.occurred_at < leads.c.qualified_at, on)
        )

    url = Event.properties["url"].as_string()
    person = Event.properties["machine"].as_string().is_(None)
    every = union_all(
        reads(
            "case_study",
            CaseStudy.id,
            CaseStudy.title,
            and_(person, url == CaseStudy.link),
            CLICKED,
        ),
        reads("article", Article.id, Article.title, and_(person, url == Article.url), CLICKED),
        reads(
            "webinar",
            Webinar.id,
            Webinar.title,
            Event.properties["webinar_id"].as_integer() == Webinar.id,
            ATTENDED,
        ),
    ).subquery("reads")
    number = func.count(func.distinct(every.c.contact_id))
    rows = session.execute(
        select(every.c.kind, every.c.item_id, every.c.title, number, func.count())
        .group_by(every.c.kind, every.c.item_id, every.c.title)
        .order_by(number.desc(), func.count().desc(), every.c.title, every.c.kind)
        .limit(top)
    )
    return ContentReport(
        qualified,
        tuple(
            ContentFigures(str(kind), int(item_id), str(title), int(n), int(total))
            for kind, item_id, title, n, total in rows
        ),
    )
