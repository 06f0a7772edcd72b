"""A client's NPS survey for a finished project: made once, its signed links, the 90-day rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.models import NpsSurvey
from templates.tokens import TokenSigner

# A survey's links work this many days after it is made.
SURVEY_VALID_DAYS = 60
# At most one survey SENT to a contact in this many days, whatever triggers it.
QUIET_DAYS = 90


def survey_for(
    session: Session, contact_id: int, *, enrolment_id: int | None, now: datetime
) -> NpsSurvey | None:
    """The survey of the contact's latest completed project (made if needed), or None."""
    raise NotImplementedError


def score_links(signer: TokenSigner, base_url: str, survey: NpsSurvey) -> list[str]:
    """The eleven answer links `<base>/nps/<token>/<0..10>`."""
    raise NotImplementedError


def follow_up_url(signer: TokenSigner, base_url: str, survey: NpsSurvey) -> str:
    """The follow-up page of a survey: `<base>/nps/<token>/follow-up`."""
    raise NotImplementedError


def project_view(session: Session, survey: NpsSurvey) -> dict[str, Any]:
    """What templates see as `project`: name, service, company, completed_on, account_manager."""
    raise NotImplementedError
