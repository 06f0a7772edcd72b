"""Surveys: made once per project and contact, the 90-day rule, signed links."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import NpsSurvey
from nurture.reviews import surveys
from nurture.reviews.projects import client_ids
from tests.reviews.helpers import BASE, NOW, SIGNER, report, sent_survey, service


def test_no_survey_without_a_completed_project(db: Session) -> None:
    outcome = report(db, status="active")
    (client,) = client_ids(db, outcome.project.id)
    assert surveys.survey_for(db, client, enrolment_id=None, now=NOW) is None
    assert db.scalar(select(func.count()).select_from(NpsSurvey)) == 0


def test_a_survey_is_made_once_for_the_latest_completed_project(db: Session) -> None:
    service(db, "audits")
    outcome = report(db, service="audits")
    (client,) = client_ids(db, outcome.project.id)
    first = surveys.survey_for(db, client, enrolment_id=None, now=NOW)
    again = surveys.survey_for(db, client, enrolment_id=None, now=NOW + timedelta(days=1))
    assert first is not None
    assert again is not None
    assert first.id == again.id
    assert first.project_id == outcome.project.id
    assert first.service_id == outcome.project.service_id
    assert first.expires_at == NOW + timedelta(days=surveys.SURVEY_VALID_DAYS)
    view = surveys.project_view(db, first)
    assert view["name"] == "Warehouse integration"
    assert view["company"] == "Harbor Freight"
    assert view["service"] == "Audits"
    assert view["completed_on"] == NOW.date().isoformat()


def test_a_second_project_within_90_days_gets_no_survey_and_after_90_days_it_does(
    db: Session,
) -> None:
    first = report(db)
    (client,) = client_ids(db, first.project.id)
    sent_survey(db, client, NOW)
    # The same survey still goes as a reminder: the rule is about other surveys.
    assert surveys.survey_for(db, client, enrolment_id=None, now=NOW + timedelta(days=5))

    later = NOW + timedelta(days=30)
    report(db, later, external_id="PRJ-2", name="Second project")
    assert surveys.survey_for(db, client, enrolment_id=None, now=later) is None

    much_later = NOW + timedelta(days=surveys.QUIET_DAYS + 1)
    survey = surveys.survey_for(db, client, enrolment_id=None, now=much_later)
    assert survey is not None
    assert surveys.project_view(db, survey)["name"] == "Second project"


def test_an_answered_survey_is_not_chosen_again(db: Session) -> None:
    outcome = report(db)
    (client,) = client_ids(db, outcome.project.id)
    survey = sent_survey(db, client)
    survey.answered_at = NOW
    survey.score = 9
    assert surveys.survey_for(db, client, enrolment_id=None, now=NOW) is None


def test_eleven_signed_score_links_distinct_per_survey(db: Session) -> None:
    outcome = report(db, clients=["a@client.example", "b@client.example"])
    a, b = client_ids(db, outcome.project.id)
    first = surveys.survey_for(db, a, enrolment_id=None, now=NOW)
    second = surveys.survey_for(db, b, enrolment_id=None, now=NOW)
    assert first is not None
    assert second is not None
    links = surveys.score_links(SIGNER, BASE + "/", first)
    assert len(links) == 11
    assert [link.rsplit("/", 1)[1] for link in links] == [str(n) for n in range(11)]
    token = links[0].split("/")[-2]
    assert all(link == f"{BASE}/nps/{token}/{n}" for n, link in enumerate(links))
    ref = SIGNER.verify_survey(token, today=NOW.date())
    assert (ref.item_id, ref.contact_id) == (first.id, a)
    assert ref.expires_on == first.expires_at.date()
    others = surveys.score_links(SIGNER, BASE, second)
    assert not set(links) & set(others)
    assert surveys.follow_up_url(SIGNER, BASE, first) == f"{BASE}/nps/{token}/follow-up"
