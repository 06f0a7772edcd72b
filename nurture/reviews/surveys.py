"""A client's NPS survey for a finished project: made once, its signed links, the 90-day rule.

A survey is made when its e-mail is about to go (the sequence step chooses it), for the
contact's latest completed project. The 90-day rule lives here, not in the sequence,
so it holds whatever triggers a survey: a contact who was SENT another survey in the
last 90 days gets none.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from nurture.models import (
    Company,
    NpsSurvey,
    Project,
    ProjectContact,
    ProjectStatus,
    Service,
    User,
)
from templates.tokens import TokenSigner

# A survey's links work this many days after it is made.
SURVEY_VALID_DAYS = 60
# At most one survey SENT to a contact in this many days, whatever triggers it.
QUIET_DAYS = 90
SCORES = range(11)


def survey_for(
    session: Session, contact_id: int, *, enrolment_id: int | None, now: datetime
) -> NpsSurvey | None:
    """The survey of the contact's latest completed project (made if needed), or None.

    None when there is no completed project, when another survey was sent to the
    contact in the last QUIET_DAYS, or when this one is answered or expired (a
    reminder then sends nothing).
    """
    project = session.scalar(
        select(Project)
        .join(ProjectContact, ProjectContact.project_id == Project.id)
        .where(
            ProjectContact.contact_id == contact_id,
            Project.status == ProjectStatus.COMPLETED.value,
            Project.completed_at.is_not(None),
        )
        .order_by(Project.completed_at.desc(), Project.id.desc())
        .limit(1)
    )
    if project is None:
        return None
    existing = _survey(session, project.id, contact_id)
    recent = session.scalar(
        select(NpsSurvey.id)
        .where(
            NpsSurvey.contact_id == contact_id,
            or_(NpsSurvey.project_id.is_(None), NpsSurvey.project_id != project.id),
            NpsSurvey.sent_at > now - timedelta(days=QUIET_DAYS),
        )
        .limit(1)
    )
    if recent is not None:
        return None
    survey = existing or _make(session, project, contact_id, enrolment_id, now)
    if survey.sent_at is None and survey.expires_at <= now:
        # Made but never sent (held back earlier): its links start their time now.
        survey.expires_at = now + timedelta(days=SURVEY_VALID_DAYS)
    if survey.answered_at is not None or survey.expires_at <= now:
        return None
    return survey


def token(signer: TokenSigner, survey: NpsSurvey) -> str:
    """The survey's signed token; it names the survey and its contact and ends with it."""
    return signer.survey(survey.id, survey.contact_id, survey.expires_at.date())


def score_links(signer: TokenSigner, base_url: str, survey: NpsSurvey) -> list[str]:
    """The eleven answer links `<base>/nps/<token>/<0..10>`."""
    prefix = f"{base_url.rstrip('/')}/nps/{token(signer, survey)}"
    return [f"{prefix}/{score}" for score in SCORES]


def follow_up_url(signer: TokenSigner, base_url: str, survey: NpsSurvey) -> str:
    """The follow-up page of a survey: `<base>/nps/<token>/follow-up`."""
    return f"{base_url.rstrip('/')}/nps/{token(signer, survey)}/follow-up"


def project_view(session: Session, survey: NpsSurvey) -> dict[str, Any]:
    """What templates see as `project`: name, service, company, completed_on, account_manager."""
    project = session.get(Project, survey.project_id) if survey.project_id else None
    service = session.get(Service, survey.service_id) if survey.service_id else None
    manager = session.get(User, survey.account_manager_id) if survey.account_manager_id else None
    company = session.get(Company, project.company_id) if project and project.company_id else None
    completed = project.completed_at if project else None
    return {
        "name": project.name if project else "",
        "service": service.name if service else None,
        "company": company.name if company else None,
        "completed_on": completed.date().isoformat() if completed else None,
        "account_manager": (manager.name or manager.email) if manager else None,
    }


def _make(
    session: Session, project: Project, contact_id: int, enrolment_id: int | None, now: datetime
) -> NpsSurvey:
    values = {
        "project_id": project.id,
        "contact_id": contact_id,
        "service_id": project.service_id,
        "account_manager_id": project.account_manager_id,
        "enrolment_id": enrolment_id,
        "created_at": now,
        "expires_at": now + timedelta(days=SURVEY_VALID_DAYS),
    }
    # Two enrolments racing for the same project and contact make one survey.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(NpsSurvey).values(**values).on_conflict_do_nothing())
    made = _survey(session, project.id, contact_id)
    if made is None:  # pragma: no cover - the row exists after the insert
        raise LookupError("survey vanished")
    return made


def _survey(session: Session, project_id: int, contact_id: int) -> NpsSurvey | None:
    return session.scalar(
        select(NpsSurvey).where(
            NpsSurvey.project_id == project_id, NpsSurvey.contact_id == contact_id
        )
    )
