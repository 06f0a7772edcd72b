"""Builders for the testimonial and referral tests: a finished project, a promoter's survey."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from nurture.contacts.store import upsert_company
from nurture.models import Contact, NpsSurvey, Project, nps_category
from templates.tokens import TokenSigner
from tests.factories import make_contact

SIGNER = TokenSigner("advocacy-tests-secret-0123456789")


def client_contact(db: Session, **fields: object) -> Contact:
    """A client at Harbor Freight Logistics (industry logistics)."""
    company = upsert_company(db, {"name": "Harbor Freight Logistics", "industry": "logistics"})
    data: dict[str, object] = {
        "first_name": "Emma",
        "last_name": "Lawson",
        "title": "Head of Operations",
    }
    data.update(fields)
    contact = make_contact(db, **data)
    contact.company_id = company.id
    db.commit()
    return contact


def answered_survey(
    db: Session,
    contact: Contact,
    *,
    score: int = 10,
    now: datetime,
    follow_up: str | None = "The team found the bottleneck in a week.",
    comment: str | None = "Would hire again.",
) -> NpsSurvey:
    project = Project(external_id=f"p-{contact.id}-{score}", name="Warehouse integration")
    db.add(project)
    db.flush()
    survey = NpsSurvey(
        project_id=project.id,
        contact_id=contact.id,
        expires_at=now + timedelta(days=60),
        sent_at=now - timedelta(days=1),
        score=score,
        category=nps_category(score).value,
        answered_at=now,
        follow_up=follow_up,
        comment=comment,
    )
    db.add(survey)
    db.commit()
    return survey
