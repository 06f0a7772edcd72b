"""Recording scores from survey links: refused tokens, once per score, changes logged,
racing first answers stored once; the follow-up answer."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.db import session_scope
from nurture.errors import InvalidInput, NotFound
from nurture.models import Event, NpsAnswer, NpsSurvey
from nurture.reviews import answers, surveys
from nurture.reviews.projects import client_ids
from templates.render import signer_for
from templates.tokens import TokenExpired, TokenForged, TokenWrongPurpose
from tests.conftest import _empty_tables
from tests.reviews.helpers import NOW, SIGNER, report, sent_survey, service


def made_survey(db: Session, **fields: Any) -> NpsSurvey:
    outcome = report(db, **fields)
    return sent_survey(db, client_ids(db, outcome.project.id)[0])


def token_of(survey: NpsSurvey) -> str:
    return surveys.token(SIGNER, survey)


def answered_events(db: Session) -> list[Event]:
    return list(db.scalars(select(Event).where(Event.type == "nps.answered").order_by(Event.id)))


def test_a_score_is_recorded_once_and_a_change_is_a_second_answer(db: Session) -> None:
    service(db, "audits")
    survey = made_survey(db, service="audits")
    token = token_of(survey)

    first = answers.record_score(db, token, 6, signer=SIGNER, now=NOW)
    same = answers.record_score(db, token, 6, signer=SIGNER, now=NOW + timedelta(minutes=1))
    changed = answers.record_score(db, token, 9, signer=SIGNER, now=NOW + timedelta(hours=1))
    db.commit()

    assert (first.changed, first.number) == (True, 1)
    assert first.event_id is not None
    assert (same.changed, same.number, same.event_id) == (False, 1, None)
    assert (changed.changed, changed.number) == (True, 2)
    rows = list(db.scalars(select(NpsAnswer).order_by(NpsAnswer.number)))
    assert [(r.number, r.score, r.previous_score) for r in rows] == [(1, 6, None), (2, 9, 6)]
    db.refresh(survey)
    assert (survey.score, survey.category) == (9, "promoter")
    found = answered_events(db)
    assert [e.idempotency_key for e in found] == [
        f"nps.answered:{survey.id}:1",
        f"nps.answered:{survey.id}:2",
    ]
    assert found[0].properties == {
        "survey_id": survey.id,
        "score": 6,
        "category": "detractor",
        "service": "audits",
        "project_id": survey.project_id,
        "previous_score": None,
    }
    assert found[1].properties["previous_score"] == 6
    assert found[1].properties["category"] == "promoter"
    assert found[1].contact_id == survey.contact_id


def test_a_tampered_token_is_refused(db: Session) -> None:
    token = token_of(made_survey(db))
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(TokenForged):
        answers.record_score(db, tampered, 7, signer=SIGNER, now=NOW)
    with pytest.raises(TokenForged):
        answers.record_score(db, token, 7, signer=signer_for("another-secret" * 4), now=NOW)
    assert answered_events(db) == []


def test_an_expired_token_is_refused(db: Session) -> None:
    survey = made_survey(db)
    token = token_of(survey)
    last_day = survey.expires_at.date()
    page = answers.survey_page(db, token, signer=SIGNER, today=last_day)
    assert page.survey_id == survey.id
    with pytest.raises(TokenExpired):
        answers.survey_page(db, token, signer=SIGNER, today=last_day + timedelta(days=1))
    later = NOW + timedelta(days=surveys.SURVEY_VALID_DAYS + 1)
    with pytest.raises(TokenExpired):
        answers.record_score(db, token, 10, signer=SIGNER, now=later)
    assert db.scalar(select(func.count()).select_from(NpsAnswer)) == 0


def test_a_token_for_another_survey_or_purpose_cannot_answer(db: Session) -> None:
    outcome = report(db, clients=["a@client.example", "b@client.example"])
    a, b = client_ids(db, outcome.project.id)
    survey_a = sent_survey(db, a)
    survey_b = sent_survey(db, b)
    # Signed by us, naming survey B but A's contact: refused.
    crossed = SIGNER.survey(survey_b.id, survey_a.contact_id, date(2026, 12, 31))
    with pytest.raises(TokenForged):
        answers.record_score(db, crossed, 10, signer=SIGNER, now=NOW)
    testimonial = SIGNER.testimonial(survey_a.id, survey_a.contact_id, date(2026, 12, 31))
    with pytest.raises(TokenWrongPurpose):
        answers.record_score(db, testimonial, 10, signer=SIGNER, now=NOW)
    gone = SIGNER.survey(999_999, survey_a.contact_id, date(2026, 12, 31))
    with pytest.raises(NotFound):
        answers.record_score(db, gone, 10, signer=SIGNER, now=NOW)
    assert db.scalar(select(func.count()).select_from(NpsAnswer)) == 0


@pytest.mark.parametrize("score", [-1, 11, "7", 7.0, True, None])
def test_a_score_must_be_a_whole_number_from_0_to_10(db: Session, score: object) -> None:
    token = token_of(made_survey(db))
    with pytest.raises(InvalidInput) as caught:
        answers.record_score(db, token, score, signer=SIGNER, now=NOW)
    assert [p.field for p in caught.value.problems] == ["score"]


def test_the_survey_page_and_follow_up(db: Session) -> None:
    survey = made_survey(db)
    token = token_of(survey)
    answers.record_score(db, token, 8, signer=SIGNER, now=NOW)
    view = answers.survey_page(db, token, signer=SIGNER, today=NOW.date())
    assert view.locale == "en"
    assert view.first_name == "Emma"
    assert view.project_name == "Warehouse integration"
    assert view.company_name == "Harbor Freight"
    assert (view.score, view.category, view.follow_up_key) == (8, "passive", "passive")

    with pytest.raises(InvalidInput) as caught:
        answers.record_follow_up(
            db, token, signer=SIGNER, follow_up="ok", comment="x" * 2001, now=NOW
        )
    assert [p.field for p in caught.value.problems] == ["comment"]
    stored = answers.record_follow_up(
        db, token, signer=SIGNER, follow_up="  Faster updates  ", comment=None, now=NOW
    )
    assert (stored.follow_up, stored.comment, stored.commented_at) == ("Faster updates", None, NOW)
    commented = db.scalars(select(Event).where(Event.type == "nps.commented")).all()
    assert [e.properties for e in commented] == [{"survey_id": survey.id}]


def test_racing_identical_first_answers_store_one(database_urls: dict[str, str]) -> None:
    """Row locks are PostgreSQL's (SQLite takes one writer at a time), so PostgreSQL only."""
    url = database_urls["postgresql"]
    try:
        with session_scope(url) as db:
            token = token_of(made_survey(db))
        start = threading.Barrier(8)
        results: list[answers.Answered] = []
        errors: list[Exception] = []

        def click() -> None:
            try:
                with session_scope(url) as session:
                    start.wait()
                    results.append(answers.record_score(session, token, 10, signer=SIGNER, now=NOW))
            except Exception as exc:  # noqa: BLE001 - the assertions below report it
                errors.append(exc)

        threads = [threading.Thread(target=click) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(r.changed for r in results) == [False] * 7 + [True]
        with session_scope(url) as db:
            assert db.scalar(select(func.count()).select_from(NpsAnswer)) == 1
            assert len(answered_events(db)) == 1
    finally:
        _empty_tables(url)


def two_surveys(db: Session) -> tuple[NpsSurvey, NpsSurvey]:
    service(db, "audits")
    outcome = report(
        db,
        service="audits",
        clients=[{"email": "emma@client.example"}, {"email": "oskar@client.example"}],
    )
    first, second = client_ids(db, outcome.project.id)
    pair = (sent_survey(db, first), sent_survey(db, second))
    db.commit()
    return pair


def item(survey: NpsSurvey, score: int, minutes: int) -> answers.ScoreItem:
    return answers.ScoreItem(survey.id, survey.contact_id, score, NOW + timedelta(minutes=minutes))


def stored_answers(db: Session) -> list[tuple[int, int, int, int | None]]:
    db.expire_all()
    rows = db.execute(
        select(
            NpsAnswer.survey_id, NpsAnswer.number, NpsAnswer.score, NpsAnswer.previous_score
        ).order_by(NpsAnswer.survey_id, NpsAnswer.number)
    ).all()
    return [(s, n, score, previous) for s, n, score, previous in rows]


def test_a_batch_stores_each_change_once_in_order_and_skips_repeats(db: Session) -> None:
    emma, oskar = two_surveys(db)
    batch = [
        item(emma, 5, 1),
        item(oskar, 10, 1),
        item(emma, 5, 2),  # a repeat: nothing
        item(emma, 9, 3),
        item(oskar, 10, 4),  # a repeat: nothing
        item(emma, 9, 5),  # a repeat: nothing
        item(emma, 3, 6),
    ]
    done = answers.record_scores(db, batch)
    db.commit()

    assert [(d.changed, d.number) for d in done] == [
        (True, 1),
        (True, 1),
        (False, 1),
        (True, 2),
        (False, 1),
        (False, 2),
        (True, 3),
    ]
    assert stored_answers(db) == [
        (emma.id, 1, 5, None),
        (emma.id, 2, 9, 5),
        (emma.id, 3, 3, 9),
        (oskar.id, 1, 10, None),
    ]
    found = answered_events(db)
    assert sorted(e.idempotency_key or "" for e in found) == sorted(
        [f"nps.answered:{emma.id}:{n}" for n in (1, 2, 3)] + [f"nps.answered:{oskar.id}:1"]
    )
    assert sorted(d.event_id for d in done if d.event_id) == sorted(e.id for e in found)
    last = next(e for e in found if e.idempotency_key == f"nps.answered:{emma.id}:3")
    assert last.properties == {
        "survey_id": emma.id,
        "score": 3,
        "category": "detractor",
        "service": "audits",
        "project_id": emma.project_id,
        "previous_score": 9,
    }
    db.refresh(emma)
    assert (emma.score, emma.category, emma.answered_at) == (3, "detractor", batch[-1].at)


def test_a_batch_written_again_after_its_commit_adds_nothing(db: Session) -> None:
    emma, oskar = two_surveys(db)
    batch = [item(emma, 5, 1), item(emma, 9, 2), item(emma, 9, 3), item(oskar, 2, 1)]
    answers.record_scores(db, batch)
    db.commit()
    before = (stored_answers(db), len(answered_events(db)))

    # The writer's retry: the first commit went through but its answer was lost.
    again = answers.record_scores(db, batch)
    db.commit()

    assert [d.changed for d in again] == [False] * 4
    assert (stored_answers(db), len(answered_events(db))) == before
    # A later batch that goes on from there is stored as usual.
    later = answers.record_scores(db, [*batch, item(emma, 10, 4)])
    db.commit()
    assert [d.changed for d in later] == [False] * 4 + [True]
    assert stored_answers(db)[-2] == (emma.id, 3, 10, 9)


def test_a_score_older_than_the_stored_answer_and_foreign_or_gone_items_store_nothing(
    db: Session,
) -> None:
    emma, oskar = two_surveys(db)
    answers.record_scores(db, [item(emma, 8, 10)])
    db.commit()

    done = answers.record_scores(
        db,
        [
            item(emma, 2, 5),  # given before the stored answer: stale
            answers.ScoreItem(oskar.id, emma.contact_id, 4, NOW),  # not emma's survey
            answers.ScoreItem(oskar.id + emma.id + 1000, emma.contact_id, 4, NOW),  # gone
        ],
    )
    db.commit()

    assert [(d.changed, d.number) for d in done] == [(False, 1), (False, None), (False, None)]
    assert stored_answers(db) == [(emma.id, 1, 8, None)]
