"""Surveys, testimonials and referral codes for the answer-page tests, made through the
reviews domain the way the survey sequence makes them."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import (
    Contact,
    Event,
    NpsAnswer,
    NpsSurvey,
    Project,
    ProjectContact,
    ProjectStatus,
    ReferralCode,
    Testimonial,
    utcnow,
)
from nurture.reviews import referrals, surveys, testimonials
from templates.tokens import TokenSigner
from tests.factories import make_contact

HUMAN_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
HEADLESS_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/126.0.0.0 Safari/537.36"
)
_numbers = itertools.count(1)


def make_survey(
    db: Session,
    *,
    locale: str = "en",
    first_name: str = "Emma",
    sent_at: datetime | None = None,
    contact: Contact | None = None,
) -> NpsSurvey:
    """A completed project's survey for a client contact, sent an hour ago by default."""
    now = utcnow()
    contact = contact or make_contact(
        db,
        first_name=first_name,
        last_name="Lawson",
        locale=locale,
        title="Head of Operations",
        company={"name": "Harbor Freight Logistics"},
    )
    project = Project(
        external_id=f"project-{next(_numbers)}",
        name="Warehouse audit",
        status=ProjectStatus.COMPLETED.value,
        completed_at=now - timedelta(days=3),
    )
    db.add(project)
    db.flush()
    db.add(ProjectContact(project_id=project.id, contact_id=contact.id))
    db.flush()
    survey = surveys.survey_for(db, contact.id, enrolment_id=None, now=now)
    assert survey is not None
    survey.sent_at = sent_at or now - timedelta(hours=1)
    db.commit()
    return survey


def survey_path(signer: TokenSigner, survey: NpsSurvey, score: int | None = None) -> str:
    """The path of a survey's answer link (score given) or of its follow-up page."""
    if score is None:
        return surveys.follow_up_url(signer, "", survey)
    return surveys.score_links(signer, "", survey)[score]


def answer_counts(db: Session) -> tuple[int, int]:
    """(nps_answers rows, nps.answered events): what a recorded score leaves behind."""
    db.expire_all()
    answers = db.scalar(select(func.count()).select_from(NpsAnswer)) or 0
    events = db.scalar(select(func.count()).where(Event.type == "nps.answered")) or 0
    db.rollback()
    return answers, events


def make_testimonial(db: Session, *, locale: str = "en") -> Testimonial:
    """A promoter's requested testimonial, drafted from their survey words."""
    survey = make_survey(db, locale=locale)
    survey.score, survey.category, survey.answered_at = 10, "promoter", utcnow()
    survey.follow_up = "The audit found savings we had missed for years."
    db.flush()
    found = testimonials.testimonial_for(db, survey.contact_id, now=utcnow())
    assert found is not None
    db.commit()
    return found


def form_path(signer: TokenSigner, testimonial: Testimonial) -> str:
    return testimonials.form_url(signer, "", testimonial)


def make_code(db: Session, *, locale: str = "en", first_name: str = "Emma") -> ReferralCode:
    """An advocate (a promoter client) and their referral code."""
    advocate = make_contact(
        db,
        first_name=first_name,
        email=f"advocate{next(_numbers)}@harbor.example",
        locale=locale,
        company={"name": "Harbor Freight Logistics"},
    )
    code = referrals.code_for(db, advocate.id, now=utcnow())
    db.commit()
    return code
