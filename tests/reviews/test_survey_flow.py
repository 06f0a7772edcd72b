"""The default survey sequence through the real engine: completion, survey with its
links, the answer, the reminder that sends nothing, and the promoter's route."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences.engine import Mailer
from nurture import models
from nurture.config import Settings
from nurture.models import CapturedEmail, Event, NpsSurvey, Task
from nurture.reviews import answers, default_sequence, steps, surveys
from nurture.reviews.projects import client_ids
from tests.factories import make_user
from tests.reviews.helpers import NOW, report
from tests.sequences.helpers import drive, enrol, outcomes


def test_a_promoter_goes_from_completion_to_the_testimonial_request(
    db: Session, settings: Settings
) -> None:
    steps.register()
    config = MailConfig.from_settings(settings)
    mailer = Mailer(transport_for(settings), config)
    outcome = report(db)
    sequence = default_sequence.install_survey_sequence(db, actor="test")
    db.commit()
    (contact_id,) = client_ids(db, outcome.project.id)
    enrolment_id = enrol(db, sequence.id, contact_id, NOW)

    drive(db, enrolment_id, NOW, mailer)
    assert db.scalars(select(CapturedEmail)).all() == []

    sent_at = NOW + timedelta(days=3, minutes=1)
    drive(db, enrolment_id, sent_at, mailer)
    survey = db.scalars(select(NpsSurvey)).one()
    assert survey.sent_at == sent_at
    assert survey.enrolment_id == enrolment_id
    assert len(db.scalars(select(CapturedEmail)).all()) == 1
    sent = db.scalars(select(Event).where(Event.type == "nps.sent")).one()
    assert sent.properties["survey_id"] == survey.id

    answered_at = sent_at + timedelta(hours=2)
    token = surveys.token(config.signer, survey)
    answers.record_score(db, token, 10, signer=config.signer, now=answered_at)
    db.commit()
    drive(db, enrolment_id, answered_at + timedelta(minutes=1), mailer)
    done = outcomes(db, enrolment_id)
    assert done["reminder"] == "none_fitting", done
    assert "testimonial" in done, done
    db.expire_all()
    assert db.scalar(select(models.Testimonial.survey_id)) == survey.id
    assert len(db.scalars(select(CapturedEmail)).all()) == 2


def test_a_detractor_gets_a_call_task_for_the_account_manager(
    db: Session, settings: Settings
) -> None:
    steps.register()
    config = MailConfig.from_settings(settings)
    mailer = Mailer(transport_for(settings), config)
    manager = make_user(db, role="sales", email="am@firm.test")
    outcome = report(db, account_manager="am@firm.test")
    sequence = default_sequence.install_survey_sequence(db, actor="test")
    db.commit()
    (contact_id,) = client_ids(db, outcome.project.id)
    enrolment_id = enrol(db, sequence.id, contact_id, NOW)
    sent_at = NOW + timedelta(days=3, minutes=1)
    drive(db, enrolment_id, NOW, mailer)
    drive(db, enrolment_id, sent_at, mailer)
    survey = db.scalars(select(NpsSurvey)).one()
    answers.record_score(
        db, surveys.token(config.signer, survey), 3, signer=config.signer, now=sent_at
    )
    db.commit()
    drive(db, enrolment_id, sent_at + timedelta(hours=2), mailer)
    task = db.scalars(select(Task).where(Task.contact_id == contact_id)).one()
    assert task.assignee_id == manager.id
    assert task.escalate is True
    assert "feedback" not in outcomes(db, enrolment_id)
