"""Building projects and surveys for the reviews tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.models import NpsSurvey, Service
from nurture.reviews import projects, surveys
from templates.render import signer_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "test-secret-" + "x" * 40
SIGNER = signer_for(SECRET)
BASE = "https://nurture.test"


def report(db: Session, now: datetime = NOW, **fields: Any) -> projects.ProjectOutcome:
    """Report a project (completed, one client) with these fields changed."""
    raw: dict[str, Any] = {
        "external_id": "PRJ-1",
        "name": "Warehouse integration",
        "status": "completed",
        "clients": [{"email": "emma@client.example", "first_name": "Emma"}],
        "company": "Harbor Freight",
    }
    raw.update(fields)
    return projects.upsert_project(db, projects.check_project(raw), actor="test", now=now)


def service(db: Session, slug: str = "data-platform") -> Service:
    made = Service(slug=slug, name=slug.replace("-", " ").title())
    db.add(made)
    db.flush()
    return made


def sent_survey(db: Session, contact_id: int, now: datetime = NOW) -> NpsSurvey:
    """The contact's survey, made and stamped sent at `now`."""
    survey = surveys.survey_for(db, contact_id, enrolment_id=None, now=now)
    assert survey is not None
    survey.sent_at = now
    db.flush()
    return survey
