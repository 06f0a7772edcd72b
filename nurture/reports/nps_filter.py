"""What an NPS report looks at: a period, the surveys it is narrowed to, and which
comments to list. The Reviews page, its downloads and the API read their query here,
so each answers the same bad input with the same problem naming the parameter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, Problem
from nurture.models import NpsCategory, Service, User
from nurture.reports.filters import read_id, read_period
from nurture.validation import NUL_MESSAGE, holds_nul

MAX_TEXT = 200
MAX_INDUSTRY = 80
MAX_PAGE = 10_000


class Period(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True, slots=True)
class NpsFilter:
    """Answers given and surveys sent in `start`..`end` (UTC days, both included; None:
    unbounded), narrowed by service, account manager, team member and industry;
    `category`, `text` and `page` choose the comments listed."""

    start: date | None = None
    end: date | None = None
    service_id: int | None = None
    manager_id: int | None = None
    member_id: int | None = None
    industry: str | None = None
    by: Period = Period.MONTH
    category: str | None = None
    text: str | None = None
    page: int = 1
    # Not a query parameter: the company page's panel narrows to one company.
    company_id: int | None = None

    @property
    def since(self) -> datetime | None:
        return None if self.start is None else datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime | None:
        """The first instant after the period (its last day is included)."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    @property
    def narrowed(self) -> bool:
        """Whether the surveys counted are narrowed (period, service, people, industry)."""
        scope = (self.start, self.end, self.service_id, self.manager_id, self.member_id)
        return any(v is not None for v in scope) or self.industry is not None

    def query(self, *, page: bool = True) -> dict[str, str]:
        """The query parameters that select this filter again (for links and downloads)."""
        values = {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "service": str(self.service_id or ""),
            "manager": str(self.manager_id or ""),
            "member": str(self.member_id or ""),
            "industry": self.industry or "",
            "by": "" if self.by is Period.MONTH else self.by.value,
            "category": self.category or "",
            "q": self.text or "",
            "page": str(self.page) if page and self.page > 1 else "",
        }
        return {key: value for key, value in values.items() if value}

    def on_page(self, number: int) -> NpsFilter:
        return replace(self, page=number)


def parse_nps_filter(session: Session, raw: Mapping[str, str | None]) -> NpsFilter:
    """The filter the query parameters ask for; InvalidInput names every bad parameter.

    A service or user that does not exist is bad input, not an empty report: a typo in
    a bookmarked link should say so rather than show nothing.
    """
    problems: list[Problem] = []
    start, end = read_period(raw, problems)
    service_id = read_id(raw.get("service"), "service", problems)
    if service_id is not None and session.get(Service, service_id) is None:
        problems.append(Problem("service", f"no service with id {service_id}"))
    manager_id = read_id(raw.get("manager"), "manager", problems)
    member_id = read_id(raw.get("member"), "member", problems)
    for name, user_id in (("manager", manager_id), ("member", member_id)):
        if user_id is not None and session.get(User, user_id) is None:
            problems.append(Problem(name, f"no user with id {user_id}"))
    industry = _text(raw.get("industry"), "industry", MAX_INDUSTRY, problems)
    by_text = (raw.get("by") or "").strip() or Period.MONTH.value
    try:
        by = Period(by_text)
    except ValueError:
        problems.append(Problem("by", "must be `month` or `quarter`"))
        by = Period.MONTH
    category = (raw.get("category") or "").strip() or None
    if category is not None and category not in {c.value for c in NpsCategory}:
        problems.append(Problem("category", "must be `promoter`, `passive` or `detractor`"))
    text = _text(raw.get("q"), "q", MAX_TEXT, problems)
    page = _page(raw.get("page"), problems)
    if problems:
        raise InvalidInput(problems)
    return NpsFilter(
        start, end, service_id, manager_id, member_id, industry, by, category, text, page
    )


def _text(value: str | None, name: str, limit: int, problems: list[Problem]) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > limit:
        problems.append(Problem(name, f"must be at most {limit} characters"))
        return None
    if holds_nul(text):
        problems.append(Problem(name, NUL_MESSAGE))
        return None
    return text


def _page(value: str | None, problems: list[Problem]) -> int:
    text = (value or "").strip()
    if not text:
        return 1
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        problems.append(Problem("page", f"must be a whole number from 1 to {MAX_PAGE}"))
        return 1
    return int(text)
