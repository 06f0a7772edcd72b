"""The default survey sequence and the engine pieces reviews registers."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from campaigns.sequences import content_steps, definition, tasks, versions
from nurture.models import (
    Contact,
    EmailMessage,
    EmailTemplate,
    Enrolment,
    NpsSurvey,
    Sequence,
    SequenceStatus,
)
from nurture.reviews import default_sequence, steps
from nurture.reviews.projects import client_ids
from templates.message import Address
from tests.factories import make_user
from tests.reviews.helpers import BASE, NOW, SECRET, report


def test_installing_makes_one_active_valid_sequence_and_twice_changes_nothing(
    db: Session,
) -> None:
    assert default_sequence.active_survey_sequence(db) is None
    sequence = default_sequence.install_survey_sequence(db, actor="test", delay_days=4)
    db.commit()
    assert sequence.status == SequenceStatus.ACTIVE.value
    body = versions.current_version(db, sequence).definition
    flow = definition.parse_checked(db, body)
    assert flow.triggers[0]["event"] == "project.completed"
    assert flow.exclude_customers is False
    assert flow.reenrol == "after_finish"
    assert body["steps"][0]["duration"] == {"days": 4}
    asks = {s.spec["ask"] for s in flow.steps.values() if s.type == "review_email"}
    assert asks == {"nps", "feedback", "testimonial", "referral"}
    task = flow.steps["call-detractor"].spec
    assert task["assign_to"] == "account_manager"
    assert task["due_in_working_days"] == 1
    assert task["escalate"] is True
    starters = set(db.scalars(select(EmailTemplate.starter_name)))
    assert set(default_sequence.STARTERS.values()) <= starters

    templates = db.scalar(select(func.count()).select_from(EmailTemplate))
    again = default_sequence.install_survey_sequence(db, actor="test")
    db.commit()
    assert again.id == sequence.id
    assert db.scalar(select(func.count()).select_from(Sequence)) == 1
    assert db.scalar(select(func.count()).select_from(EmailTemplate)) == templates
    assert default_sequence.active_survey_sequence(db) is not None


def test_register_provides_the_four_asks_and_the_account_manager(db: Session) -> None:
    steps.register()
    steps.register()
    for ask in ("nps", "feedback", "testimonial", "referral"):
        assert content_steps.registered(f"review_email:{ask}") is not None
    assert tasks.registered_assignee("account_manager") is steps.account_manager


def test_the_nps_kind_picks_the_survey_links_it_and_stamps_sending(db: Session) -> None:
    steps.register()
    manager = make_user(db, email="am@firm.test")
    outcome = report(db, account_manager="am@firm.test")
    sequence = default_sequence.install_survey_sequence(db, actor="test")
    (contact_id,) = client_ids(db, outcome.project.id)
    enrolment = Enrolment(
        sequence_id=sequence.id,
        version_id=sequence.current_version_id,
        contact_id=contact_id,
        step_key="survey",
    )
    db.add(enrolment)
    db.flush()
    kind = content_steps.registered("review_email:nps")
    assert kind is not None
    contact = db.get(Contact, contact_id)
    assert contact is not None
    survey_id = kind.choose(db, contact, {}, NOW, enrolment)
    assert survey_id is not None
    config = MailConfig(base_url=BASE, secret=SECRET, sender=Address("a@firm.test", "Firm"))
    context = kind.context(db, survey_id, contact, config)
    assert context is not None
    assert len(context["nps_links"]) == 11
    assert context["project"]["name"] == "Warehouse integration"
    assert context["project"]["account_manager"] == manager.name
    assert steps.account_manager(db, contact, enrolment) == manager.id
    survey = db.get(NpsSurvey, survey_id)
    assert survey is not None
    assert survey.enrolment_id == enrolment.id
    assert kind.after_sent is not None
    message = EmailMessage(id=1)
    kind.after_sent(db, survey_id, message, NOW)
    assert (survey.sent_at, survey.reminded_at) == (NOW, None)
    kind.after_sent(db, survey_id, message, NOW)
    assert survey.reminded_at == NOW
