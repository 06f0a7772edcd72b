"""The demo's reviews: completed projects, answered surveys in every category, approved
testimonials and referrals at every status, loaded once per database for the module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from nurture.config import Settings
from nurture.db import session_scope
from nurture.demo.content import seed_demo_content, seed_demo_library
from nurture.demo.loader import load_demo
from nurture.demo.reviews import PROJECTS, REFERRALS, ReviewsResult, seed_demo_reviews
from nurture.models import (
    Contact,
    Event,
    NpsAnswer,
    NpsSurvey,
    Project,
    Referral,
    ReferralStatus,
    Sequence,
    utcnow,
)
from nurture.models import (
    Testimonial as QuoteRow,
)
from nurture.models import (
    TestimonialStatus as QuoteStatus,
)
from nurture.reports.nps import nps_report
from nurture.reports.nps_filter import NpsFilter
from nurture.reviews.default_sequence import SURVEY_SEQUENCE_NAME
from tests.conftest import BACKENDS, _empty_tables

# 800 contacts: enough companies with two or three contacts for the fourteen projects.
SCALE = 0.16


@dataclass(frozen=True, slots=True)
class Demo:
    url: str
    config: MailConfig
    result: ReviewsResult


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Demo]:
    url = database_urls[request.param]
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("demo-reviews")),
        database_url=url,
        secret_key="test-secret-" + "x" * 40,
    )
    config = MailConfig.from_settings(settings)
    with session_scope(url) as db:
        seed_demo_library(db)
        db.commit()
        load_demo(db, scale=SCALE)
        seed_demo_content(db)
        result = seed_demo_reviews(db, config=config, now=utcnow())
    yield Demo(url, config, result)
    _empty_tables(url)


@pytest.fixture
def db(demo: Demo) -> Iterator[Session]:
    with session_scope(demo.url) as session:
        yield session


def test_the_survey_sequence_is_installed_and_running(db: Session) -> None:
    status = db.scalar(select(Sequence.status).where(Sequence.name == SURVEY_SEQUENCE_NAME))
    assert status == "active"


def test_projects_were_completed_over_nine_months_across_services_and_managers(
    demo: Demo, db: Session
) -> None:
    assert demo.result.projects == len(PROJECTS)
    rows = db.execute(
        select(Project.completed_at, Project.service_id, Project.account_manager_id).where(
            Project.status == "completed"
        )
    ).all()
    assert len(rows) == len(PROJECTS)
    completed = [row.completed_at for row in rows]
    assert min(completed) < utcnow() - timedelta(days=240)
    assert max(completed) > utcnow() - timedelta(days=30)
    assert len({row.service_id for row in rows} - {None}) >= 6
    assert len({row.account_manager_id for row in rows} - {None}) == 2


def test_answered_surveys_in_every_category_with_follow_ups(demo: Demo, db: Session) -> None:
    categories: dict[str | None, int] = {
        category: count
        for category, count in db.execute(
            select(NpsSurvey.category, func.count()).group_by(NpsSurvey.category)
        )
    }
    assert categories.get("promoter", 0) >= 5
    assert categories.get("passive", 0) >= 3
    assert categories.get("detractor", 0) >= 3
    # Some clients never answered: the response rate is not 100%.
    assert categories.get(None, 0) >= 3
    answered = sum(n for category, n in categories.items() if category is not None)
    assert answered == demo.result.answers
    assert sum(categories.values()) == demo.result.surveys
    unsent = db.scalar(select(func.count()).where(NpsSurvey.sent_at.is_(None)))
    assert unsent == 0
    with_follow_up = db.scalar(
        select(func.count()).where(
            NpsSurvey.answered_at.is_not(None), NpsSurvey.follow_up.is_not(None)
        )
    )
    assert with_follow_up == answered


def test_each_answer_is_one_row_and_one_processed_event(demo: Demo, db: Session) -> None:
    rows = db.scalar(select(func.count()).select_from(NpsAnswer))
    # The demo's older history has nps.answered events of its own (from before surveys
    # existed, for the Promoters segment): the surveys' answers are the ones from "nps".
    answered = db.execute(
        select(Event.properties, Event.occurred_at, Event.processed_at).where(
            Event.type == "nps.answered", Event.source == "nps"
        )
    ).all()
    assert rows == demo.result.answers == len(answered)
    assert all(event.processed_at is not None for event in answered)
    for event in answered:
        survey = db.get(NpsSurvey, event.properties["survey_id"])
        assert survey is not None
        assert event.properties["score"] == survey.score
        assert event.properties["category"] == survey.category
        assert event.properties["project_id"] == survey.project_id
        assert event.properties["service"] is not None
        assert event.occurred_at == survey.answered_at
    # History, not news: nothing the demo wrote waits for a worker.
    unprocessed = db.scalar(
        select(func.count()).where(
            Event.type.in_(("project.completed", "nps.answered", "referral.submitted")),
            Event.processed_at.is_(None),
        )
    )
    assert unprocessed == 0


def test_promoters_approved_testimonials_with_their_consent(demo: Demo, db: Session) -> None:
    approved = list(db.scalars(select(QuoteRow).where(QuoteRow.status == QuoteStatus.APPROVED)))
    assert len(approved) == demo.result.testimonials >= 3
    for testimonial in approved:
        assert len(testimonial.quote) >= 20
        assert testimonial.display_name
        assert testimonial.consent
        assert testimonial.approved_at is not None
        survey = db.get(NpsSurvey, testimonial.survey_id)
        assert survey is not None
        assert survey.category == "promoter"
    assert {t.attribution for t in approved} >= {"name_company", "anonymous"}


def test_referrals_stand_at_every_status(demo: Demo, db: Session) -> None:
    statuses = set(db.scalars(select(Referral.status)))
    assert statuses == {status.value for status in ReferralStatus}
    assert demo.result.referrals == len(REFERRALS)
    for referral in db.scalars(select(Referral).where(Referral.status != "refused")):
        lead = db.get(Contact, referral.referred_contact_id)
        assert lead is not None
        assert lead.referred_by_id == referral.advocate_id
    refused = db.scalars(select(Referral).where(Referral.status == "refused")).one()
    assert refused.refusal == "self"
    rewarded = db.scalars(select(Referral).where(Referral.status == "rewarded")).one()
    assert rewarded.reward_state == "approved"
    assert rewarded.won_at is not None
    assert rewarded.qualified_at is not None


def test_a_second_run_adds_nothing(demo: Demo, db: Session) -> None:
    def totals() -> tuple[int, ...]:
        db.expire_all()
        return tuple(
            db.scalar(select(func.count()).select_from(model)) or 0
            for model in (Project, NpsSurvey, NpsAnswer, QuoteRow, Referral, Event, Sequence)
        )

    before = totals()
    assert seed_demo_reviews(db, config=demo.config, now=utcnow()) == ReviewsResult()
    db.commit()
    assert totals() == before


def test_the_nps_report_has_numbers_over_the_year_by_service_and_manager(
    demo: Demo, db: Session
) -> None:
    today = utcnow().date()
    report = nps_report(db, NpsFilter(start=today - timedelta(days=365), end=today))
    overall = report.overall
    assert overall.result.answers == demo.result.answers
    assert overall.sent == demo.result.surveys
    assert overall.result.score is not None
    assert overall.result.low is not None
    assert overall.result.high is not None
    assert overall.result.low < overall.result.score < overall.result.high
    assert len(report.breakdowns["service"]) >= 6
    assert len(report.breakdowns["manager"]) == 2
    assert len({group.key for group in report.breakdowns["industry"]}) >= 3
    months = [group for group in report.trend if group.result.answers]
    assert len(months) >= 8
