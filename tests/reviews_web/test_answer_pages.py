"""The NPS answer pages: a GET records nothing, scanners never vote, a person's score is
stored once, the follow-up is asked and kept, bad links are refused, posts are throttled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Event, NpsSurvey, utcnow
from nurture.ratelimit import Limit
from nurture.web.public import surveys as survey_pages
from nurture.web.public.state import tracking_of
from templates.render import signer_for
from templates.tokens import TokenSigner
from tests.reviews_web.helpers import (
    HEADLESS_AGENT,
    HUMAN_AGENT,
    answer_counts,
    form_path,
    make_survey,
    make_testimonial,
    survey_path,
)

Client = TestClient[Litestar]
HUMAN = {"accept": "text/html", "user-agent": HUMAN_AGENT}
SCANNERS = [
    HEADLESS_AGENT,
    "Mozilla/5.0 (compatible; Microsoft Office SafeLinks)",
    "python-requests/2.32.3",
    "",
]


@pytest.fixture
def signer(settings: Settings) -> TokenSigner:
    return signer_for(settings.secret_key)


def counts(client: Client, db: Session) -> tuple[int, int]:
    """(nps_answers rows, nps.answered events) once the app's answer recorder has
    written every score it took."""
    assert tracking_of(client.app).answers.drain()
    return answer_counts(db)


def test_following_every_score_link_records_nothing(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    for score in range(11):
        for agent in [HUMAN_AGENT, *SCANNERS]:
            page = client.get(survey_path(signer, survey, score), headers={"user-agent": agent})
            assert page.status_code == 200
            assert f"You chose {score} out of 10." in page.text
    # Scanners that only ask with HEAD get no page at all.
    assert client.head(survey_path(signer, survey, 7)).status_code == 405
    assert counts(client, db) == (0, 0)


def test_the_confirm_page_posts_the_score_and_marks_the_post_automatic_only_by_script(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    page = client.get(survey_path(signer, survey, 9), headers=HUMAN)

    assert 'action="/nps/' in page.text
    assert '<input type="hidden" name="score" value="9">' in page.text
    assert '<input type="hidden" name="auto" value="1" disabled>' in page.text
    assert '<script src="/static/app/nps-confirm.js" defer></script>' in page.text
    assert "Send my score: 9" in page.text
    assert client.get("/static/app/nps-confirm.js").status_code == 200


@pytest.mark.parametrize("agent", SCANNERS)
def test_an_automatic_post_from_a_machine_records_nothing_and_asks_for_the_button(
    db: Session, client: Client, signer: TokenSigner, agent: str
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 10).rsplit("/", 1)[0]

    answered = client.post(
        token_path,
        data={"score": "10", "auto": "1"},
        headers={"user-agent": agent},
        follow_redirects=False,
    )

    assert answered.status_code == 200
    assert "please press the button" in answered.text
    # The page asked again cannot submit itself: no automatic field, no script.
    assert 'name="auto"' not in answered.text
    assert "nps-confirm.js" not in answered.text
    assert counts(client, db) == (0, 0)


def test_an_automatic_post_within_seconds_of_the_sending_is_a_scanner(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db, sent_at=utcnow() - timedelta(seconds=2))
    token_path = survey_path(signer, survey, 10).rsplit("/", 1)[0]

    auto = client.post(
        token_path, data={"score": "10", "auto": "1"}, headers=HUMAN, follow_redirects=False
    )
    assert auto.status_code == 200
    assert counts(client, db) == (0, 0)

    # The person pressing the button is recorded at once.
    pressed = client.post(token_path, data={"score": "10"}, headers=HUMAN, follow_redirects=False)
    assert pressed.status_code == 303
    assert counts(client, db) == (1, 1)


def test_a_person_records_once_and_a_repeat_changes_nothing(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 8).rsplit("/", 1)[0]
    form = {"score": "8", "auto": "1"}

    first = client.post(token_path, data=form, headers=HUMAN, follow_redirects=False)
    second = client.post(token_path, data=form, headers=HUMAN, follow_redirects=False)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == f"{token_path}/follow-up"
    assert counts(client, db) == (1, 1)
    db.expire_all()
    stored = db.get(NpsSurvey, survey.id)
    assert stored is not None
    assert (stored.score, stored.category) == (8, "passive")

    # A later click on another score is a change, logged with what it replaced.
    changed = client.post(token_path, data={"score": "10"}, headers=HUMAN, follow_redirects=False)
    assert changed.status_code == 303
    assert counts(client, db) == (2, 2)
    latest = db.scalars(
        select(Event).where(Event.type == "nps.answered").order_by(Event.id.desc())
    ).first()
    assert latest is not None
    assert latest.properties["score"] == 10
    assert latest.properties["previous_score"] == 8
    assert latest.properties["category"] == "promoter"


@pytest.mark.parametrize(
    ("score", "question"),
    [
        (10, "What did you value most in working with us?"),
        (7, "What would have made it a 10?"),
        (3, "What went wrong? We want to put it right."),
    ],
)
def test_the_follow_up_asks_the_question_of_the_category(
    db: Session, client: Client, signer: TokenSigner, score: int, question: str
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, score).rsplit("/", 1)[0]
    client.post(token_path, data={"score": str(score)}, headers=HUMAN)

    page = client.get(f"{token_path}/follow-up", headers=HUMAN)

    assert page.status_code == 200
    assert question in page.text
    assert f"Your score is saved: {score} out of 10." in page.text
    assert f'value="{score}" checked' in page.text


def test_the_follow_up_answer_and_a_changed_score_are_stored(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 4).rsplit("/", 1)[0]
    client.post(token_path, data={"score": "4"}, headers=HUMAN)

    sent = client.post(
        f"{token_path}/follow-up",
        data={"follow_up": "The report came late.", "comment": "", "score": "6"},
        headers=HUMAN,
        follow_redirects=False,
    )

    assert sent.status_code == 303
    assert sent.headers["location"] == f"{token_path}/thanks"
    db.expire_all()
    stored = db.get(NpsSurvey, survey.id)
    assert stored is not None
    assert (stored.follow_up, stored.comment, stored.score) == ("The report came late.", None, 6)
    assert counts(client, db) == (2, 2)
    thanks = client.get(sent.headers["location"], headers=HUMAN)
    assert "Thank you for your answer" in thanks.text


def test_a_too_long_follow_up_comes_back_with_the_field_named_and_the_text_kept(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 9).rsplit("/", 1)[0]
    client.post(token_path, data={"score": "9"}, headers=HUMAN)
    long = "x" * 2001

    sent = client.post(
        f"{token_path}/follow-up",
        data={"follow_up": "Great team.", "comment": long, "score": "9"},
        headers=HUMAN,
    )

    assert sent.status_code == 422
    assert 'id="pp-comment-error"' in sent.text
    assert "Please keep this under 2000 characters." in sent.text
    assert "Great team." in sent.text
    db.expire_all()
    stored = db.get(NpsSurvey, survey.id)
    assert stored is not None
    assert stored.follow_up is None


def test_tampered_expired_foreign_and_wrong_purpose_links_are_refused(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    mine = make_survey(db)
    theirs = make_survey(db, first_name="Oskar")
    good = survey_path(signer, mine, 9).split("/")[2]
    flipped = ("A" if good[10] != "A" else "B").join((good[:10], good[11:]))
    expired = signer.survey(mine.id, mine.contact_id, utcnow().date() - timedelta(days=1))
    # Genuinely signed, but for another contact than the survey's: no cross-answering.
    foreign = signer.survey(mine.id, theirs.contact_id, utcnow().date() + timedelta(days=5))
    wrong_purpose = form_path(signer, make_testimonial(db)).split("/")[2]

    for token in (flipped, expired, foreign, wrong_purpose, "not-a-token"):
        for path in (f"/nps/{token}/9", f"/nps/{token}/follow-up", f"/nps/{token}/thanks"):
            page = client.get(path, headers=HUMAN)
            assert page.status_code == 400, (token, path)
            assert "This link does not work" in page.text
            assert "survey" not in page.text.lower()
        post = client.post(
            f"/nps/{token}", data={"score": "9"}, headers=HUMAN, follow_redirects=False
        )
        follow = client.post(f"/nps/{token}/follow-up", data={"score": "9"}, headers=HUMAN)
        assert follow.status_code == 400
        # The answer post trusts the signature alone, without reading the database:
        # a token the app never makes (survey and contact that do not belong together)
        # is taken, and the writer drops it; every other bad token is refused at once.
        assert post.status_code == (303 if token == foreign else 400), token
    # A stranger's browser language is all a refused link has to go by.
    russian = client.get(f"/nps/{flipped}/9", headers={**HUMAN, "accept-language": "ru"})
    assert '<html lang="ru">' in russian.text
    assert "Эта ссылка не работает" in russian.text
    assert counts(client, db) == (0, 0)


def test_a_score_outside_the_scale_is_refused(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 9).rsplit("/", 1)[0]

    assert client.get(f"{token_path}/11", headers=HUMAN).status_code == 404
    assert client.get(f"{token_path}/-1", headers=HUMAN).status_code == 404
    assert client.post(token_path, data={"score": "11"}, headers=HUMAN).status_code == 422
    assert client.post(token_path, data={}, headers=HUMAN).status_code == 422
    assert counts(client, db) == (0, 0)


def test_a_russian_contact_reads_russian_pages(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db, locale="ru", first_name="Анна")
    token_path = survey_path(signer, survey, 3).rsplit("/", 1)[0]

    confirm = client.get(f"{token_path}/3", headers=HUMAN)
    client.post(token_path, data={"score": "3"}, headers=HUMAN)
    follow = client.get(f"{token_path}/follow-up", headers=HUMAN)

    assert '<html lang="ru">' in confirm.text
    assert "Отправить оценку: 3" in confirm.text
    assert "Спасибо, Анна!" in follow.text
    assert "Что пошло не так? Мы хотим это исправить." in follow.text


def test_answer_posts_are_throttled_per_address(
    db: Session, client: Client, signer: TokenSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A window far longer than the test, so no window boundary falls inside it.
    monkeypatch.setattr(survey_pages, "ANSWERS_PER_ADDRESS", Limit("test-nps", 3, 10**9))
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 9).rsplit("/", 1)[0]

    answers = [
        client.post(token_path, data={"score": "9"}, headers=HUMAN, follow_redirects=False)
        for _ in range(4)
    ]

    assert [a.status_code for a in answers] == [303, 303, 303, 429]
    assert int(answers[-1].headers["retry-after"]) > 0
    assert "Too many attempts" in answers[-1].text
    assert counts(client, db) == (1, 1)


def test_an_expired_link_is_refused_in_its_contacts_language(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db, locale="ru")
    expired = signer.survey(survey.id, survey.contact_id, utcnow().date() - timedelta(days=1))

    for answer in (
        client.get(f"/nps/{expired}/9", headers=HUMAN),
        client.post(f"/nps/{expired}", data={"score": "9"}, headers=HUMAN),
    ):
        assert answer.status_code == 400
        assert '<html lang="ru">' in answer.text
        assert "Эта ссылка не работает" in answer.text
    assert counts(client, db) == (0, 0)


def test_a_bad_token_is_refused_at_once_and_nothing_is_buffered(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    good = survey_path(signer, survey, 9).split("/")[2]
    flipped = ("A" if good[10] != "A" else "B").join((good[:10], good[11:]))
    recorder = tracking_of(client.app).answers

    # The writer is held: whatever a post took would still be in the buffer.
    with recorder._flushing:
        refused = client.post(f"/nps/{flipped}", data={"score": "9"}, headers=HUMAN)
        assert refused.status_code == 400
        assert "This link does not work" in refused.text
        assert recorder.unwritten() == []
    assert counts(client, db) == (0, 0)


def test_the_follow_up_shows_the_score_just_given_before_it_is_written(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 3).rsplit("/", 1)[0]
    recorder = tracking_of(client.app).answers

    with recorder._flushing:
        client.post(token_path, data={"score": "9"}, headers=HUMAN, follow_redirects=False)
        client.post(token_path, data={"score": "3"}, headers=HUMAN, follow_redirects=False)
        page = client.get(f"{token_path}/follow-up", headers=HUMAN)
        # Nothing written yet: the page shows the latest score still in the buffer.
        assert answer_counts(db) == (0, 0)
    assert "What went wrong? We want to put it right." in page.text
    assert "Your score is saved: 3 out of 10." in page.text
    assert counts(client, db) == (2, 2)


def test_a_follow_up_post_writes_the_buffered_score_before_its_own(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    survey = make_survey(db)
    token_path = survey_path(signer, survey, 4).rsplit("/", 1)[0]
    recorder = tracking_of(client.app).answers
    recorder._interval = 3600  # the writer thread leaves the buffer to the follow-up post

    client.post(token_path, data={"score": "4"}, headers=HUMAN, follow_redirects=False)
    sent = client.post(
        f"{token_path}/follow-up",
        data={"follow_up": "", "comment": "", "score": "8"},
        headers=HUMAN,
        follow_redirects=False,
    )

    assert sent.status_code == 303
    assert answer_counts(db) == (2, 2)
    db.expire_all()
    stored = db.get(NpsSurvey, survey.id)
    assert stored is not None
    assert (stored.score, stored.category) == (8, "passive")
