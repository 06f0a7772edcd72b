"""Recording a score from a survey link (once, changes logged) and the follow-up answer.

Every function takes the `signer` (MailConfig.signer) that made the links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from nurture.models import NpsSurvey
from templates.tokens import TokenSigner

MAX_TEXT = 2000


@dataclass(slots=True)
class Answered:
    survey: NpsSurvey
    # False when the same score was given again (nothing stored).
    changed: bool
    # The nps_answers number of the survey's current answer.
    number: int
    # The `nps.answered` event stored by this call (hand it over after commit).
    event_id: int | None


@dataclass(frozen=True, slots=True)
class SurveyView:
    """What the public survey pages show."""

    survey_id: int
    locale: str  # "en" or "ru"
    first_name: str | None
    project_name: str | None
    company_name: str | None
    score: int | None
    category: str | None
    # Which follow-up question to ask: "promoter" | "passive" | "detractor" | None.
    follow_up_key: str | None
    follow_up: str | None
    comment: str | None


def record_score(
    session: Session, token: str, score: int, *, signer: TokenSigner, now: datetime
) -> Answered:
    """Record a score from a survey link; TokenError / NotFound / InvalidInput("score")."""
    raise NotImplementedError


def survey_page(session: Session, token: str, *, signer: TokenSigner, today: date) -> SurveyView:
    """What the survey pages show for a token (TokenError, NotFound)."""
    raise NotImplementedError


def record_follow_up(
    session: Session,
    token: str,
    *,
    signer: TokenSigner,
    follow_up: str | None,
    comment: str | None,
    now: datetime,
) -> NpsSurvey:
    """Store the follow-up answer and comment (InvalidInput names the field)."""
    raise NotImplementedError
