"""Recording scores from survey links (once, changes logged) and the follow-up answer.

Every function that reads a token takes the `signer` (MailConfig.signer) that made the
links. `record_scores` writes a batch of scores, as the answer page's recorder collects
them: it locks the batch's survey rows (in id order, so two writers never deadlock),
so racing writers are taken one after the other; the same score as the current one
stores nothing, each change adds one `nps_answers` row (number + 1) and one
`nps.answered` event, and the unique (survey, number) of `nps_answers` is the backstop
should anything write without the lock. `record_score` is the same for one answer
given with its token.

A score given before the survey's current answer (`answered_at`) is stale and stores
nothing. That makes a batch written twice (a retry after a commit whose answer was
lost) store nothing the second time: its changes are all at or before the stored
time, and what came after the last change repeats the current score. It also keeps
a late batch from another web process from overwriting a newer answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, insert, select, update
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


@dataclass(frozen=True, slots=True)
class ScoreItem:
    """One score as the answer page took it: the token's survey and contact, and when."""

    survey_id: int
    contact_id: int
    score: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Scored:
    """What `record_scores` did with one item."""

    item: ScoreItem
    # False when nothing was stored: the same score again, a stale score, or a
    # survey that is gone or is not the item's contact's.
    changed: bool
    # The survey's current answer number after this item (None: survey gone/foreign).
    number: int | None
    # The `nps.answered` event stored for this item (hand it over after commit).
    event_id: int | None


def record_scores(session: Session, items: Sequence[ScoreItem]) -> list[Scored]:
    """Record a batch of checked scores in their order; one outcome per item.

    The items' tokens were verified when they were taken, so the survey and contact
    are trusted; an item whose survey is gone or belongs to another contact stores
    nothing. The caller commits and hands the stored events over.
    """
    for item in items:
        if not 0 <= item.score <= 10:
            raise InvalidInput.single("score", "must be a whole number from 0 to 10")
    ids = sorted({item.survey_id for item in items})
    if not ids:
        return []
    rows = session.execute(
        select(
            NpsSurvey.id,
            NpsSurvey.contact_id,
            NpsSurvey.score,
            NpsSurvey.answered_at,
            NpsSurvey.service_id,
            NpsSurvey.project_id,
        )
        .where(NpsSurvey.id.in_(ids))
        .order_by(NpsSurvey.id)
        .with_for_update()
    ).all()
    found = {row.id: row for row in rows}
    current = {row.id: row.score for row in rows}
    kept = [
        n
        for n, i in enumerate(items)
        if i.survey_id in found and found[i.survey_id].contact_id == i.contact_id
    ]
    # Each survey's scores in the order they were given (a stable sort keeps ties in order).
    kept.sort(key=lambda n: (items[n].survey_id, items[n].at))
    numbers: dict[int, int] = {}
    if kept:
        numbers = dict(
            session.execute(
                select(NpsAnswer.survey_id, func.max(NpsAnswer.number))
                .where(NpsAnswer.survey_id.in_({items[n].survey_id for n in kept}))
                .group_by(NpsAnswer.survey_id)
            ).all()
        )
    services = _service_slugs(session, {r.service_id for r in rows if r.service_id is not None})
    outcome: list[Scored] = [Scored(item, False, None, None) for item in items]
    answer_rows: list[dict[str, object]] = []
    changes: dict[int, tuple[int, str, datetime]] = {}
    inputs: list[events.EventInput] = []
    changed: list[tuple[int, int]] = []  # (item index, its answer number)
    for n in kept:
        item = items[n]
        row = found[item.survey_id]
        number = numbers.get(item.survey_id, 0)
        previous = current[item.survey_id]
        stale = row.answered_at is not None and item.at < row.answered_at
        if stale or previous == item.score:
            outcome[n] = Scored(item, False, number, None)
            continue
        number += 1
        numbers[item.survey_id] = number
        current[item.survey_id] = item.score
        category = nps_category(item.score).value
        changes[item.survey_id] = (item.score, category, item.at)
        answer_rows.append(
            {
                "survey_id": item.survey_id,
                "number": number,
                "score": item.score,
                "previous_score": previous,
                "answered_at": item.at,
            }
        )
        inputs.append(
            events.EventInput(
                "nps.answered",
                item.at,
                {
                    "survey_id": item.survey_id,
                    "score": item.score,
                    "category": category,
                    "service": services.get(row.service_id) if row.service_id else None,
                    "project_id": row.project_id,
                    "previous_score": previous,
                },
                f"nps.answered:{item.survey_id}:{number}",
                contact_id=row.contact_id,
            )
        )
        changed.append((n, number))
    event_ids: list[int | None] = []
    if answer_rows:
        session.execute(insert(NpsAnswer), answer_rows)
        session.execute(
            update(NpsSurvey),
            [
                {"id": sid, "score": score, "category": category, "answered_at": at}
                for sid, (score, category, at) in changes.items()
            ],
        )
        stored = events.store_known(session, inputs, source="nps")
        # Every change's event is new (its number is), and its contact is the locked
        # survey's: all are stored. Should one not be, the ids cannot be matched to
        # items; they are stored all the same and the tick's sweep processes them.
        event_ids = list(stored) if len(stored) == len(inputs) else [None] * len(inputs)
    for (n, number), event_id in zip(changed, event_ids, strict=True):
        outcome[n] = Scored(items[n], True, number, event_id)
    return outcome


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
    (done,) = record_scores(session, [ScoreItem(survey.id, survey.contact_id, score, now)])
    session.refresh(survey)
    return Answered(survey, done.changed, done.number or 0, done.event_id)


def _service_slugs(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Service.id, Service.slug).where(Service.id.in_(ids))).all())


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


def with_score(view: SurveyView, score: int) -> SurveyView:
    """The view as it will be once `score` (taken, not yet written) is stored."""
    category = nps_category(score).value
    return replace(view, score=score, category=category, follow_up_key=category)


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
