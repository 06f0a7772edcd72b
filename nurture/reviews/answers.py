"""Recording a score from a survey link (once, changes logged) and the follow-up answer.

Every function takes the `signer` (MailConfig.signer) that made the links. The survey
row is locked while an answer is recorded, so two racing clicks are taken one after
the other: the same score twice stores one answer, and the unique (survey, number) of
`nps_answers` is the backstop should anything write without the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture import events
from nurture.errors import InvalidInput, NotFound
from nurture.models import Contact, NpsAnswer, NpsSurvey, Project, Service, nps_category
from templates.tokens import TokenForged, TokenSigner

MAX_TEXT = 2000
LOCALES = ("en", "ru")


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
    session: Session, token: str, score: object, *, signer: TokenSigner, now: datetime
) -> Answered:
    """Record a score from a survey link; the caller commits and hands the event over.

    TokenError for a token that is not ours, expired, or names another contact than
    the survey's; NotFound for a survey that is gone; InvalidInput("score").
    """
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidInput.single("score", "must be a whole number from 0 to 10")
    survey = _survey(session, signer, token, now.date(), lock=True)
    number = (
        session.scalar(select(func.max(NpsAnswer.number)).where(NpsAnswer.survey_id == survey.id))
        or 0
    )
    if survey.score == score:
        return Answered(survey, False, number, None)
    previous = survey.score
    number += 1
    category = nps_category(score).value
    session.add(
        NpsAnswer(
            survey_id=survey.id,
            number=number,
            score=score,
            previous_score=previous,
            answered_at=now,
        )
    )
    survey.score = score
    survey.category = category
    survey.answered_at = now
    service = session.get(Service, survey.service_id) if survey.service_id else None
    session.flush()
    stored = events.store_known(
        session,
        [
            events.EventInput(
                "nps.answered",
                now,
                {
                    "survey_id": survey.id,
                    "score": score,
                    "category": category,
                    "service": service.slug if service else None,
                    "project_id": survey.project_id,
                    "previous_score": previous,
                },
                f"nps.answered:{survey.id}:{number}",
                contact_id=survey.contact_id,
            )
        ],
        source="nps",
    )
    return Answered(survey, True, number, stored[0] if stored else None)


def survey_page(session: Session, token: str, *, signer: TokenSigner, today: date) -> SurveyView:
    """What the survey pages show for a token (TokenError, NotFound)."""
    survey = _survey(session, signer, token, today, lock=False)
    contact = session.get(Contact, survey.contact_id)
    project = session.get(Project, survey.project_id) if survey.project_id else None
    company = contact.company if contact is not None else None
    locale = ((contact.locale if contact else None) or "en")[:2].lower()
    return SurveyView(
        survey_id=survey.id,
        locale=locale if locale in LOCALES else "en",
        first_name=contact.first_name if contact else None,
        project_name=project.name if project else None,
        company_name=company.name if company else None,
        score=survey.score,
        category=survey.category,
        follow_up_key=survey.category,
        follow_up=survey.follow_up,
        comment=survey.comment,
    )


def record_follow_up(
    session: Session,
    token: str,
    *,
    signer: TokenSigner,
    follow_up: str | None,
    comment: str | None,
    now: datetime,
) -> NpsSurvey:
    """Store the follow-up answer and comment (InvalidInput names the field).

    Writes `nps.commented` when the text changed; nothing waits on it, so the
    tick's sweep of unprocessed events takes it (callers may still hand it over).
    """
    follow_up = _text(follow_up, "follow_up")
    comment = _text(comment, "comment")
    survey = _survey(session, signer, token, now.date(), lock=True)
    if (survey.follow_up, survey.comment) == (follow_up, comment):
        return survey
    survey.follow_up = follow_up
    survey.comment = comment
    survey.commented_at = now
    session.flush()
    events.store_known(
        session,
        [
            events.EventInput(
                "nps.commented",
                now,
                {"survey_id": survey.id},
                f"nps.commented:{survey.id}:{now.isoformat()}",
                contact_id=survey.contact_id,
            )
        ],
        source="nps",
    )
    return survey


def _survey(
    session: Session, signer: TokenSigner, token: str, today: date, *, lock: bool
) -> NpsSurvey:
    ref = signer.verify_survey(token, today=today)
    stmt = select(NpsSurvey).where(NpsSurvey.id == ref.item_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    survey = session.scalar(stmt)
    if survey is None:
        raise NotFound("survey", ref.item_id)
    if survey.contact_id != ref.contact_id:
        # Signed by us but not for this survey's contact: refuse as if forged.
        raise TokenForged("this link does not belong to this survey")
    return survey


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput.single(name, "must be text without NUL characters")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput.single(name, f"must be at most {MAX_TEXT} characters")
    return value or None
