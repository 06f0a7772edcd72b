"""Reading projects: the listing (newest first, by cursor) and one project with its clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from nurture.contacts.store import Page
from nurture.errors import InvalidInput, NotFound
from nurture.models import (
    Company,
    Contact,
    NpsSurvey,
    Project,
    ProjectContact,
    ProjectMember,
    ProjectStatus,
    Service,
    User,
)
from nurture.validation import MAX_ID, decode_cursor, encode_cursor

MAX_PAGE = 200
STATUSES = tuple(s.value for s in ProjectStatus)


@dataclass(frozen=True, slots=True)
class ProjectRow:
    id: int
    external_id: str
    name: str
    status: str
    company: str | None
    company_id: int | None
    service: str | None  # the service's slug
    service_name: str | None
    account_manager: str | None  # the user's e-mail
    account_manager_name: str | None
    started_on: date | None
    ends_on: date | None
    completed_at: datetime | None
    created_at: datetime
    clients: int
    surveys_sent: int
    surveys_answered: int


@dataclass(frozen=True, slots=True)
class ClientRow:
    contact_id: int
    email: str | None
    name: str
    survey_id: int | None
    sent_at: datetime | None
    answered_at: datetime | None
    score: int | None
    category: str | None


@dataclass(frozen=True, slots=True)
class ProjectDetail:
    project: ProjectRow
    clients: list[ClientRow]
    team: list[str]  # e-mail addresses


def list_projects(
    session: Session, *, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page[ProjectRow]:
    """Projects, newest first; InvalidInput names `status`, `cursor` or `limit`."""
    if status is not None and status not in STATUSES:
        raise InvalidInput.single("status", f"must be one of {', '.join(STATUSES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput.single("limit", f"must be 1 to {MAX_PAGE}")
    stmt = _rows()
    if status is not None:
        stmt = stmt.where(Project.status == status)
    if cursor is not None:
        before = decode_cursor(cursor, "before")
        if not isinstance(before, int) or isinstance(before, bool) or not 0 < before <= MAX_ID:
            raise InvalidInput.single("cursor", "is not a cursor this listing gave out")
        stmt = stmt.where(Project.id < before)
    rows = [_row(r) for r in session.execute(stmt.order_by(Project.id.desc()).limit(limit + 1))]
    next_cursor = encode_cursor({"before": rows[limit - 1].id}) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def project_detail(session: Session, project_id: int) -> ProjectDetail:
    """One project, its client contacts with their survey, and its team (NotFound)."""
    found = session.execute(_rows().where(Project.id == project_id)).one_or_none()
    if found is None:
        raise NotFound("project", project_id)
    clients = [
        ClientRow(
            contact.id,
            contact.email,
            " ".join(p for p in (contact.first_name, contact.last_name) if p),
            survey.id if survey else None,
            survey.sent_at if survey else None,
            survey.answered_at if survey else None,
            survey.score if survey else None,
            survey.category if survey else None,
        )
        for contact, survey in session.execute(
            select(Contact, NpsSurvey)
            .join(ProjectContact, ProjectContact.contact_id == Contact.id)
            .outerjoin(
                NpsSurvey,
                (NpsSurvey.contact_id == Contact.id) & (NpsSurvey.project_id == project_id),
            )
            .where(ProjectContact.project_id == project_id)
            .order_by(Contact.id)
        )
    ]
    team = list(
        session.scalars(
            select(User.email)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == project_id)
            .order_by(User.email)
        )
    )
    return ProjectDetail(_row(found), clients, team)


def _rows() -> Select[Any]:
    clients = (
        select(func.count())
        .where(ProjectContact.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )
    sent = (
        select(func.count())
        .where(NpsSurvey.project_id == Project.id, NpsSurvey.sent_at.is_not(None))
        .correlate(Project)
        .scalar_subquery()
    )
    answered = (
        select(func.count())
        .where(NpsSurvey.project_id == Project.id, NpsSurvey.answered_at.is_not(None))
        .correlate(Project)
        .scalar_subquery()
    )
    return (
        select(
            Project,
            Company.name,
            Service.slug,
            Service.name,
            User.email,
            User.name,
            clients,
            sent,
            answered,
        )
        .outerjoin(Company, Company.id == Project.company_id)
        .outerjoin(Service, Service.id == Project.service_id)
        .outerjoin(User, User.id == Project.account_manager_id)
    )


def _row(found: Any) -> ProjectRow:
    project: Project = found[0]
    company, slug, service, email, manager, clients, sent, answered = found[1:]
    return ProjectRow(
        id=project.id,
        external_id=project.external_id,
        name=project.name,
        status=project.status,
        company=company,
        company_id=project.company_id,
        service=slug,
        service_name=service,
        account_manager=email,
        account_manager_name=manager or email,
        started_on=project.started_on,
        ends_on=project.ends_on,
        completed_at=project.completed_at,
        created_at=project.created_at,
        clients=int(clients or 0),
        surveys_sent=int(sent or 0),
        surveys_answered=int(answered or 0),
    )
