"""The review e-mail steps and the account-manager assignee, registered with the sequence engine.

The engine (campaigns) may not import reviews, so reviews plugs its pieces into the
engine's registries at worker start: what each `review_email` ask sends, and who an
`"assign_to": "account_manager"` task goes to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from campaigns.sequences import content_steps, tasks
from nurture.models import (
    Contact,
    EmailMessage,
    Enrolment,
    NpsSurvey,
    Project,
    ProjectContact,
    ProjectStatus,
    ReferralCode,
    Testimonial,
)
from nurture.reviews import referrals, surveys, testimonials


def register() -> None:
    """Register the four `review_email:<ask>` kinds and the `account_manager` assignee."""
    content_steps.register(
        "review_email:nps",
        content_steps.ContentKind(
            "review_email",
            "survey_id",
            "nps.sent",
            _choose_survey,
            _nps_context,
            _survey_sent,
            gives=frozenset({"project", "nps_links"}),
            label="a review e-mail step asking for an NPS score",
        ),
    )
    content_steps.register(
        "review_email:feedback",
        content_steps.ContentKind(
            "review_email",
            "survey_id",
            "nps.feedback_sent",
            _choose_answered,
            _feedback_context,
            gives=frozenset({"project", "feedback_url"}),
            label="a review e-mail step asking for feedback",
        ),
    )
    content_steps.register(
        "review_email:testimonial",
        content_steps.ContentKind(
            "review_email",
            "testimonial_id",
            "testimonial.requested",
            _choose_testimonial,
            _testimonial_context,
            gives=frozenset({"project", "testimonial_url"}),
            label="a review e-mail step asking for a testimonial",
        ),
    )
    content_steps.register(
        "review_email:referral",
        content_steps.ContentKind(
            "review_email",
            "code_id",
            "referral.invited",
            _choose_code,
            _referral_context,
            _invited,
            gives=frozenset({"project", "referral_url"}),
            label="a review e-mail step asking for a referral",
        ),
    )
    tasks.register_assignee("account_manager", account_manager)


def account_manager(session: Session, contact: Contact, enrolment: Enrolment) -> int | None:
    """The account manager of the survey this enrolment is about, else of the contact's
    latest completed project (None: the owner rule decides)."""
    survey = enrolment_survey(session, contact.id, enrolment.id)
    if survey is not None and survey.account_manager_id is not None:
        return survey.account_manager_id
    return session.scalar(
        select(Project.account_manager_id)
        .join(ProjectContact, ProjectContact.project_id == Project.id)
        .where(
            ProjectContact.contact_id == contact.id,
            Project.status == ProjectStatus.COMPLETED.value,
            Project.account_manager_id.is_not(None),
        )
        .order_by(Project.completed_at.desc())
        .limit(1)
    )


def enrolment_survey(session: Session, contact_id: int, enrolment_id: int) -> NpsSurvey | None:
    """The survey made in this enrolment, else the contact's latest answered one."""
    found = session.scalar(
        select(NpsSurvey)
        .where(NpsSurvey.contact_id == contact_id, NpsSurvey.enrolment_id == enrolment_id)
        .order_by(NpsSurvey.id.desc())
        .limit(1)
    )
    if found is not None:
        return found
    return session.scalar(
        select(NpsSurvey)
        .where(NpsSurvey.contact_id == contact_id, NpsSurvey.answered_at.is_not(None))
        .order_by(NpsSurvey.answered_at.desc())
        .limit(1)
    )


def _choose_survey(
    session: Session,
    contact: Contact,
    spec: Mapping[str, Any],
    now: datetime,
    enrolment: Enrolment,
) -> int | None:
    survey = surveys.survey_for(session, contact.id, enrolment_id=enrolment.id, now=now)
    return None if survey is None else survey.id


def _nps_context(
    session: Session, survey_id: int, contact: Contact, config: MailConfig
) -> dict[str, Any] | None:
    survey = session.get(NpsSurvey, survey_id)
    if survey is None:
        return None
    return {
        "project": surveys.project_view(session, survey),
        "nps_links": surveys.score_links(config.signer, config.base_url, survey),
    }


def _survey_sent(session: Session, survey_id: int, message: EmailMessage, now: datetime) -> None:
    survey = session.get(NpsSurvey, survey_id)
    if survey is None:
        return
    if survey.sent_at is None:
        survey.sent_at = now
    else:
        survey.reminded_at = now


def _choose_answered(
    session: Session,
    contact: Contact,
    spec: Mapping[str, Any],
    now: datetime,
    enrolment: Enrolment,
) -> int | None:
    survey = enrolment_survey(session, contact.id, enrolment.id)
    if survey is None or survey.answered_at is None:
        return None
    return survey.id


def _feedback_context(
    session: Session, survey_id: int, contact: Contact, config: MailConfig
) -> dict[str, Any] | None:
    survey = session.get(NpsSurvey, survey_id)
    if survey is None:
        return None
    return {
        "project": surveys.project_view(session, survey),
        "feedback_url": surveys.follow_up_url(config.signer, config.base_url, survey),
    }


def _choose_testimonial(
    session: Session,
    contact: Contact,
    spec: Mapping[str, Any],
    now: datetime,
    enrolment: Enrolment,
) -> int | None:
    testimonial = testimonials.testimonial_for(session, contact.id, now=now)
    return None if testimonial is None else testimonial.id


def _testimonial_context(
    session: Session, testimonial_id: int, contact: Contact, config: MailConfig
) -> dict[str, Any] | None:
    testimonial = session.get(Testimonial, testimonial_id)
    if testimonial is None:
        return None
    survey = session.get(NpsSurvey, testimonial.survey_id) if testimonial.survey_id else None
    return {
        "project": _project(session, survey),
        "testimonial_url": testimonials.form_url(config.signer, config.base_url, testimonial),
    }


def _choose_code(
    session: Session,
    contact: Contact,
    spec: Mapping[str, Any],
    now: datetime,
    enrolment: Enrolment,
) -> int | None:
    survey = enrolment_survey(session, contact.id, enrolment.id)
    code = referrals.code_for(
        session, contact.id, survey_id=survey.id if survey is not None else None, now=now
    )
    return code.id


def _referral_context(
    session: Session, code_id: int, contact: Contact, config: MailConfig
) -> dict[str, Any] | None:
    code = session.get(ReferralCode, code_id)
    if code is None:
        return None
    survey = session.get(NpsSurvey, code.survey_id) if code.survey_id else None
    return {
        "project": _project(session, survey),
        "referral_url": referrals.referral_url(config.base_url, code),
    }


def _invited(session: Session, code_id: int, message: EmailMessage, now: datetime) -> None:
    referrals.mark_invited(session, code_id, now=now)


def _project(session: Session, survey: NpsSurvey | None) -> dict[str, Any]:
    if survey is None:
        return {"name": "", "service": None, "company": None}
    return surveys.project_view(session, survey)
