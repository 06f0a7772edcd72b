"""NPS reports: the score with its interval and the response rate, overall and by
service, account manager, team member, industry and month or quarter, and the
clients' comments. Each breakdown is one grouped statement over `nps_surveys`.

A survey's answer counts in the period it was given (`answered_at`, its latest score:
a changed answer counts once, as it stands). The response rate is over the surveys
SENT in the period (`sent_at`): how many of those have been answered. A survey counts
for every member of its project's team, so the team table adds up to more than the
total; a survey without a project team is left out of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    SQLColumnExpression,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from nurture.models import Company, Contact, NpsSurvey, Project, ProjectMember, Service, User
from nurture.reports.nps_filter import NpsFilter, Period
from nurture.reports.tables import Cell, Table
from nurture.reviews.nps import Nps, NpsCounts, nps

Ts = TypeVarTuple("Ts")
COMMENTS_PER_PAGE = 25
# A download holds at most this many comments (newest first).
MAX_COMMENTS_CSV = 10_000
DIMENSIONS = ("service", "manager", "member", "industry")


@dataclass(frozen=True, slots=True)
class Group:
    """One row of a breakdown: whose or what surveys, their NPS and response rate."""

    key: str  # the id, industry or period start; "" for "none recorded"
    label: str
    result: Nps
    sent: int  # surveys sent in the period
    responded: int  # ...of which answered

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.sent if self.sent else None


@dataclass(frozen=True, slots=True)
class NpsReport:
    overall: Group
    by: Period
    breakdowns: dict[str, list[Group]]  # dimension (DIMENSIONS) -> groups, most answers first
    trend: list[Group]  # consecutive months or quarters, oldest first; key = first day


def nps_report(session: Session, flt: NpsFilter) -> NpsReport:
    """Everything the NPS page shows above the comments."""
    return NpsReport(
        overall(session, flt),
        flt.by,
        {dimension: _grouped(session, flt, dimension) for dimension in DIMENSIONS},
        trend(session, flt),
    )


def overall(session: Session, flt: NpsFilter) -> Group:
    """The NPS and response rate of every survey the filter keeps."""
    found = _grouped(session, flt, None)
    return found[0] if found else Group("", "All surveys", nps(NpsCounts(0, 0, 0)), 0, 0)


def _answered(flt: NpsFilter) -> ColumnElement[bool]:
    return and_(
        NpsSurvey.score.is_not(None),
        NpsSurvey.answered_at.is_not(None),
        _within(NpsSurvey.answered_at, flt),
    )


def _sent(flt: NpsFilter) -> ColumnElement[bool]:
    return and_(NpsSurvey.sent_at.is_not(None), _within(NpsSurvey.sent_at, flt))


def _within(at: SQLColumnExpression[datetime | None], flt: NpsFilter) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if flt.since is not None:
        conditions.append(at >= flt.since)
    if flt.until is not None:
        conditions.append(at < flt.until)
    return and_(true(), *conditions)


def _company_id() -> ColumnElement[int | None]:
    # The project names the client company; a survey without one falls back to the
    # company of the contact who answered.
    return func.coalesce(Project.company_id, Contact.company_id)


def _scope(flt: NpsFilter) -> list[ColumnElement[bool]]:
    """Conditions on a survey joined to its contact, project and company."""
    conditions: list[ColumnElement[bool]] = []
    if flt.service_id is not None:
        conditions.append(NpsSurvey.service_id == flt.service_id)
    if flt.manager_id is not None:
        conditions.append(NpsSurvey.account_manager_id == flt.manager_id)
    if flt.member_id is not None:
        # An alias: the team breakdown joins project_members itself.
        team = aliased(ProjectMember)
        conditions.append(
            exists().where(team.project_id == NpsSurvey.project_id, team.user_id == flt.member_id)
        )
    if flt.industry is not None:
        conditions.append(Company.industry == flt.industry)
    if flt.company_id is not None:
        conditions.append(_company_id() == flt.company_id)
    return conditions


def _joined(stmt: Select[*Ts]) -> Select[*Ts]:
    return (
        stmt.select_from(NpsSurvey)
        .join(Contact, Contact.id == NpsSurvey.contact_id)
        .outerjoin(Project, Project.id == NpsSurvey.project_id)
        .outerjoin(Company, Company.id == _company_id())
    )


def _tally(answered: ColumnElement[bool], sent: ColumnElement[bool]) -> list[ColumnElement[int]]:
    """promoters, passives, detractors (answered), sent, responded: summed cases."""

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    score = NpsSurvey.score
    return [
        count(and_(answered, score >= 9)),
        count(and_(answered, score >= 7, score <= 8)),
        count(and_(answered, score <= 6)),
        count(sent),
        count(and_(sent, NpsSurvey.answered_at.is_not(None), score.is_not(None))),
    ]


def _user_label() -> ColumnElement[str]:
    return func.coalesce(func.nullif(User.name, ""), User.email)


def _grouped(session: Session, flt: NpsFilter, dimension: str | None) -> list[Group]:
    answered, sent = _answered(flt), _sent(flt)
    key: Any
    label: Any
    if dimension is None:
        key, label = literal(""), literal("All surveys")
    elif dimension == "service":
        key, label = NpsSurvey.service_id, Service.name
    elif dimension in ("manager", "member"):
        key, label = User.id, _user_label()
    else:
        key, label = Company.industry, Company.industry
    stmt = _joined(select(key, label, *_tally(answered, sent)))
    if dimension == "service":
        stmt = stmt.outerjoin(Service, Service.id == NpsSurvey.service_id)
    elif dimension == "manager":
        stmt = stmt.outerjoin(User, User.id == NpsSurvey.account_manager_id)
    elif dimension == "member":
        stmt = stmt.join(ProjectMember, ProjectMember.project_id == NpsSurvey.project_id).join(
            User, User.id == ProjectMember.user_id
        )
    stmt = stmt.where(or_(answered, sent), *_scope(flt))
    if dimension is not None:
        stmt = stmt.group_by(key, label)
    groups = [
        Group(
            "" if k is None else str(k),
            _label(dimension, lab),
            nps(NpsCounts(int(p), int(pa), int(d))),
            int(s),
            int(r),
        )
        for k, lab, p, pa, d, s, r in session.execute(stmt)
    ]
    return sorted(groups, key=lambda g: (-g.result.answers, -g.sent, g.label.lower()))


def _label(dimension: str | None, value: object) -> str:
    if value not in (None, ""):
        return str(value)
    return {
        None: "All surveys",
        "service": "No service",
        "manager": "No account manager",
        "industry": "Industry not recorded",
    }.get(dimension, "Unknown")


def trend(session: Session, flt: NpsFilter) -> list[Group]:
    """NPS per month or quarter of the answers, and the response rate of the surveys
    sent in each; quiet periods between the first and the last are empty groups."""
    postgres = session.get_bind().dialect.name == "postgresql"
    answered_month = _month(NpsSurvey.answered_at, postgres=postgres).label("month")
    sent_month = _month(NpsSurvey.sent_at, postgres=postgres).label("month")
    answered, sent = _answered(flt), _sent(flt)
    score = NpsSurvey.score
    counts: dict[date, NpsCounts] = defaultdict(lambda: NpsCounts(0, 0, 0))
    rows = session.execute(
        _joined(
            select(
                answered_month,
                func.sum(case((score >= 9, 1), else_=0)),
                func.sum(case((and_(score >= 7, score <= 8), 1), else_=0)),
                func.sum(case((score <= 6, 1), else_=0)),
            )
        )
        .where(answered, *_scope(flt))
        .group_by(answered_month)
    )
    for month, p, pa, d in rows:
        start = _start(_as_date(month), flt.by)
        counts[start] = counts[start] + NpsCounts(int(p), int(pa), int(d))
    sending: dict[date, tuple[int, int]] = defaultdict(lambda: (0, 0))
    rows = session.execute(
        _joined(
            select(
                sent_month,
                func.count(),
                func.sum(case((NpsSurvey.answered_at.is_not(None), 1), else_=0)),
            )
        )
        .where(sent, *_scope(flt))
        .group_by(sent_month)
    )
    for month, s, r in rows:
        start = _start(_as_date(month), flt.by)
        before = sending[start]
        sending[start] = (before[0] + int(s), before[1] + int(r or 0))
    starts = _consecutive(sorted({*counts, *sending}), flt.by)
    return [
        Group(
            start.isoformat(),
            period_label(start, flt.by),
            nps(counts.get(start, NpsCounts(0, 0, 0))),
            *sending.get(start, (0, 0)),
        )
        for start in starts
    ]


def period_label(start: date, by: Period) -> str:
    if by is Period.QUARTER:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return start.strftime("%Y-%m")


def _month(at: SQLColumnExpression[datetime | None], *, postgres: bool) -> ColumnElement[date]:
    if postgres:
        # timezone('UTC', ...) drops the zone after moving to UTC, so the session's
        # time zone cannot move an answer into the neighbouring month.
        return type_coerce(func.date_trunc("month", func.timezone("UTC", at)).cast(Date), Date)
    return type_coerce(func.date(at, "start of month"), Date)


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _start(month: date, by: Period) -> date:
    if by is Period.QUARTER:
        return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    return month


def _consecutive(starts: list[date], by: Period) -> list[date]:
    if not starts:
        return []
    step = 3 if by is Period.QUARTER else 1
    out = [starts[0]]
    while out[-1] < starts[-1]:
        last = out[-1]
        index = last.month - 1 + step
        out.append(date(last.year + index // 12, index % 12 + 1, 1))
    return out


@dataclass(frozen=True, slots=True)
class Comment:
    """What a client wrote after answering, with who, about what and their score."""

    survey_id: int
    contact_id: int
    contact: str
    company: str | None
    project: str | None
    service: str | None
    manager: str | None
    score: int | None
    category: str | None
    follow_up: str | None
    comment: str | None
    at: datetime | None


@dataclass(frozen=True, slots=True)
class CommentPage:
    items: list[Comment]
    total: int
    page: int
    pages: int


def comments(session: Session, flt: NpsFilter, *, per_page: int = COMMENTS_PER_PAGE) -> CommentPage:
    """The filter's page of comments, newest first, and how many match in all."""
    conditions = _comment_conditions(flt)
    total = int(session.scalar(_joined(select(func.count(NpsSurvey.id))).where(*conditions)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(flt.page, pages)
    items = _comment_rows(session, conditions, offset=(page - 1) * per_page, limit=per_page)
    return CommentPage(items, total, page, pages)


def all_comments(session: Session, flt: NpsFilter) -> list[Comment]:
    """Every comment the filter keeps (at most MAX_COMMENTS_CSV), newest first."""
    return _comment_rows(session, _comment_conditions(flt), offset=0, limit=MAX_COMMENTS_CSV)


def _comment_at() -> ColumnElement[datetime | None]:
    return func.coalesce(NpsSurvey.commented_at, NpsSurvey.answered_at)


def _comment_conditions(flt: NpsFilter) -> list[ColumnElement[bool]]:
    written = or_(
        func.coalesce(NpsSurvey.follow_up, "") != "", func.coalesce(NpsSurvey.comment, "") != ""
    )
    # An erased contact's words are personal data: they leave the list with them.
    conditions = [written, Contact.erased_at.is_(None), _within(_comment_at(), flt), *_scope(flt)]
    if flt.category is not None:
        score = NpsSurvey.score
        conditions.append(
            {
                "promoter": score >= 9,
                "passive": and_(score >= 7, score <= 8),
                "detractor": score <= 6,
            }[flt.category]
        )
    if flt.text is not None:
        needle = flt.text.lower()
        conditions.append(
            or_(
                func.lower(func.coalesce(NpsSurvey.follow_up, "")).contains(
                    needle, autoescape=True
                ),
                func.lower(func.coalesce(NpsSurvey.comment, "")).contains(needle, autoescape=True),
            )
        )
    return conditions


def _comment_rows(
    session: Session, conditions: Sequence[ColumnElement[bool]], *, offset: int, limit: int
) -> list[Comment]:
    manager = User.__table__.alias("manager")
    at = _comment_at()
    stmt = (
        _joined(
            select(
                NpsSurvey.id,
                Contact.id,
                Contact.first_name,
                Contact.last_name,
                Contact.email,
                Company.name,
                Project.name,
                Service.name,
                func.coalesce(func.nullif(manager.c.name, ""), manager.c.email),
                NpsSurvey.score,
                NpsSurvey.follow_up,
                NpsSurvey.comment,
                at,
            )
        )
        .outerjoin(Service, Service.id == NpsSurvey.service_id)
        .outerjoin(manager, manager.c.id == NpsSurvey.account_manager_id)
        .where(*conditions)
        .order_by(at.desc(), NpsSurvey.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [
        Comment(
            survey_id=int(sid),
            contact_id=int(cid),
            contact=" ".join(p for p in (first, last) if p) or email or f"Contact {cid}",
            company=company,
            project=project,
            service=service,
            manager=manager_name,
            score=score,
            category=None if score is None else _category(int(score)),
            follow_up=follow_up,
            comment=comment,
            at=when,
        )
        for (
            sid,
            cid,
            first,
            last,
            email,
            company,
            project,
            service,
            manager_name,
            score,
            follow_up,
            comment,
            when,
        ) in session.execute(stmt)
    ]


def _category(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


@dataclass(frozen=True, slots=True)
class PastAnswer:
    """One of a contact's answered surveys, for their page and hand-offs."""

    survey_id: int
    project_id: int | None
    project: str | None
    service: str | None
    score: int
    category: str
    answered_at: datetime
    follow_up: str | None
    comment: str | None


def contact_answers(session: Session, contact_id: int) -> list[PastAnswer]:
    """The contact's answered surveys, newest first."""
    rows = session.execute(
        select(
            NpsSurvey.id,
            Project.id,
            Project.name,
            Service.name,
            NpsSurvey.score,
            NpsSurvey.answered_at,
            NpsSurvey.follow_up,
            NpsSurvey.comment,
        )
        .select_from(NpsSurvey)
        .outerjoin(Project, Project.id == NpsSurvey.project_id)
        .outerjoin(Service, Service.id == NpsSurvey.service_id)
        .where(
            NpsSurvey.contact_id == contact_id,
            NpsSurvey.score.is_not(None),
            NpsSurvey.answered_at.is_not(None),
        )
        .order_by(NpsSurvey.answered_at.desc(), NpsSurvey.id.desc())
    )
    return [
        PastAnswer(sid, pid, pname, sname, score, _category(score), at, fu, co)
        for sid, pid, pname, sname, score, at, fu, co in rows
        if score is not None and at is not None
    ]


def company_nps(session: Session, company_id: int) -> Group:
    """The NPS and response rate of every survey about the company's projects (or
    answered by its people when a project names no company)."""
    return overall(session, NpsFilter(company_id=company_id))


# The CSV downloads: shares as fractions and NPS in points, so a spreadsheet computes
# with them; an empty cell means "no figure".
GROUP_HEADER = (
    "breakdown",
    "group",
    "answers",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "ci95_low",
    "ci95_high",
    "interval_method",
    "sent",
    "answered_of_sent",
    "response_rate",
    "small_sample",
)


def groups_table(report: NpsReport) -> Table:
    rows: list[tuple[Cell, ...]] = [_group_row("overall", report.overall)]
    for dimension in DIMENSIONS:
        rows.extend(_group_row(dimension, g) for g in report.breakdowns[dimension])
    rows.extend(_group_row(report.by.value, g) for g in report.trend)
    return Table(GROUP_HEADER, rows)


def _group_row(breakdown: str, group: Group) -> tuple[Cell, ...]:
    result = group.result
    return (
        breakdown,
        group.label,
        result.answers,
        result.counts.promoters,
        result.counts.passives,
        result.counts.detractors,
        _points(result.score),
        _points(result.low),
        _points(result.high),
        result.method or None,
        group.sent,
        group.responded,
        None if group.response_rate is None else round(group.response_rate, 4),
        "yes" if result.small and result.answers else "no",
    )


def comments_table(rows: Iterable[Comment]) -> Table:
    return Table(
        (
            "survey_id",
            "contact_id",
            "contact",
            "company",
            "project",
            "service",
            "account_manager",
            "score",
            "category",
            "follow_up",
            "comment",
            "at",
        ),
        [
            (
                c.survey_id,
                c.contact_id,
                c.contact,
                c.company,
                c.project,
                c.service,
                c.manager,
                c.score,
                c.category,
                c.follow_up,
                c.comment,
                c.at.isoformat() if c.at else None,
            )
            for c in rows
        ],
    )


def _points(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True, slots=True)
class NpsChoices:
    """What the filter form offers: services, people and industries (id or value, label)."""

    services: list[tuple[int, str]]
    managers: list[tuple[int, str]]
    members: list[tuple[int, str]]
    industries: list[str]


def nps_choices(session: Session) -> NpsChoices:
    """Services, the people named on projects, and client industries, by name."""
    services = session.execute(select(Service.id, Service.name).order_by(Service.name))
    label = _user_label()
    managers = session.execute(
        select(User.id, label)
        .where(exists().where(Project.account_manager_id == User.id))
        .order_by(label)
    )
    members = session.execute(
        select(User.id, label)
        .where(exists().where(ProjectMember.user_id == User.id))
        .order_by(label)
    )
    industries = session.scalars(
        select(Company.industry)
        .where(Company.industry.is_not(None), Company.industry != "")
        .group_by(Company.industry)
        .order_by(Company.industry)
        .limit(200)
    )
    return NpsChoices(
        [(int(i), str(n)) for i, n in services],
        [(int(i), str(n)) for i, n in managers],
        [(int(i), str(n)) for i, n in members],
        [str(v) for v in industries],
    )
